/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * What tbf and htb share: struct tc_ratespec (<linux/pkt_sched.h>: cell_log u8, linklayer u8,
 * overhead u16, cell_align s16, mpu u16, rate u32 in BYTES/s), the 256-slot rate table tc sends
 * beside it, and the packet-scheduler clock that turns sizes into transmit times, as iproute2's
 * tc/tc_core.c (6.1) does: `tc_calc_xmittime(rate, size) = (u32)((u32)(1e6 * size/rate) * ticks_per_us)`
 * and back. The clock comes from /proc/net/psched (read by the ops layer; `parsePsched` here): on
 * every Linux since 2.6.31 it says 1000 ns per µs over 64 ns per tick, i.e. 15.625 ticks per µs.
 * Modern kernels ignore the rate table (they compute from the rate) but tc sends it, so we do too:
 * our requests stay byte-identical to tc's.
 */
import { DecodeError } from '../../../errors.js';
import { TC_LINKLAYER } from './constants.js';

/** tc's TIME_UNITS_PER_SEC: times are microseconds. */
export const TIME_UNITS_PER_SEC = 1_000_000;

/** The scheduler clock, as tc_core_init and get_hz read /proc/net/psched. */
export interface PschedClock {
  /** psched ticks per microsecond (tick_in_usec): 15.625 on current kernels. */
  ticksPerUsec: number;
  /** get_hz(): the clock resolution htb divides a rate by for its default burst (1e9 with hrtimers). */
  hz: number;
}

/** What /proc/net/psched says on every kernel nsbox supports ("000003e8 00000040 000f4240 3b9aca00"). */
export const KERNEL_PSCHED: PschedClock = Object.freeze({ ticksPerUsec: 15.625, hz: 1e9 });

/** Parse the four hex words of /proc/net/psched as tc_core_init and get_hz do. TypeError on anything else. */
export function parsePsched(text: string): PschedClock {
  const words = text.trim().split(/\s+/).map((w) => parseInt(w, 16));
  const [t2usRaw, us2t, clockRes, hzWord] = words;
  if (words.length < 3 || words.some((w) => !Number.isFinite(w)) || t2usRaw === undefined || us2t === undefined || clockRes === undefined || us2t === 0) {
    throw new TypeError(`unreadable /proc/net/psched ${JSON.stringify(text)}`);
  }
  // tc's compatibility rule: a nanosecond clock advertises t2us 1000 that really means 1
  const t2us = clockRes === 1_000_000_000 ? us2t : t2usRaw;
  const clockFactor = clockRes / TIME_UNITS_PER_SEC;
  const hz = clockRes === 1_000_000 && hzWord !== undefined && hzWord > 0 ? hzWord : 100;
  return { ticksPerUsec: (t2us / us2t) * clockFactor, hz };
}

const U32_MAX = 0xffffffff;

/**
 * tc_calc_xmittime as iproute2 6.1 computes it: whole microseconds to send `size` bytes at
 * `rate` bytes/s, times the ticks per µs, both truncated to unsigned int (iproute2 6.2+ rounds
 * up instead, one tick more at most; the kernel ignores this value when it has the byte count).
 * Saturates at UINT_MAX.
 */
export function xmitTime(rate: number, size: number, clock: PschedClock): number {
  const us = Math.trunc(TIME_UNITS_PER_SEC * (size / rate));
  const ticks = Math.trunc(Math.min(us, U32_MAX) * clock.ticksPerUsec);
  return ticks > U32_MAX ? U32_MAX : ticks;
}

/** tc_calc_xmitsize (iproute2 6.1): bytes sent in `ticks` at `rate` bytes/s, via whole µs, truncated. */
export function xmitSize(rate: number, ticks: number, clock: PschedClock): number {
  const us = Math.trunc(ticks / clock.ticksPerUsec);
  return Math.trunc((rate * us) / TIME_UNITS_PER_SEC);
}

/** struct tc_ratespec. */
export interface RateSpec {
  cellLog: number;
  /** TC_LINKLAYER_*. */
  linklayer: number;
  overhead: number;
  cellAlign: number;
  mpu: number;
  /** Bytes/s; 0xffffffff when the real rate is in a RATE64 attribute. */
  rate: number;
}

export const RATESPEC_LEN = 12;

export function writeRateSpec(dv: DataView, at: number, r: RateSpec): void {
  dv.setUint8(at, r.cellLog);
  dv.setUint8(at + 1, r.linklayer);
  dv.setUint16(at + 2, r.overhead, true);
  dv.setInt16(at + 4, r.cellAlign, true);
  dv.setUint16(at + 6, r.mpu, true);
  dv.setUint32(at + 8, r.rate, true);
}

export function readRateSpec(dv: DataView, at: number): RateSpec {
  return {
    cellLog: dv.getUint8(at),
    linklayer: dv.getUint8(at + 1) & 0x0f,
    overhead: dv.getUint16(at + 2, true),
    cellAlign: dv.getInt16(at + 4, true),
    mpu: dv.getUint16(at + 6, true),
    rate: dv.getUint32(at + 8, true),
  };
}

/** The u32 rate field of a tc_ratespec: the rate, or 0xffffffff when it needs RATE64. */
export function rate32(bytesPerSec: number): number {
  return bytesPerSec >= 2 ** 32 ? U32_MAX : bytesPerSec;
}

/**
 * tc_calc_rtable for an Ethernet link layer: the 256-entry table of transmit times (ticks) of a
 * packet of (i+1) << cell_log bytes, and the ratespec that goes with it. `cellLog` < 0 picks the
 * smallest cell with mtu (2047 when 0) in 256 slots. Like tc, the table uses the u32 rate field.
 */
export function rateTable(bytesPerSec: number, mtu: number, clock: PschedClock, cellLog = -1, mpu = 0, overhead = 0): { spec: RateSpec; table: Uint8Array } {
  const m = mtu === 0 ? 2047 : mtu;
  let log = cellLog;
  if (log < 0) {
    log = 0;
    while (m >> log > 255) log++;
  }
  const rate = rate32(bytesPerSec);
  const table = new Uint8Array(1024);
  const dv = new DataView(table.buffer);
  for (let i = 0; i < 256; i++) dv.setUint32(i * 4, xmitTime(rate, Math.max((i + 1) << log, mpu), clock), true);
  return { spec: { cellLog: log, linklayer: TC_LINKLAYER.ETHERNET, overhead, cellAlign: -1, mpu, rate }, table };
}

/** Bits/s (number or bigint) to the bytes/s tc sends (floor(bits / 8)); TypeError unless positive and below 2^64 bytes. */
export function bytesPerSecond(bitsPerSec: number | bigint, what: string): number {
  const bytes = typeof bitsPerSec === 'bigint' ? Number(bitsPerSec / 8n) : Math.floor(bitsPerSec / 8);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new TypeError(`invalid ${what} ${String(bitsPerSec)}: bits/s, at least 8, below 2^56`);
  return bytes;
}

/** A rate read back from the kernel: bytes/s from the u32 field or the RATE64 attribute, to bits/s. */
export function bitsPerSecond(rate32Field: number, rate64: bigint | undefined): number {
  return (rate64 !== undefined ? Number(rate64) : rate32Field) * 8;
}

/** A struct attribute's bytes as a DataView, or DecodeError when shorter than `len`. */
export function structView(v: Uint8Array, len: number, what: string): DataView {
  if (v.length < len) throw new DecodeError(what, 0, `needs ${len} bytes, got ${v.length}`);
  return new DataView(v.buffer, v.byteOffset, v.length);
}
