/**
 * Layer: sandbox.
 *
 * Containment of addresses in prefixes, for the route-conflict check.
 */
import { ipToBigInt } from '../netlink/wire/attr.js';

/** Whether `address` lies inside `network/prefixLen` (same family required). */
export function prefixContains(network: string, prefixLen: number, address: string): boolean {
  const bits = network.includes(':') ? 128 : 32;
  if (address.includes(':') !== (bits === 128)) return false;
  const shift = BigInt(bits - prefixLen);
  return ipToBigInt(network) >> shift === ipToBigInt(address) >> shift;
}

/** Whether an address is unspecified (0.0.0.0, ::). */
export function isUnspecified(address: string): boolean {
  return ipToBigInt(address) === 0n;
}
