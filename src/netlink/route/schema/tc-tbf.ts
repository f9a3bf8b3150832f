/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * tbf, the token bucket (TCA_OPTIONS > TCA_TBF_*): struct tc_tbf_qopt (<linux/pkt_sched.h>:
 * rate and peakrate tc_ratespecs, limit u32 bytes, buffer u32 ticks, mtu u32 ticks) in
 * TCA_TBF_PARMS, then TCA_TBF_BURST, TCA_TBF_RATE64, TCA_TBF_RTAB and, with a peak rate,
 * TCA_TBF_PRATE64, TCA_TBF_PBURST, TCA_TBF_PTAB — computed as iproute2 6.1's tc/q_tbf.c does, so
 * requests are byte-identical to `tc qdisc add … tbf rate R burst B latency L`. The kernel keeps
 * neither latency nor the BURST attribute: a dump has PARMS (+ RATE64/PRATE64), and burst is read
 * back from the bucket's ticks (as `tc` prints it), so it may come back a few bytes under.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readU32, readU64 } from '../../wire/attr.js';
import { TCA, TCA_TBF } from './constants.js';
import {
  type PschedClock, RATESPEC_LEN, TIME_UNITS_PER_SEC, bitsPerSecond, bytesPerSecond, rateTable, readRateSpec, structView, writeRateSpec, xmitSize, xmitTime,
} from './tc-rate.js';

export interface TbfOptions {
  kind: 'tbf';
  /** Bits per second (a bigint for rates past 2^53, if ever). */
  rate: number | bigint;
  /** Bucket size in bytes (`burst`). */
  burst: number;
  /** Queue limit in bytes; give this or `latency`. */
  limit?: number;
  /** Longest a packet may wait, in µs: the limit becomes rate × latency + burst (tc's rule). Encode only. */
  latency?: number;
  /** Peak rate in bits/s (needs `mtu`). */
  peakrate?: number | bigint;
  /** The peak bucket in bytes (`mtu`/`minburst`). */
  mtu?: number;
}

const QOPT_LEN = 2 * RATESPEC_LEN + 12;
const TWO_32 = 2 ** 32;

/** Write TCA_OPTIONS of a tbf. TypeError for a missing rate/burst, both or neither of limit and latency, a peak rate without mtu. */
export function encodeTbfOptions(w: AttrWriter, o: TbfOptions, clock: PschedClock): void {
  const rate = bytesPerSecond(o.rate, 'tbf rate');
  const prate = o.peakrate === undefined ? 0 : bytesPerSecond(o.peakrate, 'tbf peakrate');
  if (!Number.isInteger(o.burst) || o.burst <= 0) throw new TypeError(`tbf burst must be a positive number of bytes, got ${String(o.burst)}`);
  if ((o.limit === undefined) === (o.latency === undefined)) throw new TypeError('tbf: give either limit (bytes) or latency (µs)');
  if (prate > 0 && !o.mtu) throw new TypeError('tbf: a peakrate needs mtu');
  let limit = o.limit ?? 0;
  if (o.latency !== undefined) {
    let lim = (rate * o.latency) / TIME_UNITS_PER_SEC + o.burst;
    if (prate > 0) lim = Math.min(lim, (prate * o.latency) / TIME_UNITS_PER_SEC + (o.mtu ?? 0));
    limit = Math.trunc(lim);
  }
  const mtu = o.mtu ?? 0;
  const r = rateTable(rate, mtu, clock);
  const buffer = xmitTime(r.spec.rate, o.burst, clock);
  const p = prate > 0 ? rateTable(prate, mtu, clock) : undefined;
  const qopt = new Uint8Array(QOPT_LEN);
  const dv = new DataView(qopt.buffer);
  writeRateSpec(dv, 0, r.spec);
  if (p !== undefined) writeRateSpec(dv, RATESPEC_LEN, p.spec);
  dv.setUint32(24, limit >>> 0, true);
  dv.setUint32(28, buffer, true);
  dv.setUint32(32, p === undefined ? 0 : xmitTime(p.spec.rate, mtu, clock), true);
  w.nest(TCA.OPTIONS, () => {
    w.bytes(TCA_TBF.PARMS, qopt);
    if (o.burst < TWO_32) w.u32(TCA_TBF.BURST, o.burst);
    if (rate >= TWO_32) w.u64(TCA_TBF.RATE64, BigInt(rate));
    w.bytes(TCA_TBF.RTAB, r.table);
    if (p !== undefined) {
      if (prate >= TWO_32) w.u64(TCA_TBF.PRATE64, BigInt(prate));
      w.u32(TCA_TBF.PBURST, mtu);
      w.bytes(TCA_TBF.PTAB, p.table);
    }
  });
}

/** Decode a tbf's TCA_OPTIONS (a request's or a dump's). */
export function decodeTbfOptions(v: Uint8Array, clock: PschedClock): TbfOptions {
  const a = attrMap(v);
  const parms = a.get(TCA_TBF.PARMS);
  if (parms === undefined) return { kind: 'tbf', rate: 0, burst: 0 };
  const dv = structView(parms, QOPT_LEN, 'TCA_TBF_PARMS');
  const rateSpec = readRateSpec(dv, 0);
  const peakSpec = readRateSpec(dv, RATESPEC_LEN);
  const rate64 = a.get(TCA_TBF.RATE64);
  const prate64 = a.get(TCA_TBF.PRATE64);
  const rateBytes = rate64 === undefined ? rateSpec.rate : Number(readU64(rate64, 'TCA_TBF_RATE64'));
  const burstAttr = a.get(TCA_TBF.BURST);
  const out: TbfOptions = {
    kind: 'tbf',
    rate: bitsPerSecond(rateSpec.rate, rate64 === undefined ? undefined : readU64(rate64, 'TCA_TBF_RATE64')),
    burst: burstAttr !== undefined ? readU32(burstAttr, 'TCA_TBF_BURST') : xmitSize(rateBytes, dv.getUint32(28, true), clock),
    limit: dv.getUint32(24, true),
  };
  if (peakSpec.rate !== 0) {
    out.peakrate = bitsPerSecond(peakSpec.rate, prate64 === undefined ? undefined : readU64(prate64, 'TCA_TBF_PRATE64'));
    const pburst = a.get(TCA_TBF.PBURST);
    const prateBytes = (out.peakrate) / 8;
    out.mtu = pburst !== undefined ? readU32(pburst, 'TCA_TBF_PBURST') : xmitSize(prateBytes, dv.getUint32(32, true), clock);
  }
  return out;
}
