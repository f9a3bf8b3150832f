/**
 * Layer: net — addresses, a pure leaf over errors.ts.
 *
 * IP addresses as text <-> the 4- or 16-byte network-order form that netlink attributes
 * (IFA_*, RTA_*, NDA_*, IFLA_VXLAN_*) and packets (ARP, NA) carry. IPv6 text output is RFC
 * 5952 canonical. Prefixes and their arithmetic are cidr.ts.
 */
import { DecodeError } from '../errors.js';

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Dotted quad, each octet 0-255 without leading zeros (as net.isIP). A loop, not a regex: it runs per address. */
function isIpv4(s: string): boolean {
  let dots = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || ++dots > 3) return false;
      digits = 0;
      value = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && value === 0) return false; // leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else {
      return false;
    }
  }
  return dots === 3 && digits > 0;
}

function isIpv6(s: string): boolean {
  let text = s;
  const zone = text.indexOf('%');
  if (zone >= 0) {
    if (!/^%[0-9a-zA-Z\-.:]+$/.test(text.slice(zone))) return false;
    text = text.slice(0, zone);
  }
  let groups = 8;
  if (text.includes('.')) {
    const cut = text.lastIndexOf(':');
    if (cut < 0 || !isIpv4(text.slice(cut + 1))) return false;
    text = text.slice(0, cut + 1) + (text[cut - 1] === ':' ? '' : '0');
    groups = 7;
  }
  const dbl = text.indexOf('::');
  if (dbl !== text.lastIndexOf('::')) return false;
  const split = (part: string): string[] | undefined => {
    if (part === '') return [];
    const g = part.split(':');
    return g.every((x) => HEX_GROUP.test(x)) ? g : undefined;
  };
  if (dbl === -1) {
    const all = split(text);
    return all !== undefined && all.length === groups;
  }
  const head = split(text.slice(0, dbl));
  const tail = split(text.slice(dbl + 2));
  return head !== undefined && tail !== undefined && head.length + tail.length < groups;
}

/**
 * 4, 6, or 0 for anything else — the answers of `net.isIP`, without its IPv6 regular
 * expression, whose first use costs ~9 ms (a noticeable share of a CLI's cold start).
 */
export function ipVersion(s: string): 0 | 4 | 6 {
  if (typeof s !== 'string') return 0;
  if (isIpv4(s)) return 4;
  return s.includes(':') && isIpv6(s) ? 6 : 0;
}

/** 4 or 6 for a valid address string; TypeError otherwise. */
export function ipFamily(s: string): 4 | 6 {
  const family = ipVersion(s);
  if (family === 4 || family === 6) return family;
  throw new TypeError(`invalid IP address: ${JSON.stringify(s)}`);
}

function encodeIpv4(s: string, into: Uint8Array, at: number): void {
  const parts = s.split('.');
  for (let i = 0; i < 4; i++) into[at + i] = Number(parts[i]);
}

/**
 * '10.0.0.1' → 4 bytes, 'fe80::1' / '::ffff:1.2.3.4' → 16 bytes. Throws TypeError on anything
 * `net.isIP` rejects, and on IPv6 zone indexes ('fe80::1%eth0'), which have no wire form here.
 */
export function encodeIp(s: string): Uint8Array {
  const family = ipFamily(s);
  if (family === 4) {
    const out = new Uint8Array(4);
    encodeIpv4(s, out, 0);
    return out;
  }
  if (s.includes('%')) throw new TypeError(`IPv6 zone index is not representable: ${JSON.stringify(s)}`);
  const out = new Uint8Array(16);
  let text = s;
  let groups = 8;
  if (text.includes('.')) {
    // An embedded dotted quad fills the last 32 bits.
    const cut = text.lastIndexOf(':');
    encodeIpv4(text.slice(cut + 1), out, 12);
    text = text.slice(0, cut + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
    groups = 6;
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const dbl = text.indexOf('::');
  const head = parse(dbl === -1 ? text : text.slice(0, dbl));
  const tail = dbl === -1 ? [] : parse(text.slice(dbl + 2));
  const words = [...head, ...new Array<number>(groups - head.length - tail.length).fill(0), ...tail];
  for (let i = 0; i < groups; i++) {
    const w = words[i] ?? 0;
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  }
  return out;
}

/** 4 bytes → dotted quad, 16 bytes → RFC 5952 text; DecodeError for any other length. */
export function decodeIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) {
    throw new DecodeError('IP address', 0, `expected 4 or 16 bytes, got ${bytes.length}`);
  }
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((bytes[i * 2] ?? 0) << 8) | (bytes[i * 2 + 1] ?? 0));
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  // §4.2: compress the longest run (leftmost on ties) of two or more zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestLen < 2) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}
