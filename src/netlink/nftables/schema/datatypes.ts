/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * nft's datatypes that nsbox's sets use: their ids (nftables' enum datatypes: what NFTA_SET_KEY_TYPE
 * and DATA_TYPE carry, informational to the kernel; a concatenation is the ids shifted in by 6
 * bits each), their length on the wire, their byte order (nft's display hint in a set's
 * userdata), and how a value of each becomes bytes and back.
 */
import { DecodeError } from '../../../errors.js';
import { decodeIp } from '../../../net/ip.js';
import { IPPROTO } from './constants.js';
import { IFNAMSIZ, inetProto, ipv4, ipv6, port, u32host, type InetProtoName } from './values.js';

/** A value of one field of a key or of a map's data. */
export type FieldValue = string | number;

/** The datatypes nsbox knows, by nft's names. */
export type DatatypeName = 'ipv4_addr' | 'ipv6_addr' | 'inet_proto' | 'inet_service' | 'mark' | 'ifname' | 'integer';

/** BYTEORDER_* of nft (enum byteorder): 0 invalid (a concatenation), 1 host, 2 big-endian. */
export const BYTEORDER = { INVALID: 0, HOST: 1, BIG: 2 } as const;

export interface Datatype {
  readonly name: DatatypeName;
  /** nft's datatype id */
  readonly id: number;
  /** bytes on the wire, before padding in a concatenation */
  readonly len: number;
  readonly byteorder: (typeof BYTEORDER)[keyof typeof BYTEORDER];
  /** Whether an interval set may hold a prefix of it ('10.88.0.0/16') */
  readonly prefixes: boolean;
  encode(v: FieldValue): Uint8Array;
  decode(b: Uint8Array): FieldValue;
  /** A range value ('0-199999') as its first and last (inclusive) bytes, for a field of a concatenated interval set; undefined for a single value */
  range?(v: FieldValue): { first: Uint8Array; last: Uint8Array } | undefined;
}

/** TYPE_BITS: how far each field of a concatenated type id is shifted. */
export const TYPE_BITS = 6;
/** nft's id for a verdict (a verdict map's data is NFT_DATA_VERDICT on the wire instead). */
export const VERDICT_TYPE_ID = 1;

const textDecoder = new TextDecoder();
const PROTO_NAMES = new Map<number, string>(Object.entries(IPPROTO).map(([k, v]) => [v, k.toLowerCase()]));

function str(v: FieldValue, name: string): string {
  if (typeof v !== 'string') throw new TypeError(`a ${name} value must be a string, got ${JSON.stringify(v)}`);
  return v;
}
function num(v: FieldValue, name: string): number {
  if (typeof v !== 'number') throw new TypeError(`a ${name} value must be a number, got ${JSON.stringify(v)}`);
  return v;
}
function be32(n: number, what: string): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new TypeError(`invalid ${what} ${n}: 0 to 2^32-1`);
  return Uint8Array.of(n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}
function sized(b: Uint8Array, len: number, name: string): Uint8Array {
  if (b.length < len) throw new DecodeError(name, 0, `needs ${len} bytes, got ${b.length}`);
  return b.subarray(0, len);
}

export const DATATYPES: Readonly<Record<DatatypeName, Datatype>> = {
  ipv4_addr: {
    name: 'ipv4_addr', id: 7, len: 4, byteorder: BYTEORDER.BIG, prefixes: true,
    encode: (v) => ipv4(str(v, 'ipv4_addr')), decode: (b) => decodeIp(sized(b, 4, 'ipv4_addr')),
  },
  ipv6_addr: {
    name: 'ipv6_addr', id: 8, len: 16, byteorder: BYTEORDER.BIG, prefixes: true,
    encode: (v) => ipv6(str(v, 'ipv6_addr')), decode: (b) => decodeIp(sized(b, 16, 'ipv6_addr')),
  },
  inet_proto: {
    name: 'inet_proto', id: 12, len: 1, byteorder: BYTEORDER.BIG, prefixes: false,
    encode: (v) => inetProto(v as InetProtoName | number),
    decode: (b) => { const n = sized(b, 1, 'inet_proto')[0]!; return PROTO_NAMES.get(n) ?? n; },
  },
  inet_service: {
    name: 'inet_service', id: 13, len: 2, byteorder: BYTEORDER.BIG, prefixes: false,
    encode: (v) => port(num(v, 'inet_service')), decode: (b) => { const p = sized(b, 2, 'inet_service'); return (p[0]! << 8) | p[1]!; },
  },
  mark: {
    name: 'mark', id: 19, len: 4, byteorder: BYTEORDER.HOST, prefixes: false,
    encode: (v) => u32host(num(v, 'mark')), decode: (b) => new DataView(sized(b, 4, 'mark').slice().buffer).getUint32(0, true),
  },
  // nft's TYPE_INTEGER as a 4-byte big-endian number: what `numgen` loads after its hton
  integer: {
    name: 'integer', id: 4, len: 4, byteorder: BYTEORDER.BIG, prefixes: false,
    encode: (v) => be32(num(v, 'integer'), 'integer'),
    decode: (b) => new DataView(sized(b, 4, 'integer').slice().buffer).getUint32(0, false),
    range: (v) => {
      if (typeof v !== 'string') return undefined;
      const m = /^(\d+)-(\d+)$/.exec(v);
      if (m === null) throw new TypeError(`an integer range is 'FIRST-LAST', got ${JSON.stringify(v)}`);
      const [first, last] = [Number(m[1]), Number(m[2])];
      if (first > last) throw new RangeError(`integer range ${v}: first above last`);
      return { first: be32(first, 'integer'), last: be32(last, 'integer') };
    },
  },
  ifname: {
    name: 'ifname', id: 41, len: IFNAMSIZ, byteorder: BYTEORDER.HOST, prefixes: false,
    encode: (v) => {
      const s = str(v, 'ifname');
      const bytes = new TextEncoder().encode(s);
      if (bytes.length === 0 || bytes.length >= IFNAMSIZ) throw new TypeError(`invalid interface name ${JSON.stringify(s)}: 1 to ${IFNAMSIZ - 1} bytes`);
      const out = new Uint8Array(IFNAMSIZ);
      out.set(bytes);
      return out;
    },
    decode: (b) => { const v = sized(b, IFNAMSIZ, 'ifname'); const nul = v.indexOf(0); return textDecoder.decode(nul === -1 ? v : v.subarray(0, nul)); },
  },
};

/** The datatype called `name`; TypeError naming the choices for anything else. */
export function datatype(name: DatatypeName): Datatype {
  const t = typeof name === 'string' && Object.hasOwn(DATATYPES, name) ? DATATYPES[name] : undefined;
  if (t === undefined) throw new TypeError(`unknown datatype ${JSON.stringify(name)}: ${Object.keys(DATATYPES).join(', ')}`);
  return t;
}

/** The type id of a key or data of `types`: one id, or a concatenation's ids shifted in by TYPE_BITS each. */
export function typeId(types: readonly Datatype[]): number {
  return types.reduce((id, t) => id * (1 << TYPE_BITS) + t.id, 0);
}

/** The length on the wire of a key or data of `types`: one field as it is, several padded to 4 each. */
export function typeLength(types: readonly Datatype[]): number {
  if (types.length === 1) return types[0]!.len;
  return types.reduce((n, t) => n + Math.ceil(t.len / 4) * 4, 0);
}
