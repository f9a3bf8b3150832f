/**
 * Layer: cni (process edge).
 *
 * The `ipam` section of the plugin config. Two kinds (docs/cni.md, "IPAM"):
 *
 * - `"type": "nsbox"`: nsbox's own IPAM (leases in nsbox's store, one transaction each, safe
 *   across processes). It reads host-local's vocabulary, so a host-local section works by
 *   changing its type: `ranges` (range sets of `{subnet, gateway}`), the legacy top-level
 *   `subnet`/`gateway` (prepended as the first range set, as host-local does) and `routes`. An
 *   nsbox network has at most one IPv4 and one IPv6 subnet, allocated from whole: a range set of
 *   several subnets, a second set of one family, `rangeStart`/`rangeEnd`, `dataDir` and
 *   `resolvConf` are refused (code 2). Subnets and gateways follow the network layer's rules
 *   (network/ipam.ts: no host bits, room for a gateway and a host, the gateway a host address).
 * - any other type: a delegated IPAM plugin (host-local, static, dhcp, …), run from CNI_PATH
 *   with the same stdin and environment (SPEC §4); the rest of the section is its business.
 *
 * No `ipam` or one without a type (the bridge plugin's L2-only mode) is refused: an nsbox
 * bridge network always has a subnet.
 */
import { ConfigError } from '../errors.js';
import { defaultGateway, checkGateway, parseSubnet, type Subnet } from '../network/ipam.js';
import { invalidField, unsupportedField } from './errors.js';
import { fieldPath, isJsonObject, optArray, optIp, optObject, optString, type JsonObject } from './fields.js';
import { decodeRoute, type CniRoute } from './result.js';

/** The `ipam.type` of nsbox's own IPAM. */
export const NSBOX_IPAM = 'nsbox';

/** One subnet of nsbox's IPAM and its gateway (given, or the subnet's first host address). */
export interface IpamRange {
  subnet: Subnet;
  gateway: string;
}

export type IpamConfig =
  /** nsbox's own IPAM: at most one range per family, IPv4 first when both are given. */
  | { kind: 'nsbox'; ranges: IpamRange[]; routes: CniRoute[] }
  /** A delegated IPAM plugin, by its `type` (a file name in CNI_PATH). */
  | { kind: 'delegate'; type: string };

/** A plugin `type` names a file: not empty, no '/' or '\', not '.' or '..' (SPEC §1). */
export function checkPluginType(type: string, field: string): void {
  if (type === '' || /[/\\]/.test(type) || type === '.' || type === '..') {
    throw invalidField(field, `${JSON.stringify(type)} is not a plugin name (a file name: no '/' or '\\', not "." or "..")`);
  }
}

/** `ipam.type`, read alone (DEL and GC need no more): undefined when there is no `ipam` or no type. */
export function readIpamType(raw: JsonObject): string | undefined {
  const ipam = optObject(raw, 'ipam', '');
  if (ipam === undefined) return undefined;
  const type = optString(ipam, 'type', 'ipam');
  if (type === undefined || type === '') return undefined;
  checkPluginType(type, 'ipam.type');
  return type;
}

/** A network-layer ConfigError as code 7 at `field`. */
function asInvalid<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ConfigError) throw invalidField(field, err.message);
    throw err;
  }
}

/** One range object of nsbox's IPAM. */
function parseRange(value: unknown, path: string): IpamRange {
  if (!isJsonObject(value)) throw invalidField(path, 'expected an object with "subnet"');
  for (const key of ['rangeStart', 'rangeEnd'] as const) {
    if (value[key] !== undefined && value[key] !== null) {
      throw unsupportedField(fieldPath(path, key), value[key], 'nsbox allocates from the whole subnet (all but the network, gateway and broadcast addresses); give a smaller subnet instead');
    }
  }
  const text = optString(value, 'subnet', path);
  if (text === undefined) throw invalidField(fieldPath(path, 'subnet'), 'missing: a subnet such as 10.88.0.0/16');
  const subnet = asInvalid(fieldPath(path, 'subnet'), () => parseSubnet(text));
  const given = optIp(value, 'gateway', path, 'none');
  const gateway = given ?? defaultGateway(subnet);
  asInvalid(fieldPath(path, 'gateway'), () => checkGateway(subnet, gateway));
  return { subnet, gateway };
}

/** nsbox's own IPAM section (`ipam.type` is "nsbox"). */
function parseNsboxIpam(ipam: JsonObject, runtimeConfig: JsonObject | undefined): IpamConfig {
  for (const key of ['dataDir', 'resolvConf'] as const) {
    if (ipam[key] !== undefined && ipam[key] !== null) {
      const why = key === 'dataDir' ? 'nsbox keeps its leases in its own state store, not in files' : 'nsbox does not read DNS settings from a file; give them in the config\'s "dns"';
      throw unsupportedField(`ipam.${key}`, ipam[key], why);
    }
  }
  const ipRanges = runtimeConfig === undefined ? undefined : optArray(runtimeConfig, 'ipRanges', 'runtimeConfig');
  if (ipRanges !== undefined && ipRanges.length > 0) {
    throw unsupportedField('runtimeConfig.ipRanges', ipRanges, 'an nsbox network\'s subnets are fixed in its config (ipam.ranges); ranges from the runtime need a delegated IPAM plugin such as host-local');
  }
  const sets: { value: unknown[]; path: string }[] = [];
  // The legacy single range, as host-local reads it: the top-level subnet (with its gateway and bounds).
  if (ipam.subnet !== undefined && ipam.subnet !== null) sets.push({ value: [ipam], path: 'ipam' });
  const ranges = optArray(ipam, 'ranges', 'ipam') ?? [];
  ranges.forEach((set, i) => {
    const path = `ipam.ranges[${i}]`;
    if (!Array.isArray(set)) throw invalidField(path, 'expected a range set: an array of {subnet, gateway} objects');
    sets.push({ value: set, path });
  });
  if (sets.length === 0) throw invalidField('ipam.ranges', 'no IP ranges specified: give ranges ([[{"subnet": "10.88.0.0/16"}]]) or subnet');
  const out: IpamRange[] = [];
  for (const set of sets) {
    if (set.value.length === 0) throw invalidField(set.path, 'an empty range set');
    if (set.value.length > 1) throw unsupportedField(set.path, set.value, 'a range set of several subnets (a pool); an nsbox network has one subnet per family');
    const range = parseRange(set.value[0], set.path === 'ipam' ? 'ipam' : `${set.path}[0]`);
    const clash = out.find((r) => r.subnet.family === range.subnet.family);
    if (clash !== undefined) {
      throw unsupportedField(set.path, set.value, `a second IPv${range.subnet.family} range (${clash.subnet.cidr} is the first); an nsbox network has at most one IPv4 and one IPv6 subnet`);
    }
    out.push(range);
  }
  out.sort((a, b) => a.subnet.family - b.subnet.family);
  const routes = (optArray(ipam, 'routes', 'ipam') ?? []).map((r, i) => decodeRoute(r, `ipam.routes[${i}]`));
  return { kind: 'nsbox', ranges: out, routes };
}

/** The `ipam` section: nsbox's own or a delegated plugin; code 2 for what nsbox cannot do, 7 for malformed values. */
export function parseIpamConfig(raw: JsonObject): IpamConfig {
  const ipam = optObject(raw, 'ipam', '');
  const type = readIpamType(raw);
  if (ipam === undefined || type === undefined) {
    throw unsupportedField('ipam', ipam ?? null, `an interface without addresses (no ipam type, the bridge plugin's L2-only mode); an nsbox bridge network always has a subnet: use "ipam": {"type": "${NSBOX_IPAM}", "ranges": [[{"subnet": "10.88.0.0/16"}]]} or an IPAM plugin such as host-local`);
  }
  if (type === NSBOX_IPAM) return parseNsboxIpam(ipam, optObject(raw, 'runtimeConfig', ''));
  return { kind: 'delegate', type };
}
