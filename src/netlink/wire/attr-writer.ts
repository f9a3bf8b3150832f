/**
 * Layer: netlink/wire — pure codec, no I/O.
 *
 * AttrWriter: a growable byte builder for whole netlink messages — fixed structs via
 * `reserve`/`view`/`raw`, then `struct nlattr` TLVs, each padded with zeros to 4 bytes.
 * Integers are host order (little-endian) unless the method says `be`. Misuse (a value out of
 * range, an attribute longer than 65535 bytes) throws RangeError/TypeError.
 */
import { encodeIp } from '../../net/ip.js';
import { encodeMac } from './mac.js';

/** NLA_HDRLEN: sizeof(struct nlattr). */
const HDR = 4;
/** NLA_F_NESTED — kept local to avoid an import cycle with attr.ts (same value). */
const NESTED = 0x8000;
const MAX_ATTR_LEN = 0xffff;

function align(n: number): number {
  return (n + 3) & ~3;
}

function checkInt(v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${what} must be an integer in [${min}, ${max}], got ${v}`);
  }
}

function checkType(type: number): void {
  checkInt(type, 0, 0xffff, 'attribute type');
}

const textEncoder = new TextEncoder();

export class AttrWriter {
  #buf: Uint8Array;
  #dv: DataView;
  #len = 0;

  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(Math.max(16, initialCapacity));
    this.#dv = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far (always a multiple of 4 after each whole write). */
  get length(): number {
    return this.#len;
  }

  /** A DataView over the whole internal buffer. Offsets are absolute; it goes stale when the buffer grows, so re-fetch after writes. */
  view(): DataView {
    return this.#dv;
  }

  /** Start over, reusing the buffer (zeroed, so reserved struct padding reads as zero). */
  reset(): this {
    this.#buf.fill(0, 0, this.#len);
    this.#len = 0;
    return this;
  }

  /** The bytes written; a view of the internal buffer, so stop writing after calling it. */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  #grow(extra: number): void {
    const need = this.#len + extra;
    if (need <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#dv = new DataView(next.buffer);
  }

  /** Reserve `n` zeroed bytes (plus zero padding to 4) and return their offset. */
  reserve(n: number): number {
    checkInt(n, 0, 0x7fffffff, 'reserve size');
    const total = align(n);
    this.#grow(total);
    const at = this.#len;
    this.#buf.fill(0, at, at + total);
    this.#len += total;
    return at;
  }

  /** Append raw bytes (e.g. a fixed struct), zero-padded to 4. Returns their offset. */
  raw(bytes: Uint8Array): number {
    const at = this.reserve(bytes.length);
    this.#buf.set(bytes, at);
    return at;
  }

  #attr(type: number, valueLen: number): number {
    checkType(type);
    if (HDR + valueLen > MAX_ATTR_LEN) {
      throw new RangeError(`attribute ${type} value of ${valueLen} bytes exceeds the 16-bit nla_len`);
    }
    const at = this.reserve(HDR + valueLen);
    this.#dv.setUint16(at, HDR + valueLen, true);
    this.#dv.setUint16(at + 2, type, true);
    return at + HDR;
  }

  /** An attribute with an arbitrary value. */
  bytes(type: number, value: Uint8Array): this {
    const at = this.#attr(type, value.length);
    this.#buf.set(value, at);
    return this;
  }

  u8(type: number, v: number): this {
    checkInt(v, 0, 0xff, 'u8');
    const at = this.#attr(type, 1); // first: it may grow the buffer and replace #buf
    this.#buf[at] = v;
    return this;
  }

  u16(type: number, v: number): this {
    checkInt(v, 0, 0xffff, 'u16');
    const at = this.#attr(type, 2); // first: it may grow the buffer and replace #dv
    this.#dv.setUint16(at, v, true);
    return this;
  }

  u32(type: number, v: number): this {
    checkInt(v, 0, 0xffffffff, 'u32');
    const at = this.#attr(type, 4); // first: it may grow the buffer and replace #dv
    this.#dv.setUint32(at, v, true);
    return this;
  }

  s32(type: number, v: number): this {
    checkInt(v, -0x80000000, 0x7fffffff, 's32');
    const at = this.#attr(type, 4); // first: it may grow the buffer and replace #dv
    this.#dv.setInt32(at, v, true);
    return this;
  }

  u64(type: number, v: bigint): this {
    if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`u64 out of range: ${v}`);
    const at = this.#attr(type, 8); // first: it may grow the buffer and replace #dv
    this.#dv.setBigUint64(at, v, true);
    return this;
  }

  /** A 16-bit value in network byte order (e.g. a UDP port). The NLA_F_NET_BYTEORDER bit is not set, as iproute2 does. */
  be16(type: number, v: number): this {
    checkInt(v, 0, 0xffff, 'be16');
    const at = this.#attr(type, 2); // first: it may grow the buffer and replace #dv
    this.#dv.setUint16(at, v, false);
    return this;
  }

  /** A 32-bit value in network byte order. */
  be32(type: number, v: number): this {
    checkInt(v, 0, 0xffffffff, 'be32');
    const at = this.#attr(type, 4); // first: it may grow the buffer and replace #dv
    this.#dv.setUint32(at, v, false);
    return this;
  }

  /** A signed 32-bit value in network byte order (two's complement). */
  beS32(type: number, v: number): this {
    checkInt(v, -0x80000000, 0x7fffffff, 'signed be32');
    const at = this.#attr(type, 4); // first: it may grow the buffer and replace #dv
    this.#dv.setInt32(at, v, false);
    return this;
  }

  /** A 64-bit value in network byte order. */
  be64(type: number, v: bigint): this {
    if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`be64 out of range: ${String(v)}`);
    const at = this.#attr(type, 8); // first: it may grow the buffer and replace #dv
    this.#dv.setBigUint64(at, v, false);
    return this;
  }

  /** A NUL-terminated UTF-8 string. */
  string(type: number, s: string): this {
    const bytes = textEncoder.encode(s);
    const at = this.#attr(type, bytes.length + 1);
    this.#buf.set(bytes, at);
    return this;
  }

  /** A zero-length attribute (NLA_FLAG). */
  flag(type: number): this {
    this.#attr(type, 0);
    return this;
  }

  /** An IP address: 4 or 16 bytes, network order. TypeError on an invalid address. */
  ip(type: number, addr: string): this {
    return this.bytes(type, encodeIp(addr));
  }

  /** A link-layer address 'aa:bb:…'. TypeError on a malformed one. */
  mac(type: number, addr: string): this {
    return this.bytes(type, encodeMac(addr));
  }

  /**
   * An attribute whose value `body` writes into this same writer, WITHOUT NLA_F_NESTED: for
   * values that are a fixed struct followed by attributes (a netem's TCA_OPTIONS).
   */
  struct(type: number, body: (w: this) => void): this {
    checkType(type);
    const at = this.reserve(HDR);
    body(this);
    const len = this.#len - at;
    if (len > MAX_ATTR_LEN) throw new RangeError(`attribute ${type} of ${len} bytes exceeds the 16-bit nla_len`);
    this.#dv.setUint16(at, len, true);
    this.#dv.setUint16(at + 2, type, true);
    return this;
  }

  /** A nested attribute (NLA_F_NESTED set) whose contents `body` writes into this same writer. */
  nest(type: number, body: (w: this) => void): this {
    checkType(type);
    const at = this.reserve(HDR);
    body(this);
    const len = this.#len - at;
    if (len > MAX_ATTR_LEN) throw new RangeError(`nested attribute ${type} of ${len} bytes exceeds the 16-bit nla_len`);
    this.#dv.setUint16(at, len, true);
    this.#dv.setUint16(at + 2, type | NESTED, true);
    return this;
  }
}
