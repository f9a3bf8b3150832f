/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * htb (TCA_OPTIONS > TCA_HTB_*), as iproute2 6.1's tc/q_htb.c writes it. The qdisc: struct
 * tc_htb_glob (version 3, rate2quantum, defcls, debug, direct_pkts) in TCA_HTB_INIT, then
 * TCA_HTB_DIRECT_QLEN. A class: TCA_HTB_RATE64/CEIL64 (rates past 2^32 bytes/s), struct tc_htb_opt
 * (rate and ceil tc_ratespecs, buffer and cbuffer in ticks, quantum, level, prio) in
 * TCA_HTB_PARMS, and the rate and ceil tables (TCA_HTB_RTAB, TCA_HTB_CTAB). A class's default
 * bursts are tc's: rate / hz + mtu (1600) bytes.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readU32, readU64 } from '../../wire/attr.js';
import { TCA, TCA_HTB } from './constants.js';
import { type PschedClock, RATESPEC_LEN, bitsPerSecond, bytesPerSecond, rateTable, readRateSpec, structView, writeRateSpec, xmitSize, xmitTime } from './tc-rate.js';

/** The htb qdisc (`tc qdisc add … htb default 10 r2q 10 direct_qlen N`). */
export interface HtbQdiscOptions {
  kind: 'htb';
  /** Minor number of the class unclassified traffic goes to (`default 10` is 0x10); 0 = none (sent directly). */
  defaultClass?: number;
  /** Divisor from rate (bytes/s) to a class's default quantum; tc's default 10. */
  r2q?: number;
  /** Length of the direct queue in packets (default: the link's txqueuelen). */
  directQlen?: number;
  /** Decoded only: packets sent directly, unshaped (tc_htb_glob.direct_pkts). */
  directPackets?: number;
}

/** An htb class (`tc class add … htb rate R ceil C burst B cburst CB prio P quantum Q`). */
export interface HtbClassOptions {
  kind: 'htb';
  /** Guaranteed rate, bits/s. */
  rate: number | bigint;
  /** Most it may borrow up to, bits/s (default: rate). */
  ceil?: number | bigint;
  /** Bytes that may go at ceil speed at once (default rate / hz + mtu). */
  burst?: number;
  cburst?: number;
  /** Bytes served per round when borrowing (default from r2q, computed by the kernel). */
  quantum?: number;
  /** Priority among siblings, 0 first. */
  prio?: number;
  /** Largest packet for the tables and default bursts (tc's default 1600). Encode only. */
  mtu?: number;
  /** Decoded only: the class's depth in the tree (0 = leaf). */
  level?: number;
}

const GLOB_LEN = 20;
const OPT_LEN = 2 * RATESPEC_LEN + 20;
const TWO_32 = 2 ** 32;

function u32Option(v: number | undefined, what: string): number {
  if (v === undefined) return 0;
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new TypeError(`htb ${what} must be a u32, got ${v}`);
  return v;
}

export function encodeHtbQdiscOptions(w: AttrWriter, o: HtbQdiscOptions): void {
  const glob = new Uint8Array(GLOB_LEN);
  const dv = new DataView(glob.buffer);
  dv.setUint32(0, 3, true);
  dv.setUint32(4, o.r2q === undefined ? 10 : u32Option(o.r2q, 'r2q'), true);
  dv.setUint32(8, u32Option(o.defaultClass, 'defaultClass'), true);
  w.nest(TCA.OPTIONS, () => {
    w.bytes(TCA_HTB.INIT, glob);
    if (o.directQlen !== undefined) w.u32(TCA_HTB.DIRECT_QLEN, u32Option(o.directQlen, 'directQlen'));
  });
}

export function decodeHtbQdiscOptions(v: Uint8Array): HtbQdiscOptions {
  const a = attrMap(v);
  const out: HtbQdiscOptions = { kind: 'htb' };
  const init = a.get(TCA_HTB.INIT);
  if (init !== undefined) {
    const dv = structView(init, GLOB_LEN, 'TCA_HTB_INIT');
    out.r2q = dv.getUint32(4, true);
    out.defaultClass = dv.getUint32(8, true);
    out.directPackets = dv.getUint32(16, true);
  }
  const qlen = a.get(TCA_HTB.DIRECT_QLEN);
  if (qlen !== undefined) out.directQlen = readU32(qlen, 'TCA_HTB_DIRECT_QLEN');
  return out;
}

export function encodeHtbClassOptions(w: AttrWriter, o: HtbClassOptions, clock: PschedClock): void {
  const rate = bytesPerSecond(o.rate, 'htb rate');
  const ceil = o.ceil === undefined ? rate : bytesPerSecond(o.ceil, 'htb ceil');
  const mtu = o.mtu ?? 1600;
  const buffer = o.burst ?? Math.floor(rate / clock.hz) + mtu;
  const cbuffer = o.cburst ?? Math.floor(ceil / clock.hz) + mtu;
  const r = rateTable(rate, mtu, clock);
  const c = rateTable(ceil, mtu, clock);
  const opt = new Uint8Array(OPT_LEN);
  const dv = new DataView(opt.buffer);
  writeRateSpec(dv, 0, r.spec);
  writeRateSpec(dv, RATESPEC_LEN, c.spec);
  dv.setUint32(24, xmitTime(rate, buffer, clock), true);
  dv.setUint32(28, xmitTime(ceil, cbuffer, clock), true);
  dv.setUint32(32, u32Option(o.quantum, 'quantum'), true);
  dv.setUint32(40, u32Option(o.prio, 'prio'), true);
  w.nest(TCA.OPTIONS, () => {
    if (rate >= TWO_32) w.u64(TCA_HTB.RATE64, BigInt(rate));
    if (ceil >= TWO_32) w.u64(TCA_HTB.CEIL64, BigInt(ceil));
    w.bytes(TCA_HTB.PARMS, opt);
    w.bytes(TCA_HTB.RTAB, r.table);
    w.bytes(TCA_HTB.CTAB, c.table);
  });
}

export function decodeHtbClassOptions(v: Uint8Array, clock: PschedClock): HtbClassOptions {
  const a = attrMap(v);
  const parms = a.get(TCA_HTB.PARMS);
  if (parms === undefined) return { kind: 'htb', rate: 0 };
  const dv = structView(parms, OPT_LEN, 'TCA_HTB_PARMS');
  const rate64 = a.get(TCA_HTB.RATE64);
  const ceil64 = a.get(TCA_HTB.CEIL64);
  const rate = bitsPerSecond(readRateSpec(dv, 0).rate, rate64 === undefined ? undefined : readU64(rate64, 'TCA_HTB_RATE64'));
  const ceil = bitsPerSecond(readRateSpec(dv, RATESPEC_LEN).rate, ceil64 === undefined ? undefined : readU64(ceil64, 'TCA_HTB_CEIL64'));
  return {
    kind: 'htb',
    rate,
    ceil,
    burst: xmitSize(rate / 8, dv.getUint32(24, true), clock),
    cburst: xmitSize(ceil / 8, dv.getUint32(28, true), clock),
    quantum: dv.getUint32(32, true),
    level: dv.getUint32(36, true),
    prio: dv.getUint32(40, true),
  };
}
