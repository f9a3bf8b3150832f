/**
 * Layer: network.
 *
 * IPAM policy over net/cidr: which subnets a network may have (room for a gateway and a
 * host), which addresses may be handed out (not the network, the gateway or, in IPv4, the
 * broadcast address), sequential allocation, and MACs derived from addresses.
 */
import { nodeCrypto } from '../builtins.js';
import { ConfigError } from '../errors.js';
import { addressRange, bigIntToIp, cidrText, ipToBigInt, parseNetwork, subnetContains, type Cidr } from '../net/cidr.js';
import { encodeIp } from '../net/ip.js';
import { asConfigError } from './config-error.js';

/** A network's subnet: its network address (host bits clear, canonical text) and prefix. */
export interface Subnet extends Cidr {
  /** Canonical 'network/prefix'. */
  cidr: string;
}

/** The longest prefix a subnet may have: a /30 (/126) still holds a gateway and one host. */
const MAX_PREFIX_LEN = { 4: 30, 6: 126 } as const;

/** Parse a network's subnet ('10.88.0.0/16', not '10.88.0.1/16', nor smaller than a /30 or /126). */
export function parseSubnet(text: string): Subnet {
  const network = asConfigError('subnet', () => parseNetwork(text, 'subnet', { prefixRequired: true }));
  const max = MAX_PREFIX_LEN[network.family];
  if (network.prefixLen > max) throw new ConfigError(`invalid subnet ${JSON.stringify(text)}: too small, at most /${max} for IPv${network.family}`, 'subnet');
  return { ...network, cidr: cidrText(network) };
}

/** Whether `address` may be handed out: in the subnet, not network/broadcast/gateway. */
export function checkAssignable(s: Subnet, gateway: string, address: string): void {
  if (!subnetContains(s, address)) throw new ConfigError(`address ${address} is outside the subnet ${s.cidr}`, 'ip');
  const n = ipToBigInt(address);
  const { first, last } = addressRange(s);
  if (n === first) throw new ConfigError(`address ${address} is the network address of ${s.cidr}`, 'ip');
  if (s.family === 4 && n === last) throw new ConfigError(`address ${address} is the broadcast address of ${s.cidr}`, 'ip');
  if (address === gateway || n === ipToBigInt(gateway)) throw new ConfigError(`address ${address} is the gateway of ${s.cidr}`, 'ip');
}

/** A gateway must be a host address of its subnet. */
export function checkGateway(s: Subnet, gateway: string): void {
  if (!subnetContains(s, gateway)) throw new ConfigError(`gateway ${gateway} is outside the subnet ${s.cidr}`, 'gateway');
  const n = ipToBigInt(gateway);
  const { first, last } = addressRange(s);
  if (n === first || (s.family === 4 && n === last)) throw new ConfigError(`gateway ${gateway} is not a host address of ${s.cidr}`, 'gateway');
}

/** The default gateway of a subnet: its first host address. */
export function defaultGateway(s: Subnet): string {
  return bigIntToIp(addressRange(s).first + 1n, s.family);
}

/** The lowest free address, or undefined when the subnet is exhausted. */
export function nextFree(s: Subnet, gateway: string, taken: ReadonlySet<string>): string | undefined {
  const gw = ipToBigInt(gateway);
  const takenBig = new Set<bigint>();
  for (const t of taken) takenBig.add(ipToBigInt(t));
  const { first, last } = addressRange(s);
  const lastHost = s.family === 4 ? last - 1n : last;
  for (let n = first + 1n; n <= lastHost; n++) {
    if (n !== gw && !takenBig.has(n)) return bigIntToIp(n, s.family);
  }
  return undefined;
}

/** A MAC derived from an IPv4 address, locally administered: 02:42:a:b:c:d (as Docker). */
export function macFromIPv4(address: string): string {
  return `02:42:${[...encodeIp(address)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}

/** A random MAC, unicast and locally administered (for a link with no IPv4 address to derive one from). */
export function randomMac(): string {
  const b = nodeCrypto().randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
