/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * Short, safe builders for rule expressions, compiling nft statements the way nft 1.0.6 does
 * (byte for byte, so `nft list` shows them as written): loads of packet fields, metadata and
 * conntrack into registers, matches against constants, prefixes and bit masks, set and map
 * lookups over concatenations (each field in the register nft would use), verdicts, NAT. In an
 * inet table nft puts `meta nfproto ipv4` before a statement that reads an ip field; these
 * builders do not: write `nfproto('ipv4')` where nft would (see the worked example in
 * research/nat-nftables.md §2.7).
 */
import { parseCidr } from '../../../net/cidr.js';
import { CT_STATE_BIT, IPS, NFPROTO, NFT_REG, RTN } from './constants.js';
import type { Verdict } from './data.js';
import type {
  BitwiseExpr, ByteorderExpr, CmpExpr, CmpOp, CounterExpr, CtExpr, CtKey, Expr, FibExpr, FibFlag, FibResult, ImmediateExpr, LookupExpr, MasqExpr, MetaExpr,
  MetaKey, NatExpr, NumgenExpr, NumgenType, PayloadBase, PayloadExpr, RejectExpr,
} from './expr/index.js';
import type { NftFamily } from './nfgenmsg.js';
import { padField, prefixBounds, registerAt, u32host, u8 } from './values.js';

/**
 * Something loaded into registers: how many bytes, the expression that loads it into `dreg`, and
 * any that must follow it there (`numgen` in a concatenation: its hton).
 */
export interface Load {
  readonly len: number;
  into(dreg: number): Expr;
  then?(dreg: number): Expr[];
}

/** The load's expressions into `dreg`, its follow-ups included. */
function loadInto(l: Load, dreg: number): Expr[] {
  return [l.into(dreg), ...(l.then?.(dreg) ?? [])];
}

/** The packet fields nsbox matches on, by nft's names: header base, byte offset, length. */
export const PAYLOAD_FIELDS = {
  'ip protocol': { base: 'network', offset: 9, len: 1 },
  'ip saddr': { base: 'network', offset: 12, len: 4 },
  'ip daddr': { base: 'network', offset: 16, len: 4 },
  'ip6 nexthdr': { base: 'network', offset: 6, len: 1 },
  'ip6 saddr': { base: 'network', offset: 8, len: 16 },
  'ip6 daddr': { base: 'network', offset: 24, len: 16 },
  'th sport': { base: 'transport', offset: 0, len: 2 },
  'th dport': { base: 'transport', offset: 2, len: 2 },
} as const satisfies Record<string, { base: PayloadBase; offset: number; len: number }>;
export type PayloadField = keyof typeof PAYLOAD_FIELDS;

/** Bytes each meta key loads (IFNAMSIZ for names, one byte for nfproto and l4proto, else a u32). */
function metaLength(key: MetaKey): number {
  if (key === 'iifname' || key === 'oifname' || key === 'bri_iifname' || key === 'bri_oifname') return 16;
  if (key === 'nfproto' || key === 'l4proto') return 1;
  return 4;
}

function payloadField(field: PayloadField): { base: PayloadBase; offset: number; len: number } {
  const f = typeof field === 'string' && Object.hasOwn(PAYLOAD_FIELDS, field) ? PAYLOAD_FIELDS[field] : undefined;
  if (f === undefined) throw new TypeError(`unknown payload field ${JSON.stringify(field)}: ${Object.keys(PAYLOAD_FIELDS).join(', ')}`);
  return f;
}

/** `meta KEY`: packet metadata. */
export function meta(key: MetaKey): Load {
  return { len: metaLength(key), into: (dreg): MetaExpr => ({ type: 'meta', key, dreg }) };
}

/** A packet field (`ip saddr`, `th dport` …), or `len` bytes of it from its start (a prefix). */
export function field(name: PayloadField, len?: number): Load {
  const f = payloadField(name);
  const n = len ?? f.len;
  if (!Number.isInteger(n) || n < 1 || n > f.len) throw new RangeError(`${name}: 1 to ${f.len} bytes, not ${n}`);
  return { len: n, into: (dreg): PayloadExpr => ({ type: 'payload', dreg, base: f.base, offset: f.offset, len: n }) };
}

/** `ct KEY` (state, status, mark … : host-order u32). */
export function ct(key: CtKey): Load {
  return { len: 4, into: (dreg): CtExpr => ({ type: 'ct', key, dreg }) };
}

/** `fib FLAGS RESULT` (`fib daddr type` is `fib(['daddr'], 'addrtype')`). */
export function fib(flags: FibFlag[], result: FibResult): Load {
  return { len: result === 'oifname' ? 16 : 4, into: (dreg): FibExpr => ({ type: 'fib', flags, result, dreg }) };
}

/**
 * `numgen random|inc mod MODULUS [offset OFFSET]`: a 4-byte number, converted to network order
 * right after (a byteorder hton in the same register) as nft does inside a concatenation or a
 * range, so a set's interval elements compare as big-endian integers.
 */
export function numgen(ng: NumgenType, modulus: number, offset = 0): Load {
  if (!Number.isInteger(modulus) || modulus < 1 || modulus > 0xffffffff) throw new RangeError(`numgen modulus: 1 to 2^32-1, not ${modulus}`);
  if (!Number.isInteger(offset) || offset < 0 || offset + modulus - 1 > 0xffffffff) throw new RangeError(`numgen offset ${offset}: the numbers must fit 32 bits`);
  return {
    len: 4,
    into: (dreg): NumgenExpr => ({ type: 'numgen', dreg, modulus, ng, offset }),
    then: (dreg): ByteorderExpr[] => [{ type: 'byteorder', sreg: dreg, dreg, op: 'hton', len: 4, size: 4 }],
  };
}

/** Load each of `loads` into consecutive key bytes, each field padded to 4, in the registers nft uses. */
export function loadConcat(loads: readonly Load[]): Expr[] {
  let offset = 0;
  return loads.flatMap((l) => {
    const e = loadInto(l, registerAt(offset));
    offset += padField(new Uint8Array(l.len)).length;
    return e;
  });
}

/** `LOAD OP VALUE`: load into register 1 and compare (`oifname != "nsbox0"`). */
export function match(load: Load, op: CmpOp, value: Uint8Array): Expr[] {
  const reg = NFT_REG[1];
  const c: CmpExpr = { type: 'cmp', sreg: reg, op, data: value };
  return [...loadInto(load, reg), c];
}

/** `meta nfproto ipv4|ipv6`: the implicit test nft adds in inet tables before reading an ip field. */
export function nfproto(family: 'ipv4' | 'ipv6'): Expr[] {
  return match(meta('nfproto'), 'eq', u8(family === 'ipv4' ? NFPROTO.IPV4 : NFPROTO.IPV6));
}

/**
 * `FIELD [!=] PREFIX` on an address field: a byte-aligned prefix loads only its bytes and
 * compares them (`ip saddr 10.88.0.0/16`: 2 bytes); another loads the whole address and masks
 * it (`ip daddr != 224.0.0.0/4`).
 */
export function matchPrefix(name: 'ip saddr' | 'ip daddr' | 'ip6 saddr' | 'ip6 daddr', prefix: string, op: 'eq' | 'neq' = 'eq'): Expr[] {
  const f = payloadField(name);
  const c = parseCidr(prefix, 'prefix');
  if (c.family !== (f.len === 4 ? 4 : 6)) throw new TypeError(`${name} needs an IPv${f.len === 4 ? 4 : 6} prefix, got ${JSON.stringify(prefix)}`);
  if (c.prefixLen === 0) throw new RangeError(`${name} ${prefix}: a /0 prefix matches everything; leave the match out`);
  const { first } = prefixBounds(c);
  if (c.prefixLen % 8 === 0) return match(field(name, c.prefixLen / 8), op, first.subarray(0, c.prefixLen / 8));
  const mask = new Uint8Array(f.len);
  for (let bit = 0; bit < c.prefixLen; bit++) mask[bit >> 3]! |= 0x80 >> (bit & 7);
  const reg = NFT_REG[1];
  const b: BitwiseExpr = { type: 'bitwise', sreg: reg, dreg: reg, len: f.len, mask, xor: new Uint8Array(f.len) };
  return [field(name).into(reg), b, { type: 'cmp', sreg: reg, op, data: first } satisfies CmpExpr];
}

/** `LOAD & BITS != 0`: any of the bits set (`ct state established,related`, `ct status dnat`). */
export function matchBits(load: Load, bits: number): Expr[] {
  const reg = NFT_REG[1];
  const b: BitwiseExpr = { type: 'bitwise', sreg: reg, dreg: reg, len: load.len, mask: u32host(bits), xor: new Uint8Array(load.len) };
  return [...loadInto(load, reg), b, { type: 'cmp', sreg: reg, op: 'neq', data: new Uint8Array(load.len) } satisfies CmpExpr];
}

/** `ct state` bits by name. */
export function ctState(...states: Lowercase<keyof typeof CT_STATE_BIT>[]): number {
  return states.reduce((n, s) => n | CT_STATE_BIT[s.toUpperCase() as keyof typeof CT_STATE_BIT], 0);
}

/** `ct status` bits: `dnat` (IPS_DST_NAT), `snat` (IPS_SRC_NAT). */
export const CT_STATUS = { dnat: IPS.DST_NAT, snat: IPS.SRC_NAT } as const;

/** `fib daddr type local`. */
export function fibDaddrLocal(): Expr[] {
  return match(fib(['daddr'], 'addrtype'), 'eq', u32host(RTN.LOCAL));
}

/** `LOAD [. LOAD …] [!=] @SET`: the key (a concatenation when several) looked up in a set. */
export function inSet(loads: readonly Load[], set: string, options: { invert?: boolean; setId?: number } = {}): Expr[] {
  const l: LookupExpr = { type: 'lookup', sreg: NFT_REG[1], set };
  if (options.setId !== undefined) l.setId = options.setId;
  if (options.invert) l.invert = true;
  return [...loadConcat(loads), l];
}

/** `LOAD [. LOAD …] map @MAP`: the key looked up in a map, its data into register 1 onwards. */
export function mapLookup(loads: readonly Load[], map: string, options: { setId?: number } = {}): Expr[] {
  const l: LookupExpr = { type: 'lookup', sreg: NFT_REG[1], dreg: NFT_REG[1], set: map };
  if (options.setId !== undefined) l.setId = options.setId;
  return [...loadConcat(loads), l];
}

/**
 * `dnat ip|ip6 to KEY map @MAP` where the map's data is `address . port`: the lookup, then nat
 * with the address at register 1 and the port right after it (register 9 for IPv4, 2 for IPv6).
 */
export function dnatMap(family: 'ip' | 'ip6', loads: readonly Load[], map: string, options: { setId?: number } = {}): Expr[] {
  const addrLen = family === 'ip' ? 4 : 16;
  const n: NatExpr = { type: 'nat', nat: 'dnat', family, addrMin: NFT_REG[1], protoMin: registerAt(addrLen) };
  return [...mapLookup(loads, map, options), n];
}

/** A verdict: `accept`, `drop`, `return`, `continue`, or `jump`/`goto` CHAIN. */
export function verdict(code: Verdict['code'], chain?: string): ImmediateExpr {
  const v: Verdict = { code };
  if (chain !== undefined) v.chain = chain;
  return { type: 'immediate', dreg: NFT_REG.VERDICT, verdict: v };
}
export const accept = (): ImmediateExpr => verdict('accept');
export const drop = (): ImmediateExpr => verdict('drop');
export const ret = (): ImmediateExpr => verdict('return');
export const jump = (chain: string): ImmediateExpr => verdict('jump', chain);
export const goTo = (chain: string): ImmediateExpr => verdict('goto', chain);

/** `masquerade` (flags: NF_NAT_RANGE_*, e.g. PROTO_RANDOM_FULLY). */
export function masquerade(flags?: number): MasqExpr {
  return flags === undefined ? { type: 'masq' } : { type: 'masq', flags };
}

/** `counter`, empty as nft sends it (the kernel starts at zero). */
export function counter(): CounterExpr {
  return { type: 'counter' };
}

/** `reject with icmpx CODE` (inet tables), `reject with tcp reset`, or `reject with icmp CODE`. */
export function reject(type: RejectExpr['reject'] = 'icmpx', code?: number): RejectExpr {
  return code === undefined ? { type: 'reject', reject: type } : { type: 'reject', reject: type, code };
}

/** `snat|dnat FAMILY to` the registers given (after loading an address, or a map lookup). */
export function natTo(nat: NatExpr['nat'], family: NftFamily, registers: Omit<NatExpr, 'type' | 'nat' | 'family'>): NatExpr {
  return { type: 'nat', nat, family, ...registers };
}
