/**
 * Layer: netlink/wire — pure codec, no I/O.
 *
 * `struct nlattr` TLVs (<linux/netlink.h>): decoding, and readers that check each value's
 * length and name the attribute in the DecodeError. AttrWriter, the MAC text codec and the IP
 * text codec (net/ip.ts) live in their own files and are re-exported here.
 */
import { DecodeError } from '../../errors.js';
import { decodeIp } from '../../net/ip.js';
import { decodeMac } from './mac.js';

export { AttrWriter } from './attr-writer.js';
export { encodeIp, decodeIp, ipFamily, ipVersion } from '../../net/ip.js';
export { encodeMac, decodeMac, isEthernetMac, checkEthernetMac } from './mac.js';

export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
/** NLA_TYPE_MASK: the type bits left after removing the two flags. */
export const NLA_TYPE_MASK = 0x3fff;
/** sizeof(struct nlattr). */
export const NLA_HDRLEN = 4;

/** One attribute. `type` has the NLA_F_* bits masked off (they are in `flags`); `value` is a view into the input. */
export interface Attr {
  type: number;
  value: Uint8Array;
  /** The NLA_F_NESTED / NLA_F_NET_BYTEORDER bits as sent. */
  flags: number;
}

function checkRange(buf: Uint8Array, offset: number, end: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(end) || offset < 0 || end > buf.length || offset > end) {
    throw new DecodeError('nlattr', offset, `range [${offset}, ${end}) is outside the ${buf.length}-byte buffer`);
  }
}

/**
 * Walk the attributes in buf[offset, end), checking each: nla_len < 4, an attribute past
 * `end`, or 1–3 stray trailing bytes throw DecodeError. `visit` gets the type (flags masked
 * off), the raw type bits, and the bounds of the value.
 */
function walkAttrs(buf: Uint8Array, offset: number, end: number, visit: (type: number, rawType: number, start: number, end: number) => void): void {
  checkRange(buf, offset, end);
  let off = offset;
  while (off < end) {
    if (end - off < NLA_HDRLEN) throw new DecodeError('nlattr', off, `${end - off} stray bytes after the last attribute`);
    const len = buf[off]! | (buf[off + 1]! << 8);
    const rawType = buf[off + 2]! | (buf[off + 3]! << 8);
    if (len < NLA_HDRLEN) throw new DecodeError('nlattr', off, `nla_len ${len} is shorter than the 4-byte header`);
    if (off + len > end) throw new DecodeError('nlattr', off, `nla_len ${len} runs ${off + len - end} bytes past the end`);
    visit(rawType & NLA_TYPE_MASK, rawType, off + NLA_HDRLEN, off + len);
    off += (len + 3) & ~3;
  }
}

/** The attributes in buf[offset, end), in order. Strict: nla_len < 4, an attribute past `end`, or 1–3 stray trailing bytes throw DecodeError. */
export function decodeAttrs(buf: Uint8Array, offset = 0, end: number = buf.length): Attr[] {
  const out: Attr[] = [];
  walkAttrs(buf, offset, end, (type, rawType, start, stop) => {
    out.push({ type, value: buf.subarray(start, stop), flags: rawType & ~NLA_TYPE_MASK });
  });
  return out;
}

/** Attribute types below this are indexed in a typed array; rarer, larger ones in a Map. */
const SMALL_TYPES = 128;

/**
 * The attributes of a buffer by type, for decoders: `get` makes the value view only for an
 * attribute that is read. When a type repeats, the last one wins.
 */
export class AttrIndex {
  readonly #buf: Uint8Array;
  /** [start, end) of each small type's value, start + 1 so that 0 means absent. */
  readonly #bounds = new Int32Array(SMALL_TYPES * 2);
  #large: Map<number, number> | undefined;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }

  /** Internal: record the value buf[start, end) for `type`. */
  put(type: number, start: number, end: number): void {
    if (type < SMALL_TYPES) {
      this.#bounds[type * 2] = start + 1;
      this.#bounds[type * 2 + 1] = end;
    } else {
      (this.#large ??= new Map()).set(type, start * 0x10000 + (end - start));
    }
  }

  has(type: number): boolean {
    return type < SMALL_TYPES ? this.#bounds[type * 2] !== 0 : this.#large?.has(type) === true;
  }

  /** The value of `type` (a view into the buffer), or undefined when absent. */
  get(type: number): Uint8Array | undefined {
    if (type < SMALL_TYPES) {
      const start = this.#bounds[type * 2]!;
      return start === 0 ? undefined : this.#buf.subarray(start - 1, this.#bounds[type * 2 + 1]);
    }
    const packed = this.#large?.get(type);
    if (packed === undefined) return undefined;
    const at = Math.floor(packed / 0x10000);
    return this.#buf.subarray(at, at + (packed % 0x10000));
  }
}

/**
 * The attributes in buf[offset, end) by type, as strict as decodeAttrs, without an object and
 * a view per attribute (this runs for every reply).
 */
export function attrMap(buf: Uint8Array, offset = 0, end: number = buf.length): AttrIndex {
  const index = new AttrIndex(buf);
  walkAttrs(buf, offset, end, (type, _rawType, start, stop) => index.put(type, start, stop));
  return index;
}

function fixed(v: Uint8Array, size: number, what: string): DataView {
  checkSize(v, size, what);
  return new DataView(v.buffer, v.byteOffset, size);
}

function checkSize(v: Uint8Array, size: number, what: string): void {
  if (v.length !== size) throw new DecodeError(what, 0, `expected a ${size}-byte value, got ${v.length} bytes`);
}

// The little-endian readers below index the bytes directly: a DataView per value is an
// allocation, and replies carry dozens of these.

export function readU8(v: Uint8Array, what: string): number {
  checkSize(v, 1, what);
  return v[0]!;
}

export function readU16(v: Uint8Array, what: string): number {
  checkSize(v, 2, what);
  return v[0]! | (v[1]! << 8);
}

export function readU32(v: Uint8Array, what: string): number {
  return readS32(v, what) >>> 0;
}

export function readS32(v: Uint8Array, what: string): number {
  checkSize(v, 4, what);
  return v[0]! | (v[1]! << 8) | (v[2]! << 16) | (v[3]! << 24);
}

export function readU64(v: Uint8Array, what: string): bigint {
  return fixed(v, 8, what).getBigUint64(0, true);
}

/** A 16-bit value in network byte order (e.g. IFLA_VXLAN_PORT, NDA_PORT). */
export function readBe16(v: Uint8Array, what: string): number {
  return fixed(v, 2, what).getUint16(0, false);
}

export function readBe32(v: Uint8Array, what: string): number {
  return fixed(v, 4, what).getUint32(0, false);
}

/** A signed 32-bit value in network byte order (nf_tables: a hook priority, a verdict code). */
export function readBeS32(v: Uint8Array, what: string): number {
  return fixed(v, 4, what).getInt32(0, false);
}

/** A 64-bit value in network byte order (nf_tables handles and counters). */
export function readBe64(v: Uint8Array, what: string): bigint {
  return fixed(v, 8, what).getBigUint64(0, false);
}

const textDecoder = new TextDecoder('utf-8');

/** A string up to the first NUL (a terminating NUL is not required). Invalid UTF-8 becomes U+FFFD. */
export function readString(v: Uint8Array, _what: string): string {
  const nul = v.indexOf(0);
  return textDecoder.decode(nul === -1 ? v : v.subarray(0, nul));
}

/** 4 bytes → '10.0.0.1', 16 bytes → RFC 5952 text ('fe80::1'); DecodeError otherwise. */
export function readIp(v: Uint8Array, what: string): string {
  if (v.length !== 4 && v.length !== 16) throw new DecodeError(what, 0, `expected a 4- or 16-byte address, got ${v.length} bytes`);
  return decodeIp(v);
}

/** Lowercase colon hex of any non-zero length; DecodeError when empty. */
export function readMac(v: Uint8Array, what: string): string {
  if (v.length === 0) throw new DecodeError(what, 0, 'empty link-layer address');
  return decodeMac(v);
}
