/**
 * Layer: netlink/route/ops — rtnetlink operations.
 *
 * Queueing disciplines (RTM_*QDISC), as `tc qdisc add|replace|change|del|show`: tbf, htb, netem,
 * pfifo/bfifo, ingress and clsact, with the options of schema/tc.ts. Rates are bits/s, sizes
 * bytes, times µs (schema/tc-units.ts reads tc's text: '10mbit', '32kb', '20ms'). Handles and
 * parents are tc's text ("1:", "root", "ingress") or the u32. A kind the kernel was built
 * without (netem on many minimal kernels) is an NsboxError NSBOX_ERR_KERNEL_FEATURE naming it,
 * with the kernel's ENOENT as its cause.
 */
import type { NetlinkSocket, RequestOptions } from '../../socket.js';
import { NLM_F } from '../../wire/header.js';
import { AF, RTM, TC_H } from '../schema/constants.js';
import {
  type FifoOptions, type HtbQdiscOptions, type NetemOptions, type QdiscOptions, type TbfOptions, type TcMessage, type TcStats,
  decodeQdiscMessage, encodeQdiscMessage,
} from '../schema/tc.js';
import { type TcHandle, parseTcHandle, tcMajor, tcMinor } from '../schema/tc-handle.js';
import { NetlinkError, NsboxError } from '../../../errors.js';
import { pschedClock } from './psched.js';

/** The kinds this module encodes, each with its options. */
export type QdiscKindOptions = TbfOptions | HtbQdiscOptions | NetemOptions | FifoOptions | { kind: 'ingress' } | { kind: 'clsact' };

/** Where a qdisc goes: the link, its parent (default root; ingress/clsact: their own) and its handle (default: the kernel picks; ingress/clsact "ffff:"). */
export interface TcPlace {
  /** ifindex */
  index: number;
  parent?: TcHandle;
  handle?: TcHandle;
}

export type QdiscSpec = TcPlace & QdiscKindOptions;

/** What `qdisc.del` needs: the link and parent (default root), optionally the handle and kind. */
export interface QdiscRef extends TcPlace {
  kind?: string;
}

/** A qdisc as the kernel reports it (`tc -s qdisc show`). */
export interface Qdisc {
  index: number;
  handle: number;
  parent: number;
  kind: string;
  /** Typed for the kinds above; others carry their TCA_OPTIONS as `raw`. */
  options: QdiscOptions;
  stats?: TcStats;
}

export interface QdiscListOptions {
  /** Only this link's qdiscs (`tc qdisc show dev DEV`). */
  index?: number;
}

/** tc's CONFIG_ name of a qdisc kind, for messages. */
export function qdiscConfigName(kind: string): string {
  return kind === 'ingress' || kind === 'clsact' ? 'CONFIG_NET_SCH_INGRESS' : `CONFIG_NET_SCH_${kind.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index <= 0) throw new TypeError(`invalid link index ${String(index)}`);
}

function place(p: TcPlace, kind: string | undefined): { parent: number; handle: number } {
  checkIndex(p.index);
  const bare = kind === 'ingress' || kind === 'clsact';
  const parent = p.parent === undefined ? (bare ? TC_H.INGRESS : TC_H.ROOT) : parseTcHandle(p.parent, 'parent');
  const handle = p.handle === undefined ? (bare ? TC_H.MAJ_MASK : 0) : parseTcHandle(p.handle, 'handle');
  if (tcMinor(handle) !== 0) throw new TypeError(`a qdisc handle has no minor ("1:"), got ${String(p.handle)}`);
  return { parent, handle };
}

function toMessage(spec: QdiscSpec): TcMessage<QdiscOptions> {
  const { index, parent: _p, handle: _h, ...options } = spec;
  return { family: AF.UNSPEC, index, ...place(spec, options.kind), info: 0, options };
}

export class QdiscOps {
  readonly #socket: NetlinkSocket;

  constructor(socket: NetlinkSocket) {
    this.#socket = socket;
  }

  /** `tc qdisc add dev DEV [parent P] [handle H] KIND …`. EEXIST if the parent has a qdisc of its own already. */
  async add(spec: QdiscSpec, req?: RequestOptions): Promise<void> {
    await this.#new(spec, NLM_F.CREATE | NLM_F.EXCL, req);
  }

  /** `tc qdisc replace …`: create, or change the one there in place (same kind: the link does not flap, the queue is kept). */
  async replace(spec: QdiscSpec, req?: RequestOptions): Promise<void> {
    await this.#new(spec, NLM_F.CREATE | NLM_F.REPLACE, req);
  }

  /** `tc qdisc change …`: change the existing qdisc's options; ENOENT when there is none. */
  async change(spec: QdiscSpec, req?: RequestOptions): Promise<void> {
    await this.#new(spec, 0, req);
  }

  /** `tc qdisc del dev DEV [parent P] [handle H] [KIND]`. ENOENT if there is nothing to delete (the root's default qdisc included). */
  async del(ref: QdiscRef, req?: RequestOptions): Promise<void> {
    const msg: TcMessage<QdiscOptions> = { family: AF.UNSPEC, index: ref.index, ...place(ref, ref.kind), info: 0 };
    if (ref.kind !== undefined) msg.options = { kind: ref.kind };
    await this.#socket.request(RTM.DELQDISC, 0, (w) => encodeQdiscMessage(w, msg), undefined, req);
  }

  /** `tc -s qdisc show [dev DEV]`: every qdisc, the kernel's defaults (noqueue, pfifo_fast …) included. */
  async list(options: QdiscListOptions = {}, req?: RequestOptions): Promise<Qdisc[]> {
    if (options.index !== undefined) checkIndex(options.index);
    const clock = pschedClock();
    const filter: TcMessage<QdiscOptions> = { family: AF.UNSPEC, index: options.index ?? 0, handle: 0, parent: 0, info: 0 };
    return this.#socket.dump(RTM.GETQDISC, (w) => encodeQdiscMessage(w, filter), (m) => {
      const q = decodeQdiscMessage(m.payload, clock);
      if (options.index !== undefined && q.index !== options.index) return undefined;
      return toQdisc(q);
    }, req);
  }

  async #new(spec: QdiscSpec, flags: number, req: RequestOptions | undefined): Promise<void> {
    const msg = toMessage(spec);
    const clock = pschedClock();
    try {
      await this.#socket.request(RTM.NEWQDISC, flags, (w) => encodeQdiscMessage(w, msg, clock), undefined, req);
    } catch (err) {
      if (err instanceof NetlinkError && err.code === 'ENOENT' && (flags & NLM_F.CREATE) !== 0 && (await this.#parentExists(msg.index, msg.parent, req))) {
        throw new NsboxError(`the kernel has no qdisc kind "${spec.kind}" (${qdiscConfigName(spec.kind)} is not set): ${err.message}`, 'NSBOX_ERR_KERNEL_FEATURE', { cause: err });
      }
      throw err;
    }
  }

  /**
   * After ENOENT to a create: is the parent there? Then the kernel's ENOENT was about the kind
   * (qdisc_create's lookup of the kind is its only other ENOENT), told apart without the text.
   */
  async #parentExists(index: number, parent: number, req: RequestOptions | undefined): Promise<boolean> {
    if (parent === TC_H.ROOT || parent === TC_H.INGRESS) return true;
    const qdiscs = await this.list({ index }, req);
    if (!qdiscs.some((q) => tcMajor(q.handle) === tcMajor(parent))) return false;
    if (tcMinor(parent) === 0) return true;
    const filter: TcMessage<QdiscOptions> = { family: AF.UNSPEC, index, handle: 0, parent: 0, info: 0 };
    const classes = await this.#socket.dump(RTM.GETTCLASS, (w) => encodeQdiscMessage(w, filter), (m) => decodeQdiscMessage(m.payload).handle, req);
    return classes.includes(parent);
  }
}

function toQdisc(m: TcMessage<QdiscOptions>): Qdisc {
  const out: Qdisc = { index: m.index, handle: m.handle, parent: m.parent, kind: m.options?.kind ?? '', options: m.options ?? { kind: '' } };
  if (m.stats !== undefined) out.stats = m.stats;
  return out;
}
