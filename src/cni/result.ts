/**
 * Layer: cni (process edge).
 *
 * ADD's result (SPEC §5 "ADD Success") in every version's shape, and conversion between them.
 * In memory a result has one form, the 1.1.0 one (`CniResult`); `decodeResult` reads any
 * version's JSON into it (a `prevResult`, a delegated IPAM plugin's answer) and `encodeResult`
 * writes it in the config's version, which is the version a plugin must answer in:
 *
 * - 1.1.0: `interfaces` (name, mac, mtu, sandbox, socketPath, pciID), `ips` (address, gateway,
 *   interface index), `routes` (dst, gw, mtu, advmss, priority, table, scope), `dns`;
 * - 1.0.0: the same without the 1.1.0 additions (Go's converter leaves them in; they are not
 *   1.0.0 fields, so they are left out here);
 * - 0.3.0, 0.3.1, 0.4.0: as 1.0.0, and each IP carries `version` ("4" or "6");
 * - 0.1.0, 0.2.0: `ip4` and `ip6` (ip, gateway, the routes of that family) and `dns`.
 *
 * Going down to 0.2.0 loses what that shape has no place for (interfaces, the interface index,
 * route metadata). Where Go's converter silently drops more (every IP after the first of a
 * family, the routes of a family without an IP) or fails after the fact ("no valid IP
 * addresses", once the veth exists), nsbox refuses: `inexpressible` says why, and
 * `checkAddExpressible` refuses a config whose result could not be written before ADD does
 * anything.
 */
import { ipVersion } from '../net/ip.js';
import { invalidField, type CniError } from './errors.js';
import { fieldPath, isJsonObject, ipWording, optArray, optInt, optIp, optObject, optString, optStrings, type JsonObject } from './fields.js';
import { FEATURES, configVersion, hasFeature, type CniVersion } from './version.js';
import type { PluginConfig } from './config.js';

export interface CniInterface {
  name: string;
  mac?: string;
  /** 1.1.0 */
  mtu?: number;
  /** The namespace path (CNI_NETNS) for an interface in the container; absent on the host. */
  sandbox?: string;
  /** 1.1.0 */
  socketPath?: string;
  /** 1.1.0 */
  pciID?: string;
}

export interface CniIpConfig {
  /** With its prefix length: '10.1.0.5/16'. */
  address: string;
  gateway?: string;
  /** Index into `interfaces` (absent in a delegated IPAM plugin's abbreviated result). */
  interface?: number;
}

export interface CniRoute {
  /** '0.0.0.0/0' */
  dst: string;
  gw?: string;
  /** 1.1.0 */
  mtu?: number;
  /** 1.1.0 */
  advmss?: number;
  /** 1.1.0 */
  priority?: number;
  /** 1.1.0 */
  table?: number;
  /** 1.1.0: 0 global, 253 link, 254 host. */
  scope?: number;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** A result in its one in-memory form (the 1.1.0 shape). */
export interface CniResult {
  interfaces: CniInterface[];
  ips: CniIpConfig[];
  routes: CniRoute[];
  dns: CniDns;
}

const UINT32 = 0xffffffff;

/** A `dns` object (the config's and a result's have the same keys). */
export function decodeDns(obj: JsonObject, key: string, parent: string): CniDns | undefined {
  const dns = optObject(obj, key, parent);
  if (dns === undefined) return undefined;
  const path = fieldPath(parent, key);
  const out: CniDns = {};
  const nameservers = optStrings(dns, 'nameservers', path);
  const domain = optString(dns, 'domain', path);
  const search = optStrings(dns, 'search', path);
  const options = optStrings(dns, 'options', path);
  if (nameservers !== undefined) out.nameservers = nameservers;
  if (domain !== undefined) out.domain = domain;
  if (search !== undefined) out.search = search;
  if (options !== undefined) out.options = options;
  return out;
}

/** A route object: `dst` with a prefix, `gw` of the same family, the 1.1.0 attributes as unsigned integers. */
export function decodeRoute(value: unknown, path: string): CniRoute {
  if (!isJsonObject(value)) throw invalidField(path, 'expected an object with "dst"');
  const dst = optIp(value, 'dst', path, 'required');
  if (dst === undefined) throw invalidField(fieldPath(path, 'dst'), 'missing: a destination with a prefix length, e.g. 0.0.0.0/0');
  const route: CniRoute = { dst };
  const gw = optIp(value, 'gw', path, 'none');
  if (gw !== undefined) {
    if (ipVersion(gw) !== familyOf(dst)) throw invalidField(fieldPath(path, 'gw'), `${gw} is not of the family of ${dst}`);
    route.gw = gw;
  }
  for (const key of ['mtu', 'advmss', 'priority', 'table'] as const) {
    const v = optInt(value, key, path, 0, UINT32);
    if (v !== undefined) route[key] = v;
  }
  const scope = optInt(value, 'scope', path, 0, 255);
  if (scope !== undefined) route.scope = scope;
  return route;
}

function decodeInterface(value: unknown, path: string): CniInterface {
  if (!isJsonObject(value)) throw invalidField(path, 'expected an object with "name"');
  const name = optString(value, 'name', path);
  if (name === undefined || name === '') throw invalidField(fieldPath(path, 'name'), 'missing: every interface has a name');
  const out: CniInterface = { name };
  for (const key of ['mac', 'sandbox', 'socketPath', 'pciID'] as const) {
    const v = optString(value, key, path);
    if (v !== undefined && v !== '') out[key] = v;
  }
  const mtu = optInt(value, 'mtu', path, 0, UINT32);
  if (mtu !== undefined && mtu !== 0) out.mtu = mtu;
  return out;
}

/** The family of an address, with or without prefix (the caller has checked it is one). */
function familyOf(address: string): 4 | 6 {
  const slash = address.indexOf('/');
  return ipVersion(slash < 0 ? address : address.slice(0, slash)) as 4 | 6;
}

function decodeIpConfig(value: unknown, path: string, interfaces: number, legacyVersion: boolean): CniIpConfig {
  if (!isJsonObject(value)) throw invalidField(path, 'expected an object with "address"');
  const address = optIp(value, 'address', path, 'required');
  if (address === undefined) throw invalidField(fieldPath(path, 'address'), `missing: ${ipWording('required')}`);
  const out: CniIpConfig = { address };
  const gateway = optIp(value, 'gateway', path, 'none');
  if (gateway !== undefined) {
    if (ipVersion(gateway) !== familyOf(address)) throw invalidField(fieldPath(path, 'gateway'), `${gateway} is not of the family of ${address}`);
    out.gateway = gateway;
  }
  const index = optInt(value, 'interface', path, 0, UINT32);
  if (index !== undefined) {
    if (index >= interfaces) throw invalidField(fieldPath(path, 'interface'), `index ${index} is past the ${interfaces} interfaces of the result`);
    out.interface = index;
  }
  if (legacyVersion) {
    const v = optString(value, 'version', path);
    if (v !== undefined && v !== String(familyOf(address))) throw invalidField(fieldPath(path, 'version'), `"${v}" does not match ${address} (expected "${familyOf(address)}")`);
  }
  return out;
}

/** A 0.1.0/0.2.0 `ip4`/`ip6` object: the IP and the routes of that family. */
function decodeLegacyIp(obj: JsonObject, key: 'ip4' | 'ip6', path: string): { ip: CniIpConfig; routes: CniRoute[] } | undefined {
  const v = optObject(obj, key, path);
  if (v === undefined) return undefined;
  const p = fieldPath(path, key);
  const ip = optIp(v, 'ip', p, 'required');
  if (ip === undefined) throw invalidField(fieldPath(p, 'ip'), `missing: ${ipWording('required')}`);
  const family = key === 'ip4' ? 4 : 6;
  if (familyOf(ip) !== family) throw invalidField(fieldPath(p, 'ip'), `${ip} is not an IPv${family} address`);
  const out: CniIpConfig = { address: ip };
  const gateway = optIp(v, 'gateway', p, 'none');
  if (gateway !== undefined) {
    if (ipVersion(gateway) !== family) throw invalidField(fieldPath(p, 'gateway'), `${gateway} is not an IPv${family} address`);
    out.gateway = gateway;
  }
  const routes = (optArray(v, 'routes', p) ?? []).map((r, i) => decodeRoute(r, `${fieldPath(p, 'routes')}[${i}]`));
  return { ip: out, routes };
}

/**
 * Read a result of any version into its in-memory form. The version is the result's own
 * `cniVersion` when it has one (it must be one nsbox speaks), else `version` (the config's:
 * a prevResult is in the config's version). Code 7 naming the field for anything malformed;
 * keys a version does not define are ignored.
 */
export function decodeResult(value: unknown, version: CniVersion, path: string): CniResult {
  if (!isJsonObject(value)) throw invalidField(path, 'expected a result object');
  let v = version;
  if (value.cniVersion !== undefined && value.cniVersion !== null && value.cniVersion !== '') {
    try {
      v = configVersion(value.cniVersion);
    } catch (err) {
      throw invalidField(fieldPath(path, 'cniVersion'), (err as Error).message, (err as CniError).details);
    }
  }
  const dns = decodeDns(value, 'dns', path) ?? {};
  if (!hasFeature(v, 'richResult')) {
    const ip4 = decodeLegacyIp(value, 'ip4', path);
    const ip6 = decodeLegacyIp(value, 'ip6', path);
    return {
      interfaces: [],
      ips: [ip4?.ip, ip6?.ip].filter((x): x is CniIpConfig => x !== undefined),
      routes: [...(ip4?.routes ?? []), ...(ip6?.routes ?? [])],
      dns,
    };
  }
  const interfaces = (optArray(value, 'interfaces', path) ?? []).map((x, i) => decodeInterface(x, `${fieldPath(path, 'interfaces')}[${i}]`));
  const legacyVersion = !hasFeature(v, 'ipsWithoutVersion');
  const ips = (optArray(value, 'ips', path) ?? []).map((x, i) => decodeIpConfig(x, `${fieldPath(path, 'ips')}[${i}]`, interfaces.length, legacyVersion));
  const routes = (optArray(value, 'routes', path) ?? []).map((x, i) => decodeRoute(x, `${fieldPath(path, 'routes')}[${i}]`));
  return { interfaces, ips, routes, dns };
}

function encodeDns(dns: CniDns): JsonObject | undefined {
  const out: JsonObject = {};
  if (dns.nameservers?.length) out.nameservers = [...dns.nameservers];
  if (dns.domain) out.domain = dns.domain;
  if (dns.search?.length) out.search = [...dns.search];
  if (dns.options?.length) out.options = [...dns.options];
  return Object.keys(out).length === 0 ? undefined : out;
}

function encodeRoute(r: CniRoute, v11: boolean): JsonObject {
  const out: JsonObject = { dst: r.dst };
  if (r.gw !== undefined) out.gw = r.gw;
  if (v11) for (const key of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) if (r[key] !== undefined) out[key] = r[key];
  return out;
}

/** Why a result cannot be written in a version, and which of its parts is at fault. */
export interface Inexpressible {
  part: 'ips' | 'routes';
  reason: string;
}

/**
 * Why `result` cannot be written as a `version` result, or undefined if it can. Only 0.1.0 and
 * 0.2.0 can fail: they hold one IPv4 and one IPv6 address, need at least one, and keep a route
 * only beside an address of its family.
 */
export function inexpressible(result: Pick<CniResult, 'ips' | 'routes'>, version: CniVersion): Inexpressible | undefined {
  if (hasFeature(version, 'richResult')) return undefined;
  const count = { 4: 0, 6: 0 };
  for (const ip of result.ips) count[familyOf(ip.address)]++;
  const limit = `a CNI ${version} result holds one IPv4 and one IPv6 address at most (cniVersion ${FEATURES.richResult} or later has no such limit)`;
  if (count[4] + count[6] === 0) return { part: 'ips', reason: `${limit}, and at least one: this one has none` };
  for (const family of [4, 6] as const) {
    if (count[family] > 1) return { part: 'ips', reason: `${limit}: this one has ${count[family]} IPv${family} addresses` };
  }
  const orphan = result.routes.find((r) => count[familyOf(r.dst)] === 0);
  if (orphan !== undefined) {
    return { part: 'routes', reason: `${limit}, and keeps a route only beside an address of its family: the route to ${orphan.dst} has no IPv${familyOf(orphan.dst)} address` };
  }
  return undefined;
}

/**
 * Code 7 unless `result` can be written as a `version` result; the field is `${field}.ips` or
 * `${field}.routes`. For the backend: a delegated IPAM plugin's result is checked with this
 * before anything else is done with it.
 */
export function checkResultExpressible(result: Pick<CniResult, 'ips' | 'routes'>, version: CniVersion, field: string): void {
  const why = inexpressible(result, version);
  if (why !== undefined) throw invalidField(fieldPath(field, why.part), why.reason);
}

/**
 * Write `result` in `version`'s shape (with `cniVersion`). Throws if it cannot be (a bug: ADD
 * checks before it acts, see checkAddExpressible).
 */
export function encodeResult(result: CniResult, version: CniVersion): JsonObject {
  const why = inexpressible(result, version);
  if (why !== undefined) throw new Error(`cannot write the result as CNI ${version}: ${why.reason}`);
  const out: JsonObject = { cniVersion: version };
  const dns = encodeDns(result.dns);
  if (!hasFeature(version, 'richResult')) {
    for (const family of [4, 6] as const) {
      const ip = result.ips.find((x) => familyOf(x.address) === family);
      if (ip === undefined) continue;
      const legacy: JsonObject = { ip: ip.address };
      if (ip.gateway !== undefined) legacy.gateway = ip.gateway;
      const routes = result.routes.filter((r) => familyOf(r.dst) === family).map((r) => encodeRoute(r, false));
      if (routes.length > 0) legacy.routes = routes;
      out[`ip${family}`] = legacy;
    }
    if (dns !== undefined) out.dns = dns;
    return out;
  }
  const v11 = hasFeature(version, 'result11Fields');
  const withVersion = !hasFeature(version, 'ipsWithoutVersion');
  if (result.interfaces.length > 0) {
    out.interfaces = result.interfaces.map((i) => {
      const o: JsonObject = { name: i.name };
      if (i.mac !== undefined) o.mac = i.mac;
      if (v11 && i.mtu !== undefined) o.mtu = i.mtu;
      if (i.sandbox !== undefined) o.sandbox = i.sandbox;
      if (v11 && i.socketPath !== undefined) o.socketPath = i.socketPath;
      if (v11 && i.pciID !== undefined) o.pciID = i.pciID;
      return o;
    });
  }
  if (result.ips.length > 0) {
    out.ips = result.ips.map((ip) => {
      const o: JsonObject = withVersion ? { version: String(familyOf(ip.address)) } : {};
      if (ip.interface !== undefined) o.interface = ip.interface;
      o.address = ip.address;
      if (ip.gateway !== undefined) o.gateway = ip.gateway;
      return o;
    });
  }
  if (result.routes.length > 0) out.routes = result.routes.map((r) => encodeRoute(r, v11));
  if (dns !== undefined) out.dns = dns;
  return out;
}

/** A result's JSON in another version's shape: decode from `from`, encode as `to`. */
export function convertResult(value: unknown, from: CniVersion, to: CniVersion): JsonObject {
  return encodeResult(decodeResult(value, from, 'result'), to);
}

/**
 * Before ADD does anything: code 7 if the result of this config could not be written in its
 * version (0.1.0/0.2.0 only). With nsbox's IPAM the addresses are known from the config (one
 * per range set; requested ones are among them); with a delegated IPAM plugin they are not,
 * and the backend checks the plugin's answer with checkResultExpressible before going on.
 */
export function checkAddExpressible(config: PluginConfig): void {
  const { ipam, cniVersion } = config;
  if (ipam.kind === 'delegate') return;
  const ips = ipam.ranges.map((r) => ({ address: `${r.subnet.address}/${r.subnet.prefixLen}` }));
  const why = inexpressible({ ips, routes: ipam.routes }, cniVersion);
  if (why !== undefined) throw invalidField(why.part === 'ips' ? 'ipam.ranges' : 'ipam.routes', why.reason);
}
