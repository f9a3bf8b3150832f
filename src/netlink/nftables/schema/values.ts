/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * Bytes for registers and keys, as the kernel compares them: addresses and ports in network
 * order, interface names NUL-padded to IFNAMSIZ (16), host-order words for marks and conntrack
 * bits, each field of a concatenation padded to 4 bytes; nft's choice of register for a byte
 * offset; the bounds of a prefix for interval elements.
 */
import { addressRange, bigIntToIp, parseCidr, type Cidr } from '../../../net/cidr.js';
import { encodeIp, ipVersion } from '../../../net/ip.js';
import { IPPROTO, NFT_REG, NFT_REG32_00, NFT_REG32_SIZE, NFT_REG_SIZE } from './constants.js';

/** IFNAMSIZ: an interface name field, NUL included. */
export const IFNAMSIZ = 16;

const textEncoder = new TextEncoder();

/**
 * The register nft loads the byte at `offset` of a key into: a 16-byte register (NFT_REG_1…4)
 * when the offset is a multiple of 16, else a 4-byte one (NFT_REG32_00 + offset / 4). So
 * `meta l4proto . ip daddr . th dport` goes to registers 1, 9 and 10, and `oifname . ip saddr`
 * to 1 and 2. RangeError unless the offset is a multiple of 4 inside the 64 register bytes.
 */
export function registerAt(offset: number): number {
  if (!Number.isInteger(offset) || offset < 0 || offset % NFT_REG32_SIZE !== 0 || offset >= 4 * NFT_REG_SIZE) {
    throw new RangeError(`a register offset must be a multiple of 4 below 64, got ${offset}`);
  }
  return offset % NFT_REG_SIZE === 0 ? NFT_REG[1] + offset / NFT_REG_SIZE : NFT_REG32_00 + offset / NFT_REG32_SIZE;
}

/** `bytes` zero-padded to a multiple of 4, as one field of a concatenation. */
export function padField(bytes: Uint8Array): Uint8Array {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  return padded;
}

/** A concatenation: each field padded to 4 bytes, back to back. */
export function concat(...fields: Uint8Array[]): Uint8Array {
  const padded = fields.map(padField);
  const out = new Uint8Array(padded.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of padded) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/** An interface name as `meta iifname`/`oifname` loads it: 16 bytes, NUL-padded. TypeError over 15 bytes. */
export function ifname(name: string): Uint8Array {
  const bytes = typeof name === 'string' ? textEncoder.encode(name) : undefined;
  if (bytes === undefined || bytes.length === 0 || bytes.length >= IFNAMSIZ) throw new TypeError(`invalid interface name ${JSON.stringify(name)}: 1 to ${IFNAMSIZ - 1} bytes`);
  const out = new Uint8Array(IFNAMSIZ);
  out.set(bytes);
  return out;
}

/** An IPv4 address, 4 bytes in network order. TypeError for anything else. */
export function ipv4(address: string): Uint8Array {
  if (ipVersion(address) !== 4) throw new TypeError(`invalid IPv4 address ${JSON.stringify(address)}`);
  return encodeIp(address);
}

/** An IPv6 address, 16 bytes in network order. TypeError for anything else. */
export function ipv6(address: string): Uint8Array {
  if (ipVersion(address) !== 6) throw new TypeError(`invalid IPv6 address ${JSON.stringify(address)}`);
  return encodeIp(address);
}

/** A port, 2 bytes in network order (`th dport` loads them so). RangeError outside 0–65535. */
export function port(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`invalid port ${n}: 0 to 65535`);
  return Uint8Array.of(n >> 8, n & 0xff);
}

/** A layer-4 protocol by name. */
export type InetProtoName = Lowercase<keyof typeof IPPROTO>;

/** A layer-4 protocol as `meta l4proto` loads it: one byte. TypeError for an unknown name, RangeError past 255. */
export function inetProto(p: InetProtoName | number): Uint8Array {
  const n = typeof p === 'number' ? p : (IPPROTO as Record<string, number>)[typeof p === 'string' ? p.toUpperCase() : ''];
  if (n === undefined) throw new TypeError(`invalid protocol ${JSON.stringify(p)}: ${Object.keys(IPPROTO).map((k) => k.toLowerCase()).join(', ')} or a number`);
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new RangeError(`invalid protocol ${n}: 0 to 255`);
  return Uint8Array.of(n);
}

/** One byte (`meta nfproto` NFPROTO_IPV4 …). */
export function u8(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new RangeError(`invalid byte ${n}`);
  return Uint8Array.of(n);
}

/** A host-order (little-endian) u32, as meta, ct and fib load their numbers (`ct status`, `meta mark`, RTN_LOCAL). */
export function u32host(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`invalid u32 ${n}`);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
}

/** The bounds of a prefix: its first and last address, and the one after it (absent at the top of the space). */
export interface PrefixBounds {
  family: 4 | 6;
  /** The network address */
  first: Uint8Array;
  /** The last address inside (an inclusive end: a pipapo KEY_END) */
  last: Uint8Array;
  /** The first address after it (an rbtree INTERVAL_END element); undefined when the prefix ends the address space */
  next: Uint8Array | undefined;
}

/** The bounds of 'address/prefix' (host bits ignored) or of a bare address. TypeError for anything else. */
export function prefixBounds(cidr: string | Cidr): PrefixBounds {
  const c = typeof cidr === 'string' ? parseCidr(cidr, 'prefix') : cidr;
  const { first, last } = addressRange(c);
  const top = (1n << BigInt(c.family === 4 ? 32 : 128)) - 1n;
  return {
    family: c.family,
    first: encodeIp(bigIntToIp(first, c.family)),
    last: encodeIp(bigIntToIp(last, c.family)),
    next: last === top ? undefined : encodeIp(bigIntToIp(last + 1n, c.family)),
  };
}
