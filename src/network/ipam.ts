/**
 * Layer: network.
 *
 * Address arithmetic for IPAM: subnets, gateways, sequential allocation that skips the
 * network address, the gateway and (IPv4) the broadcast address.
 */
import { ipVersion } from '../netlink/wire/ip.js';
import { bigIntToIp, encodeIp, ipToBigInt } from '../netlink/wire/attr.js';
import { ConfigError } from '../errors.js';

export { ipToBigInt, bigIntToIp } from '../netlink/wire/attr.js';

export interface Subnet {
  family: 4 | 6;
  /** Canonical 'network/prefix'. */
  cidr: string;
  prefixLen: number;
  network: bigint;
  bits: number;
}

/** Parse a subnet; the host bits must be zero ('10.88.0.0/16', not '10.88.0.1/16'). */
export function parseSubnet(text: string): Subnet {
  const slash = typeof text === 'string' ? text.indexOf('/') : -1;
  const addr = slash > 0 ? text.slice(0, slash) : '';
  const family = ipVersion(addr);
  const prefixText = slash > 0 ? text.slice(slash + 1) : '';
  const bits = family === 6 ? 128 : 32;
  const prefixLen = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if ((family !== 4 && family !== 6) || !(prefixLen >= 0 && prefixLen <= bits)) {
    throw new ConfigError(`invalid subnet ${JSON.stringify(text)}: expected network/prefix, e.g. 10.89.0.0/24 or fd00:89::/64`, 'subnet');
  }
  const maxPrefix = family === 4 ? 30 : 126;
  if (prefixLen > maxPrefix) throw new ConfigError(`subnet ${text} is too small: at most /${maxPrefix} for IPv${family}`, 'subnet');
  const network = ipToBigInt(addr);
  const hostMask = (1n << BigInt(bits - prefixLen)) - 1n;
  if ((network & hostMask) !== 0n) {
    throw new ConfigError(`invalid subnet ${text}: host bits are set; did you mean ${bigIntToIp(network & ~hostMask, family)}/${prefixLen}?`, 'subnet');
  }
  return { family, cidr: `${bigIntToIp(network, family)}/${prefixLen}`, prefixLen, network, bits };
}

export function subnetContains(s: Subnet, address: string): boolean {
  if (ipVersion(address) !== s.family) return false;
  const shift = BigInt(s.bits - s.prefixLen);
  return ipToBigInt(address) >> shift === s.network >> shift;
}

export function subnetsOverlap(a: Subnet, b: Subnet): boolean {
  if (a.family !== b.family) return false;
  const shift = BigInt(a.bits - Math.min(a.prefixLen, b.prefixLen));
  return a.network >> shift === b.network >> shift;
}

function lastAddress(s: Subnet): bigint {
  return s.network | ((1n << BigInt(s.bits - s.prefixLen)) - 1n);
}

/** Whether `address` may be handed out: in the subnet, not network/broadcast/gateway. */
export function checkAssignable(s: Subnet, gateway: string, address: string): void {
  if (!subnetContains(s, address)) throw new ConfigError(`address ${address} is outside the subnet ${s.cidr}`, 'ip');
  const n = ipToBigInt(address);
  if (n === s.network) throw new ConfigError(`address ${address} is the network address of ${s.cidr}`, 'ip');
  if (s.family === 4 && n === lastAddress(s)) throw new ConfigError(`address ${address} is the broadcast address of ${s.cidr}`, 'ip');
  if (address === gateway || n === ipToBigInt(gateway)) throw new ConfigError(`address ${address} is the gateway of ${s.cidr}`, 'ip');
}

/** A gateway must be a host address of its subnet. */
export function checkGateway(s: Subnet, gateway: string): void {
  if (!subnetContains(s, gateway)) throw new ConfigError(`gateway ${gateway} is outside the subnet ${s.cidr}`, 'gateway');
  const n = ipToBigInt(gateway);
  if (n === s.network || (s.family === 4 && n === lastAddress(s))) throw new ConfigError(`gateway ${gateway} is not a host address of ${s.cidr}`, 'gateway');
}

/** The default gateway of a subnet: its first host address. */
export function defaultGateway(s: Subnet): string {
  return bigIntToIp(s.network + 1n, s.family);
}

/** The lowest free address, or undefined when the subnet is exhausted. */
export function nextFree(s: Subnet, gateway: string, taken: ReadonlySet<string>): string | undefined {
  const gw = ipToBigInt(gateway);
  const takenBig = new Set<bigint>();
  for (const t of taken) takenBig.add(ipToBigInt(t));
  const last = s.family === 4 ? lastAddress(s) - 1n : lastAddress(s);
  for (let n = s.network + 1n; n <= last; n++) {
    if (n !== gw && !takenBig.has(n)) return bigIntToIp(n, s.family);
  }
  return undefined;
}

/** A MAC derived from an IPv4 address, locally administered: 02:42:a:b:c:d (as Docker). */
export function macFromIPv4(address: string): string {
  return `02:42:${[...encodeIp(address)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}
