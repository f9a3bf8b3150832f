/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * Traffic-control messages (RTM_*QDISC, RTM_*TCLASS): struct tcmsg (<linux/rtnetlink.h>: family
 * u8, 3 pad bytes, ifindex s32, handle u32, parent u32, info u32), then TCA_KIND (the kind's name,
 * NUL-terminated), TCA_OPTIONS (each kind's own codec: tc-tbf.ts, tc-htb.ts, tc-netem.ts,
 * tc-fifo.ts; ingress and clsact have none), TCA_STATS2 (tc-stats.ts) and TCA_CHAIN. Handles are
 * in tc-handle.ts. Kinds this module does not know keep their TCA_OPTIONS as raw bytes.
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readString, readU32 } from '../../wire/attr.js';
import { TCA } from './constants.js';
import { type FifoOptions, decodeFifoOptions, encodeFifoOptions } from './tc-fifo.js';
import { type HtbClassOptions, type HtbQdiscOptions, decodeHtbClassOptions, decodeHtbQdiscOptions, encodeHtbClassOptions, encodeHtbQdiscOptions } from './tc-htb.js';
import { type NetemOptions, decodeNetemOptions, encodeNetemOptions } from './tc-netem.js';
import { KERNEL_PSCHED, type PschedClock } from './tc-rate.js';
import { type TcStats, decodeTcStats2 } from './tc-stats.js';
import { type TbfOptions, decodeTbfOptions, encodeTbfOptions } from './tc-tbf.js';

export type { FifoOptions } from './tc-fifo.js';
export type { HtbClassOptions, HtbQdiscOptions } from './tc-htb.js';
export type { NetemOptions } from './tc-netem.js';
export type { PschedClock } from './tc-rate.js';
export type { TcStats } from './tc-stats.js';
export type { TbfOptions } from './tc-tbf.js';

export const TCMSG_LEN = 20;

/** struct tcmsg. */
export interface Tcmsg {
  /** tcm_family: AF_UNSPEC for qdiscs and classes */
  family: number;
  /** tcm_ifindex */
  index: number;
  /** tcm_handle: the qdisc's handle (major:0) or the class id (major:minor) */
  handle: number;
  /** tcm_parent: TC_H_ROOT, TC_H_INGRESS, or a class/qdisc handle */
  parent: number;
  /** tcm_info: 0 for qdiscs and classes (a filter's prio << 16 | protocol) */
  info: number;
}

/** A kind with no options (ingress, clsact). */
export interface BareQdiscOptions {
  kind: 'ingress' | 'clsact';
}

/** Any other kind: its TCA_OPTIONS as raw bytes (sent as they are, if given). */
export interface OtherTcOptions {
  kind: string;
  raw?: Uint8Array;
}

export type QdiscOptions = TbfOptions | HtbQdiscOptions | NetemOptions | FifoOptions | BareQdiscOptions | OtherTcOptions;
export type ClassOptions = HtbClassOptions | OtherTcOptions;

/** A qdisc or class message: the header, the kind and its options, and (in dumps) the counters. */
export interface TcMessage<O extends { kind: string } = QdiscOptions> extends Tcmsg {
  /** TCA_KIND and TCA_OPTIONS; undefined in a delete or dump request. */
  options?: O;
  /** TCA_STATS2 (dumps). */
  stats?: TcStats;
  /** TCA_CHAIN (filters; a qdisc may report it). */
  chain?: number;
}

export function encodeTcmsg(w: AttrWriter, h: Tcmsg): void {
  const at = w.reserve(TCMSG_LEN);
  const dv = w.view();
  dv.setUint8(at, h.family);
  dv.setInt32(at + 4, h.index, true);
  dv.setUint32(at + 8, h.handle >>> 0, true);
  dv.setUint32(at + 12, h.parent >>> 0, true);
  dv.setUint32(at + 16, h.info >>> 0, true);
}

export function decodeTcmsg(payload: Uint8Array): Tcmsg {
  if (payload.length < TCMSG_LEN) throw new DecodeError('tcmsg', 0, `needs ${TCMSG_LEN} bytes, got ${payload.length}`);
  const dv = new DataView(payload.buffer, payload.byteOffset, TCMSG_LEN);
  return { family: dv.getUint8(0), index: dv.getInt32(4, true), handle: dv.getUint32(8, true), parent: dv.getUint32(12, true), info: dv.getUint32(16, true) };
}

type Encoder = (w: AttrWriter, o: never, clock: PschedClock) => void;
type Decoder = (v: Uint8Array, clock: PschedClock) => { kind: string };

const QDISC_CODECS: Readonly<Record<string, { encode: Encoder; decode: Decoder }>> = {
  tbf: { encode: encodeTbfOptions, decode: decodeTbfOptions },
  htb: { encode: encodeHtbQdiscOptions, decode: (v) => decodeHtbQdiscOptions(v) },
  netem: { encode: encodeNetemOptions, decode: decodeNetemOptions },
  pfifo: { encode: encodeFifoOptions, decode: (v) => decodeFifoOptions('pfifo', v) },
  bfifo: { encode: encodeFifoOptions, decode: (v) => decodeFifoOptions('bfifo', v) },
  ingress: { encode: () => undefined, decode: () => ({ kind: 'ingress' }) },
  clsact: { encode: () => undefined, decode: () => ({ kind: 'clsact' }) },
};

const CLASS_CODECS: Readonly<Record<string, { encode: Encoder; decode: Decoder }>> = {
  htb: { encode: encodeHtbClassOptions, decode: decodeHtbClassOptions },
};

type Codecs = typeof QDISC_CODECS;

function encodeTc(w: AttrWriter, m: TcMessage<{ kind: string }>, codecs: Codecs, clock: PschedClock): void {
  encodeTcmsg(w, m);
  const o = m.options;
  if (o === undefined) return;
  w.string(TCA.KIND, o.kind);
  const codec = Object.hasOwn(codecs, o.kind) ? codecs[o.kind] : undefined;
  if (codec !== undefined) codec.encode(w, o as never, clock);
  else if ((o as OtherTcOptions).raw !== undefined) w.bytes(TCA.OPTIONS, (o as OtherTcOptions).raw as Uint8Array);
}

function decodeTc(payload: Uint8Array, codecs: Codecs, clock: PschedClock): TcMessage<{ kind: string }> {
  const m: TcMessage<{ kind: string }> = decodeTcmsg(payload);
  const a = attrMap(payload, TCMSG_LEN);
  const kind = a.get(TCA.KIND);
  if (kind !== undefined) {
    const name = readString(kind, 'TCA_KIND');
    const raw = a.get(TCA.OPTIONS);
    const codec = Object.hasOwn(codecs, name) ? codecs[name] : undefined;
    if (codec !== undefined && (raw !== undefined || name === 'ingress' || name === 'clsact')) m.options = codec.decode(raw ?? new Uint8Array(0), clock);
    else {
      const other: OtherTcOptions = raw === undefined ? { kind: name } : { kind: name, raw: Uint8Array.from(raw) };
      m.options = other;
    }
  }
  const stats = a.get(TCA.STATS2);
  if (stats !== undefined) m.stats = decodeTcStats2(stats);
  const chain = a.get(TCA.CHAIN);
  if (chain !== undefined) m.chain = readU32(chain, 'TCA_CHAIN');
  return m;
}

/** Write a tcmsg and a qdisc's kind and options (iproute2's order). `clock` converts sizes to ticks (tc-rate.ts). */
export function encodeQdiscMessage(w: AttrWriter, m: TcMessage<QdiscOptions>, clock: PschedClock = KERNEL_PSCHED): void {
  encodeTc(w, m, QDISC_CODECS, clock);
}

/** Decode an RTM_*QDISC payload; known kinds' options come back typed. */
export function decodeQdiscMessage(payload: Uint8Array, clock: PschedClock = KERNEL_PSCHED): TcMessage<QdiscOptions> {
  return decodeTc(payload, QDISC_CODECS, clock) as TcMessage<QdiscOptions>;
}

export function encodeClassMessage(w: AttrWriter, m: TcMessage<ClassOptions>, clock: PschedClock = KERNEL_PSCHED): void {
  encodeTc(w, m, CLASS_CODECS, clock);
}

export function decodeClassMessage(payload: Uint8Array, clock: PschedClock = KERNEL_PSCHED): TcMessage<ClassOptions> {
  return decodeTc(payload, CLASS_CODECS, clock) as TcMessage<ClassOptions>;
}
