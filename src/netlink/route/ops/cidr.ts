/**
 * Layer: netlink/route/ops — rtnetlink operations.
 *
 * Parsing of 'address/prefix' strings, with errors that say what was wrong.
 */
import { ipVersion } from '../../wire/ip.js';

export interface Cidr {
  address: string;
  prefixLen: number;
  family: 4 | 6;
}

/** Parse '10.0.0.2/24' or 'fe80::1/64'; a bare address gets the full prefix (/32, /128). */
export function parseCidr(text: string, what = 'address'): Cidr {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a string like '10.0.0.2/24'`);
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = ipVersion(address);
  if (family !== 4 && family !== 6) throw new TypeError(`invalid ${what} ${JSON.stringify(text)}: not an IPv4 or IPv6 address`);
  const max = family === 4 ? 32 : 128;
  let prefixLen = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    prefixLen = /^\d{1,3}$/.test(p) ? Number(p) : NaN;
    if (!(prefixLen >= 0 && prefixLen <= max)) throw new TypeError(`invalid ${what} ${JSON.stringify(text)}: prefix length must be 0 to ${max}`);
  }
  return { address, prefixLen, family };
}

/** Parse a bare IP address. */
export function parseIp(text: string, what = 'address'): { address: string; family: 4 | 6 } {
  const family = typeof text === 'string' ? ipVersion(text) : 0;
  if (family !== 4 && family !== 6) throw new TypeError(`invalid ${what} ${JSON.stringify(text)}: not an IPv4 or IPv6 address`);
  return { address: text, family };
}
