/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * IFLA_STATS64: struct rtnl_link_stats64 (<linux/if_link.h>), 64-bit counters in kernel order.
 * Counters decode to `number`, exact up to 2^53 (9 PB, or 285 years of 1 Mpps); beyond that they
 * round. The first 24 fields are read; a shorter struct (older kernels) leaves the rest 0, a
 * longer one (newer kernels) has its extra fields ignored.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';

export interface LinkStats64 {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
  multicast: number;
  collisions: number;
  rxLengthErrors: number;
  rxOverErrors: number;
  rxCrcErrors: number;
  rxFrameErrors: number;
  rxFifoErrors: number;
  rxMissedErrors: number;
  txAbortedErrors: number;
  txCarrierErrors: number;
  txFifoErrors: number;
  txHeartbeatErrors: number;
  txWindowErrors: number;
  rxCompressed: number;
  txCompressed: number;
  rxNohandler: number;
}

/** Field names in struct order. */
export const LINK_STATS64_FIELDS = [
  'rxPackets', 'txPackets', 'rxBytes', 'txBytes', 'rxErrors', 'txErrors', 'rxDropped', 'txDropped',
  'multicast', 'collisions', 'rxLengthErrors', 'rxOverErrors', 'rxCrcErrors', 'rxFrameErrors',
  'rxFifoErrors', 'rxMissedErrors', 'txAbortedErrors', 'txCarrierErrors', 'txFifoErrors',
  'txHeartbeatErrors', 'txWindowErrors', 'rxCompressed', 'txCompressed', 'rxNohandler',
] as const satisfies readonly (keyof LinkStats64)[];

const TWO_32 = 2 ** 32;

/** Decode an IFLA_STATS64 value of any length (see the module comment). */
export function decodeLinkStats64(v: Uint8Array): LinkStats64 {
  const dv = new DataView(v.buffer, v.byteOffset, v.length);
  const n = Math.min(LINK_STATS64_FIELDS.length, Math.floor(v.length / 8));
  const out = {} as LinkStats64;
  LINK_STATS64_FIELDS.forEach((name, i) => {
    out[name] = i < n ? dv.getUint32(i * 8, true) + dv.getUint32(i * 8 + 4, true) * TWO_32 : 0;
  });
  return out;
}

/** Write `s` as an attribute of `type` (IFLA_STATS64): 24 u64 counters. */
export function encodeLinkStats64(w: AttrWriter, type: number, s: LinkStats64): void {
  const bytes = new Uint8Array(LINK_STATS64_FIELDS.length * 8);
  const dv = new DataView(bytes.buffer);
  LINK_STATS64_FIELDS.forEach((name, i) => {
    const v = s[name];
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`stats64.${name} must be a non-negative safe integer, got ${v}`);
    dv.setUint32(i * 8, v % TWO_32, true);
    dv.setUint32(i * 8 + 4, Math.floor(v / TWO_32), true);
  });
  w.bytes(type, bytes);
}
