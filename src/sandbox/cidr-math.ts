/**
 * Layer: sandbox. Imports: netlink/wire.
 *
 * Containment of addresses in prefixes, for the route-conflict check.
 */
import { encodeIp } from '../netlink/wire/attr.js';

function toBig(address: string): bigint {
  let n = 0n;
  for (const b of encodeIp(address)) n = (n << 8n) | BigInt(b);
  return n;
}

/** Whether `address` lies inside `network/prefixLen` (same family required). */
export function prefixContains(network: string, prefixLen: number, address: string): boolean {
  const bits = network.includes(':') ? 128 : 32;
  if (address.includes(':') !== (bits === 128)) return false;
  const shift = BigInt(bits - prefixLen);
  return toBig(network) >> shift === toBig(address) >> shift;
}

/** Whether an address is unspecified (0.0.0.0, ::). */
export function isUnspecified(address: string): boolean {
  return toBig(address) === 0n;
}
