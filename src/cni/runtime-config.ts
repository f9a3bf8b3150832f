/**
 * Layer: cni (process edge).
 *
 * What the runtime asks of one attachment (CONVENTIONS.md): the capabilities the admin declared
 * (`capabilities`), their values as the runtime filled them in (`runtimeConfig`), the `args`
 * conventions (`args.cni.ips`, `args.cni.mac`) and CNI_ARGS' `IP` and `MAC`. Read here into the
 * requests the backend honours: ports to publish, addresses, a MAC, DNS.
 *
 * - `portMappings`, `ips`, `mac`, `dns`, `bandwidth`: honoured. `ipRanges`: for a delegated
 *   IPAM plugin, which reads it itself (nsbox's own IPAM refuses it, ipam-config.ts).
 * - `aliases`, `infinibandGUID`, `deviceID`: declaring one is refused (code 2): nsbox cannot
 *   publish names, or use hardware devices for a veth.
 * - Any other capability (`cgroupPath`, ones of other plugins) and any other key of
 *   `runtimeConfig` or `args` is ignored, as the spec has plugins ignore what they do not know.
 *
 * Precedence, as the reference plugins have it: the MAC of CNI_ARGS, then `args.cni.mac`, then
 * `runtimeConfig.mac` (the last one given wins, bridge's loadNetConf); the addresses of
 * `args.cni.ips`, or CNI_ARGS `IP` when there are none (CONVENTIONS.md: a plugin that
 * understands `args` ignores the CNI_ARGS field), then those of `runtimeConfig.ips`
 * (host-local's order).
 */
import { decodeIp, encodeIp, ipFamily } from '../net/ip.js';
import { subnetContains, ipToBigInt } from '../net/cidr.js';
import type { PortMapping } from '../managed/port-spec.js';
import { isEthernetMac } from '../netlink/wire/mac.js';
import type { CniArgs } from './env.js';
import { invalidField, unsupportedField } from './errors.js';
import { fieldPath, ipWording, isIp, isJsonObject, optArray, optInt, optObject, optString, optStrings, type JsonObject } from './fields.js';
import type { IpamConfig } from './ipam-config.js';
import type { CniDns } from './result.js';

/** Well-known capabilities nsbox cannot honour, and why (declaring one is code 2). */
const REFUSED_CAPABILITIES: Readonly<Record<string, string>> = {
  aliases: 'nsbox does not publish names for container addresses',
  infinibandGUID: 'an nsbox container interface is a veth, not an InfiniBand device',
  deviceID: 'an nsbox container interface is a veth, not a host device',
};

/** What the runtime asks of this attachment. */
export interface AttachmentRequests {
  /** Ports to publish (capability portMappings); hostIp undefined for every address. */
  portMappings: PortMapping[];
  /** Addresses asked for, bare ('10.88.0.7'), each once, in the order the sources are read. */
  ips: string[];
  /** The container interface's MAC, lowercase. */
  mac: string | undefined;
  /** DNS settings from the runtime (capability dns), in the result's terms. */
  dns: CniDns | undefined;
  /** Rate limits (capability bandwidth): into the container (ingress) and out of it (egress). */
  bandwidth: Bandwidth;
}

/** A token bucket: `rate` in bits per second, `burst` in bytes. */
export interface RateLimit {
  rate: number;
  burst: number;
}

/** The bandwidth plugin's limits, as nsbox applies them (tbf on each side of the veth). */
export interface Bandwidth {
  /** Traffic to the container. */
  ingress?: RateLimit;
  /** Traffic from the container. */
  egress?: RateLimit;
}

/** The largest burst the bandwidth plugin takes: 4 GiB in bits, below its uint32 bytes. */
const MAX_BURST_BITS = 2 ** 32 * 8 - 8;

/**
 * `runtimeConfig.bandwidth` (the bandwidth plugin's BandwidthEntry): `ingressRate`/`egressRate`
 * in bits per second and `ingressBurst`/`egressBurst` in bits; a rate needs its burst and a
 * burst its rate, as the plugin refuses them (code 7 naming the field); 0 or absent is no limit.
 */
function parseBandwidth(runtimeConfig: JsonObject): Bandwidth {
  const bw = optObject(runtimeConfig, 'bandwidth', 'runtimeConfig');
  if (bw === undefined) return {};
  const path = 'runtimeConfig.bandwidth';
  const out: Bandwidth = {};
  for (const dir of ['ingress', 'egress'] as const) {
    const rate = optInt(bw, `${dir}Rate`, path, 0, Number.MAX_SAFE_INTEGER) ?? 0;
    const burst = optInt(bw, `${dir}Burst`, path, 0, MAX_BURST_BITS) ?? 0;
    if (rate === 0 && burst === 0) continue;
    if (rate === 0) throw invalidField(`${path}.${dir}Rate`, `missing: ${dir}Burst is set, so a rate must be too (bits per second)`);
    if (burst === 0) throw invalidField(`${path}.${dir}Burst`, `missing: ${dir}Rate is set, so a burst must be too (bits)`);
    if (burst < 8) throw invalidField(`${path}.${dir}Burst`, `${burst} bits is less than one byte`);
    out[dir] = { rate, burst: Math.floor(burst / 8) };
  }
  return out;
}

/** `capabilities`: each value a boolean; the declared (true) ones, code 2 for one nsbox cannot honour. */
export function parseCapabilities(raw: JsonObject): Set<string> {
  const caps = optObject(raw, 'capabilities', '');
  const out = new Set<string>();
  if (caps === undefined) return out;
  for (const [name, value] of Object.entries(caps)) {
    if (typeof value !== 'boolean') throw invalidField(`capabilities.${name}`, `expected true or false, got ${JSON.stringify(value)}`);
    if (!value) continue;
    const why = Object.hasOwn(REFUSED_CAPABILITIES, name) ? REFUSED_CAPABILITIES[name] : undefined;
    if (why !== undefined) throw unsupportedField(`capabilities.${name}`, value, why);
    out.add(name);
  }
  return out;
}

/** `runtimeConfig.portMappings` (portmap's PortMapEntry): hostPort, containerPort, protocol tcp/udp, hostIP. */
function parsePortMappings(list: unknown[], path: string): PortMapping[] {
  const seen = new Set<string>();
  return list.map((entry, i) => {
    const p = `${path}[${i}]`;
    if (!isJsonObject(entry)) throw invalidField(p, 'expected {"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}');
    const hostPort = optInt(entry, 'hostPort', p, 1, 65535);
    const port = optInt(entry, 'containerPort', p, 1, 65535);
    if (hostPort === undefined) throw invalidField(fieldPath(p, 'hostPort'), 'missing: a port from 1 to 65535');
    if (port === undefined) throw invalidField(fieldPath(p, 'containerPort'), 'missing: a port from 1 to 65535');
    const protocolText = (optString(entry, 'protocol', p) || 'tcp').toLowerCase();
    if (protocolText === 'sctp') throw unsupportedField(fieldPath(p, 'protocol'), entry.protocol, 'nsbox publishes TCP and UDP ports only');
    if (protocolText !== 'tcp' && protocolText !== 'udp') throw invalidField(fieldPath(p, 'protocol'), `expected "tcp" or "udp", got ${JSON.stringify(entry.protocol)}`);
    const hostIpText = optString(entry, 'hostIP', p);
    let hostIp: string | undefined;
    if (hostIpText !== undefined && hostIpText !== '') {
      if (!isIp(hostIpText, { prefix: 'none' })) throw invalidField(fieldPath(p, 'hostIP'), `${JSON.stringify(hostIpText)} is not ${ipWording('none')}`);
      hostIp = decodeIp(encodeIp(hostIpText));
    }
    const key = `${protocolText}/${hostIp ?? '*'}/${hostPort}`;
    if (seen.has(key)) throw invalidField(p, `host port ${hostPort}/${protocolText}${hostIp === undefined ? '' : ` on ${hostIp}`} is mapped twice`);
    seen.add(key);
    return { protocol: protocolText, hostIp, hostPort, port };
  });
}

/** `IP[/prefix]` → the bare address, canonical. */
const bare = (ip: string): string => decodeIp(encodeIp(ip.includes('/') ? ip.slice(0, ip.indexOf('/')) : ip));

/** A MAC field: an Ethernet address, lowercase. */
function optMac(obj: JsonObject, key: string, parent: string): string | undefined {
  const mac = optString(obj, key, parent);
  if (mac === undefined || mac === '') return undefined;
  if (!isEthernetMac(mac)) throw invalidField(fieldPath(parent, key), `${JSON.stringify(mac)} is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  return mac.toLowerCase();
}

/** `runtimeConfig.dns` ({servers, searches, options}) in the result's terms. */
function parseRuntimeDns(runtimeConfig: JsonObject): CniDns | undefined {
  const dns = optObject(runtimeConfig, 'dns', 'runtimeConfig');
  if (dns === undefined) return undefined;
  const out: CniDns = {};
  const servers = optStrings(dns, 'servers', 'runtimeConfig.dns', (s) => (isIp(s, { prefix: 'none' }) ? undefined : `${JSON.stringify(s)} is not ${ipWording('none')}`));
  const searches = optStrings(dns, 'searches', 'runtimeConfig.dns');
  const options = optStrings(dns, 'options', 'runtimeConfig.dns');
  if (servers !== undefined) out.nameservers = servers;
  if (searches !== undefined) out.search = searches;
  if (options !== undefined) out.options = options;
  return out;
}

/** A runtimeConfig value that asks for nothing: absent, null, "", [] or {}. */
function asksNothing(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (isJsonObject(v) && Object.keys(v).length === 0);
}

/**
 * The requests of an attachment. With nsbox's own IPAM the addresses asked for are checked
 * against its ranges: each inside the range of its family and not its gateway, one per family
 * (each range gives the interface one address). A delegated IPAM plugin checks its own.
 */
export function parseAttachmentRequests(raw: JsonObject, cniArgs: CniArgs, ipam: IpamConfig): AttachmentRequests {
  const runtimeConfig = optObject(raw, 'runtimeConfig', '') ?? {};
  const args = optObject(raw, 'args', '');
  const cni = args === undefined ? undefined : optObject(args, 'cni', 'args');
  for (const name of Object.keys(REFUSED_CAPABILITIES)) {
    const v = runtimeConfig[name];
    if (!asksNothing(v)) throw unsupportedField(`runtimeConfig.${name}`, v, REFUSED_CAPABILITIES[name]!);
  }
  const ipCheck = (s: string): string | undefined => (isIp(s, { prefix: 'optional' }) ? undefined : `${JSON.stringify(s)} is not ${ipWording('optional')}`);
  const asked: { ip: string; field: string }[] = [];
  const argsIps = cni === undefined ? undefined : optStrings(cni, 'ips', 'args.cni', ipCheck);
  if (argsIps !== undefined && argsIps.length > 0) argsIps.forEach((ip, i) => asked.push({ ip, field: `args.cni.ips[${i}]` }));
  else if (cniArgs.ip !== undefined) asked.push({ ip: cniArgs.ip, field: 'CNI_ARGS IP' });
  (optStrings(runtimeConfig, 'ips', 'runtimeConfig', ipCheck) ?? []).forEach((ip, i) => asked.push({ ip, field: `runtimeConfig.ips[${i}]` }));
  if (ipam.kind === 'nsbox') checkAskedIps(asked, ipam);

  const runtimeMac = optMac(runtimeConfig, 'mac', 'runtimeConfig');
  const argsMac = cni === undefined ? undefined : optMac(cni, 'mac', 'args.cni');
  const mac = runtimeMac ?? argsMac ?? cniArgs.mac;
  const portMappings = parsePortMappings(optArray(runtimeConfig, 'portMappings', 'runtimeConfig') ?? [], 'runtimeConfig.portMappings');
  return { portMappings, ips: [...new Set(asked.map((a) => bare(a.ip)))], mac, dns: parseRuntimeDns(runtimeConfig), bandwidth: parseBandwidth(runtimeConfig) };
}

/** Asked addresses against nsbox's ranges: inside one, not its gateway, one per family. */
function checkAskedIps(asked: readonly { ip: string; field: string }[], ipam: Extract<IpamConfig, { kind: 'nsbox' }>): void {
  const byFamily = new Map<4 | 6, string>();
  for (const { ip, field } of asked) {
    const address = bare(ip);
    const family = ipFamily(address);
    const range = ipam.ranges.find((r) => r.subnet.family === family);
    if (range === undefined || !subnetContains(range.subnet, address)) {
      throw invalidField(field, `${address} is outside the network's ${range === undefined ? `ranges (it has no IPv${family} subnet)` : `IPv${family} subnet ${range.subnet.cidr}`}`);
    }
    if (ipToBigInt(address) === ipToBigInt(range.gateway)) throw invalidField(field, `${address} is the gateway of ${range.subnet.cidr}`);
    const first = byFamily.get(family);
    if (first !== undefined && first !== address) throw invalidField(field, `a second IPv${family} address (${first} is asked for already): the interface gets one address per family`);
    byFamily.set(family, address);
  }
}
