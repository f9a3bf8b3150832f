/**
 * Layer: overlay (over managed/, under the process edges).
 *
 * The overlay's keys in etcd (research B3.2) under a prefix (default `/nsbox/v1/`), and their
 * values, checked with zod when read (a value another writer got wrong is reported by key,
 * never trusted):
 *
 * | key | value | lifetime |
 * |---|---|---|
 * | networks/NET | {vni, subnet, blockPrefixLength, mode, mtu?, port} | permanent, create-only |
 * | hosts/HOST | {underlay, vtepMacs: {NET: MAC}, agentVersion, bootId} | on HOST's liveness lease |
 * | blocks/NET/CIDR | {hostId, claimedAt} | permanent (released by `network rm` on HOST), create-only |
 * | endpoints/NET/IP | {hostId, mac, sandbox} | on HOST's liveness lease; L2 needs them |
 * | gone/HOST | {since} | written by `overlay gc` when HOST's key is gone; removed with its blocks or when it is back |
 *
 * A block's key is its CIDR with '/' as '_' (10.244.1.0_24), so every key under blocks/NET/ is
 * one segment.
 */
import { z } from 'zod';
import { parseNetwork, cidrText } from '../net/cidr.js';
import { ipVersion } from '../net/ip.js';

export const DEFAULT_PREFIX = '/nsbox/v1/';
/** IANA's VXLAN port (the kernel's default is the legacy 8472). */
export const DEFAULT_VXLAN_PORT = 4789;

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/);
const ipv4 = z.string().refine((s) => ipVersion(s) === 4, 'an IPv4 address');
const mac = z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
const cidr4 = z.string().refine((s) => {
  try {
    const n = parseNetwork(s, 'subnet', { prefixRequired: true });
    return n.family === 4 && cidrText(n) === s;
  } catch {
    return false;
  }
}, 'an IPv4 network in canonical form (10.244.0.0/16)');

export const NetworkValue = z.object({
  vni: z.number().int().min(1).max(0xffffff),
  subnet: cidr4,
  blockPrefixLength: z.number().int().min(8).max(30),
  mode: z.enum(['l3', 'l2']),
  mtu: z.number().int().min(576).max(65535).optional(),
  port: z.number().int().min(1).max(65535),
}).strict();
export type NetworkValue = z.infer<typeof NetworkValue>;

export const HostValue = z.object({
  underlay: ipv4,
  vtepMacs: z.record(z.string(), mac),
  agentVersion: z.string().optional(),
  bootId: z.string().optional(),
}).strict();
export type HostValue = z.infer<typeof HostValue>;

export const BlockValue = z.object({ hostId: name, claimedAt: z.string() }).strict();
export type BlockValue = z.infer<typeof BlockValue>;

export const EndpointValue = z.object({ hostId: name, mac, sandbox: z.string() }).strict();
export type EndpointValue = z.infer<typeof EndpointValue>;

/** A key under the prefix, parsed; undefined for one that is none of the overlay's. */
export type ParsedKey =
  | { kind: 'network'; net: string }
  | { kind: 'host'; hostId: string }
  | { kind: 'block'; net: string; block: string }
  | { kind: 'endpoint'; net: string; ip: string };

/** A value that failed its schema: which key, and why. */
export class BadValue extends Error {
  readonly key: string;
  constructor(key: string, why: string) {
    super(`etcd key ${key}: ${why}`);
    this.key = key;
  }
}

function parseValue<T>(schema: z.ZodType<T>, key: string, text: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BadValue(key, 'not JSON');
  }
  const r = schema.safeParse(json);
  if (!r.success) throw new BadValue(key, r.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; '));
  return r.data;
}

export class Keyspace {
  readonly prefix: string;

  constructor(prefix = DEFAULT_PREFIX) {
    if (!prefix.startsWith('/') || !prefix.endsWith('/')) throw new TypeError(`etcd prefix ${JSON.stringify(prefix)} must start and end with '/'`);
    this.prefix = prefix;
  }

  network(net: string): string { return `${this.prefix}networks/${net}`; }
  host(hostId: string): string { return `${this.prefix}hosts/${hostId}`; }
  blocks(net: string): string { return `${this.prefix}blocks/${net}/`; }
  block(net: string, block: string): string { return `${this.blocks(net)}${block.replace('/', '_')}`; }
  endpoints(net: string): string { return `${this.prefix}endpoints/${net}/`; }
  endpoint(net: string, ip: string): string { return `${this.endpoints(net)}${ip}`; }
  /** When `nsbox overlay gc` first saw HOST gone (its blocks are released after a while): {since}. */
  gone(hostId: string): string { return `${this.prefix}gone/${hostId}`; }

  parseKey(key: string): ParsedKey | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const parts = key.slice(this.prefix.length).split('/');
    if (parts[0] === 'networks' && parts.length === 2) return { kind: 'network', net: parts[1]! };
    if (parts[0] === 'hosts' && parts.length === 2) return { kind: 'host', hostId: parts[1]! };
    if (parts[0] === 'blocks' && parts.length === 3) return { kind: 'block', net: parts[1]!, block: parts[2]!.replace('_', '/') };
    if (parts[0] === 'endpoints' && parts.length === 3) return { kind: 'endpoint', net: parts[1]!, ip: parts[2]! };
    return undefined;
  }

  networkValue(key: string, text: string): NetworkValue { return parseValue(NetworkValue, key, text); }
  hostValue(key: string, text: string): HostValue { return parseValue(HostValue, key, text); }
  blockValue(key: string, text: string): BlockValue { return parseValue(BlockValue, key, text); }
  endpointValue(key: string, text: string): EndpointValue { return parseValue(EndpointValue, key, text); }
}
