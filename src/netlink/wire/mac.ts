/**
 * Layer: netlink/wire — pure codec, no I/O.
 *
 * Link-layer addresses as lowercase colon hex ('aa:bb:cc:dd:ee:ff') <-> bytes. Any length of at
 * least one byte: 6 for Ethernet, 20 for InfiniBand, 4 for some tunnels.
 */
import { DecodeError } from '../../errors.js';

const MAC_RE = /^[0-9a-f]{2}(?::[0-9a-f]{2})*$/i;
const ETHERNET_MAC_RE = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

/** Whether `s` is a 6-byte (Ethernet) address in colon hex, 'aa:bb:cc:dd:ee:ff'. */
export function isEthernetMac(s: string): boolean {
  return typeof s === 'string' && ETHERNET_MAC_RE.test(s);
}

/** TypeError unless `s` is an Ethernet address ('aa:bb:cc:dd:ee:ff'). */
export function checkEthernetMac(s: string): void {
  if (!isEthernetMac(s)) throw new TypeError(`invalid MAC address ${JSON.stringify(s)}: expected aa:bb:cc:dd:ee:ff`);
}

/** 'aa:bb:cc:dd:ee:ff' → bytes. TypeError unless it is colon-separated two-digit hex octets. */
export function encodeMac(s: string): Uint8Array {
  if (!MAC_RE.test(s)) throw new TypeError(`invalid link-layer address: ${JSON.stringify(s)}`);
  const parts = s.split(':');
  const out = new Uint8Array(parts.length);
  parts.forEach((p, i) => {
    out[i] = parseInt(p, 16);
  });
  return out;
}

/** Bytes → lowercase colon hex; DecodeError for zero bytes. */
export function decodeMac(bytes: Uint8Array): string {
  if (bytes.length === 0) throw new DecodeError('link-layer address', 0, 'empty');
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) s += ':';
    s += (bytes[i] ?? 0).toString(16).padStart(2, '0');
  }
  return s;
}
