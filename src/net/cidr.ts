/**
 * Layer: net — addresses, a pure leaf over errors.ts.
 *
 * Prefixes ('10.0.0.2/24', 'fd00:89::/64'): parsing with errors that say what was wrong,
 * canonical text, containment and overlap, the network of a prefix, and the integers the
 * arithmetic runs on. The one home of prefix arithmetic; text <-> bytes is ip.ts.
 *
 * Parse errors are TypeErrors worded `invalid <what> "<text>": <reason>`, `what` being the
 * caller's name for the value ('route destination', '--dst', 'subnet').
 */
import { decodeIp, encodeIp, ipVersion } from './ip.js';

/** A bare address and its family. */
export interface Ip {
  address: string;
  family: 4 | 6;
}

/** An address with a prefix length: an interface address ('10.0.0.2/24') or a network ('10.0.0.0/24'). */
export interface Cidr extends Ip {
  prefixLen: number;
}

/** The prefix length after the slash: 1 to 3 digits, no sign, space or leading text. */
const PREFIX_LEN = /^\d{1,3}$/;

function invalid(what: string, text: unknown, reason: string): TypeError {
  return new TypeError(`invalid ${what} ${typeof text === 'string' ? JSON.stringify(text) : String(text)}: ${reason}`);
}

/** Bits in an address of the family: 32 or 128. */
function addressBits(family: 4 | 6): 32 | 128 {
  return family === 4 ? 32 : 128;
}

/** The family of `address`, part of `text`; the error quotes all of `text`. */
function familyOf(address: string, what: string, text: unknown): 4 | 6 {
  const family = ipVersion(address);
  if (family === 0) throw invalid(what, text, typeof text === 'string' ? 'not an IPv4 or IPv6 address' : 'expected a string');
  return family;
}

/** Parse a bare IPv4 or IPv6 address ('10.0.0.1', 'fe80::1'); the text is kept as given. */
export function parseIp(text: string, what = 'address'): Ip {
  return { address: text, family: familyOf(text, what, text) };
}

/**
 * Parse 'address/prefix' ('10.0.0.2/24', 'fe80::1/64'); a bare address gets the full prefix
 * (/32, /128). Host bits may be set (an interface address); the address is kept as given.
 */
export function parseCidr(text: string, what = 'address'): Cidr {
  const slash = typeof text === 'string' ? text.indexOf('/') : -1;
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = familyOf(address, what, text);
  const bits = addressBits(family);
  if (slash < 0) return { address, family, prefixLen: bits };
  const digits = text.slice(slash + 1);
  const prefixLen = PREFIX_LEN.test(digits) ? Number(digits) : NaN;
  if (!(prefixLen >= 0 && prefixLen <= bits)) throw invalid(what, text, `prefix length must be 0 to ${bits}`);
  return { address, family, prefixLen };
}

/**
 * Parse a network: a prefix with its host bits clear, returned in canonical text. Host bits
 * set is an error that names the network meant. With `prefixRequired`, a bare address is an
 * error instead of a /32 or /128.
 */
export function parseNetwork(text: string, what = 'network', options: { prefixRequired?: boolean } = {}): Cidr {
  const c = parseCidr(text, what);
  if (options.prefixRequired && !text.includes('/')) throw invalid(what, text, 'expected network/prefix, e.g. 10.89.0.0/24 or fd00:89::/64');
  const network = networkOf(c);
  if (ipToBigInt(c.address) !== ipToBigInt(network.address)) throw invalid(what, text, `host bits are set (the network is ${cidrText(network)})`);
  return network;
}

/** 'address/prefix'. */
export function cidrText(c: Pick<Cidr, 'address' | 'prefixLen'>): string {
  return `${c.address}/${c.prefixLen}`;
}

/** The same prefix with the address in canonical text (RFC 5952 for IPv6), as the kernel reports it. */
export function canonicalCidr(c: Cidr): Cidr {
  return { ...c, address: decodeIp(encodeIp(c.address)) };
}

/** An address as an unsigned integer (32 or 128 bits). */
export function ipToBigInt(address: string): bigint {
  let n = 0n;
  for (const b of encodeIp(address)) n = (n << 8n) | BigInt(b);
  return n;
}

/** The address with value `n` in `family`, in canonical text. */
export function bigIntToIp(n: bigint, family: 4 | 6): string {
  const bytes = new Uint8Array(addressBits(family) / 8);
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return decodeIp(bytes);
}

function hostMask(c: Pick<Cidr, 'family' | 'prefixLen'>): bigint {
  return (1n << BigInt(addressBits(c.family) - c.prefixLen)) - 1n;
}

/** The first (network) and last (IPv4: broadcast) address of the prefix, as integers. */
export function addressRange(c: Cidr): { first: bigint; last: bigint } {
  const mask = hostMask(c);
  const first = ipToBigInt(c.address) & ~mask;
  return { first, last: first | mask };
}

/** The network of a prefix: host bits cleared, canonical text ('10.0.0.2/24' -> '10.0.0.0/24'). */
export function networkOf(c: Cidr): Cidr {
  return { address: bigIntToIp(addressRange(c).first, c.family), family: c.family, prefixLen: c.prefixLen };
}

/** Whether `address` lies in the prefix; host bits of the prefix are ignored, another family never does. */
export function subnetContains(c: Cidr, address: string): boolean {
  if (ipVersion(address) !== c.family) return false;
  const shift = BigInt(addressBits(c.family) - c.prefixLen);
  return ipToBigInt(address) >> shift === ipToBigInt(c.address) >> shift;
}

/** Whether two prefixes share an address (one holds the other); prefixes of two families never do. */
export function subnetsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const shift = BigInt(addressBits(a.family) - Math.min(a.prefixLen, b.prefixLen));
  return ipToBigInt(a.address) >> shift === ipToBigInt(b.address) >> shift;
}

/** Whether an address is the unspecified one (0.0.0.0, ::). */
export function isUnspecified(address: string): boolean {
  return ipToBigInt(address) === 0n;
}
