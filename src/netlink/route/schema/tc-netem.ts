/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * netem (delay, jitter, loss, duplication, corruption, reordering, rate), as iproute2 6.1's
 * tc/q_netem.c writes it. Unlike tbf and htb, its TCA_OPTIONS is not a plain nest: struct
 * tc_netem_qopt (<linux/pkt_sched.h>: latency and jitter in psched ticks, limit in packets,
 * loss, gap, duplicate as fractions of 2^32-1) comes first, then TCA_NETEM_* attributes:
 * REORDER and CORRUPT (struct tc_netem_reorder/_corrupt: probability, correlation), RATE64 and
 * RATE (struct tc_netem_rate: bytes/s, packet_overhead, cell_size, cell_overhead). A dump adds
 * LATENCY64/JITTER64 in ns, read back in preference to the ticks. Kernels without
 * CONFIG_NET_SCH_NETEM refuse the kind (ENOENT).
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readU64 } from '../../wire/attr.js';
import { TCA, TCA_NETEM } from './constants.js';
import { type PschedClock, bitsPerSecond, bytesPerSecond, rate32, structView } from './tc-rate.js';

export interface NetemOptions {
  kind: 'netem';
  /** Queue limit in packets (tc's default 1000). */
  limit?: number;
  /** Added delay, µs. */
  delay?: number;
  /** Random variation of the delay, µs (needs delay). */
  jitter?: number;
  /** Percent of packets dropped (0–100, fractions allowed). */
  loss?: number;
  /** Percent duplicated. */
  duplicate?: number;
  /** Percent with a bit flipped. */
  corrupt?: number;
  /** Percent sent at once, out of order (needs delay); `gap` as in tc (default 1 with reorder). */
  reorder?: number;
  gap?: number;
  /** Rate limit in bits/s. */
  rate?: number | bigint;
}

const QOPT_LEN = 24;
const U32_MAX = 0xffffffff;
const TWO_32 = 2 ** 32;

/** rint(fraction × UINT32_MAX), ties to even as C's rint does. */
function percentToU32(percent: number, what: string): number {
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) throw new TypeError(`netem ${what} must be a percentage in [0, 100], got ${percent}`);
  const x = (percent / 100) * U32_MAX;
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function u32ToPercent(v: number): number {
  return (v / U32_MAX) * 100;
}

function ticks(us: number | undefined, what: string, clock: PschedClock): number {
  if (us === undefined) return 0;
  if (!Number.isFinite(us) || us < 0) throw new TypeError(`netem ${what} must be microseconds >= 0, got ${us}`);
  const t = Math.trunc(us * clock.ticksPerUsec);
  if (t > U32_MAX) throw new TypeError(`netem ${what} ${us} µs is too large for tc's tick field`);
  return t;
}

function pair(a: number, b: number): Uint8Array {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, a, true);
  dv.setUint32(4, b, true);
  return out;
}

/** Write a netem's TCA_OPTIONS (struct first, then attributes; no NLA_F_NESTED, as tc sends it). */
export function encodeNetemOptions(w: AttrWriter, o: NetemOptions, clock: PschedClock): void {
  if (o.jitter !== undefined && o.delay === undefined) throw new TypeError('netem: jitter needs delay');
  if (o.reorder !== undefined && !o.delay) throw new TypeError('netem: reorder needs a delay');
  if (o.gap !== undefined && o.reorder === undefined) throw new TypeError('netem: gap needs reorder');
  const qopt = new Uint8Array(QOPT_LEN);
  const dv = new DataView(qopt.buffer);
  dv.setUint32(0, ticks(o.delay, 'delay', clock), true);
  const limit = o.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 0 || limit > U32_MAX) throw new TypeError(`netem limit must be a u32 packet count, got ${limit}`);
  dv.setUint32(4, limit, true);
  dv.setUint32(8, o.loss === undefined ? 0 : percentToU32(o.loss, 'loss'), true);
  dv.setUint32(12, o.reorder === undefined ? 0 : o.gap ?? 1, true);
  dv.setUint32(16, o.duplicate === undefined ? 0 : percentToU32(o.duplicate, 'duplicate'), true);
  dv.setUint32(20, ticks(o.jitter, 'jitter', clock), true);
  const rate = o.rate === undefined ? undefined : bytesPerSecond(o.rate, 'netem rate');
  w.struct(TCA.OPTIONS, () => {
    w.raw(qopt);
    if (o.reorder !== undefined) w.bytes(TCA_NETEM.REORDER, pair(percentToU32(o.reorder, 'reorder'), 0));
    if (o.corrupt !== undefined) w.bytes(TCA_NETEM.CORRUPT, pair(percentToU32(o.corrupt, 'corrupt'), 0));
    if (rate !== undefined) {
      if (rate >= TWO_32) w.u64(TCA_NETEM.RATE64, BigInt(rate));
      const r = new Uint8Array(16);
      new DataView(r.buffer).setUint32(0, rate32(rate), true);
      w.bytes(TCA_NETEM.RATE, r);
    }
  });
}

/** Decode a netem's TCA_OPTIONS. Probabilities come back as percentages (rounded by the 2^32 scale). */
export function decodeNetemOptions(v: Uint8Array, clock: PschedClock): NetemOptions {
  const dv = structView(v, QOPT_LEN, 'netem TCA_OPTIONS');
  const a = attrMap(v, QOPT_LEN);
  const out: NetemOptions = { kind: 'netem', limit: dv.getUint32(4, true) };
  const latency64 = a.get(TCA_NETEM.LATENCY64);
  const jitter64 = a.get(TCA_NETEM.JITTER64);
  const delay = latency64 !== undefined ? Number(readU64(latency64, 'TCA_NETEM_LATENCY64')) / 1000 : dv.getUint32(0, true) / clock.ticksPerUsec;
  const jitter = jitter64 !== undefined ? Number(readU64(jitter64, 'TCA_NETEM_JITTER64')) / 1000 : dv.getUint32(20, true) / clock.ticksPerUsec;
  if (delay !== 0) out.delay = delay;
  if (jitter !== 0) out.jitter = jitter;
  if (dv.getUint32(8, true) !== 0) out.loss = u32ToPercent(dv.getUint32(8, true));
  if (dv.getUint32(16, true) !== 0) out.duplicate = u32ToPercent(dv.getUint32(16, true));
  const reorder = a.get(TCA_NETEM.REORDER);
  if (reorder !== undefined) {
    const p = structView(reorder, 8, 'TCA_NETEM_REORDER').getUint32(0, true);
    if (p !== 0) {
      out.reorder = u32ToPercent(p);
      out.gap = dv.getUint32(12, true);
    }
  }
  const corrupt = a.get(TCA_NETEM.CORRUPT);
  if (corrupt !== undefined) {
    const p = structView(corrupt, 8, 'TCA_NETEM_CORRUPT').getUint32(0, true);
    if (p !== 0) out.corrupt = u32ToPercent(p);
  }
  const rate = a.get(TCA_NETEM.RATE);
  if (rate !== undefined) {
    const r = structView(rate, 16, 'TCA_NETEM_RATE').getUint32(0, true);
    const r64 = a.get(TCA_NETEM.RATE64);
    if (r !== 0) out.rate = bitsPerSecond(r, r64 === undefined ? undefined : readU64(r64, 'TCA_NETEM_RATE64'));
  }
  return out;
}
