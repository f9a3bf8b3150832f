/**
 * Layer: netlink/route/ops — rtnetlink operations.
 *
 * Traffic classes (RTM_*TCLASS), as `tc class add|replace|change|del|show`: htb classes
 * (schema/tc-htb.ts). `classid` is tc's "MAJ:MIN" text (hex) or the u32; `parent` the qdisc
 * ("1:") or a parent class ("1:1").
 */
import type { NetlinkSocket, RequestOptions } from '../../socket.js';
import { NLM_F } from '../../wire/header.js';
import { AF, RTM } from '../schema/constants.js';
import { type ClassOptions, type HtbClassOptions, type TcMessage, type TcStats, decodeClassMessage, encodeClassMessage } from '../schema/tc.js';
import { type TcHandle, parseTcHandle } from '../schema/tc-handle.js';
import { pschedClock } from './psched.js';

export type ClassKindOptions = HtbClassOptions;

export type ClassSpec = { index: number; parent: TcHandle; classid: TcHandle } & ClassKindOptions;

/** A class as the kernel reports it (`tc -s class show`). */
export interface TrafficClass {
  index: number;
  /** The class id (major:minor). */
  handle: number;
  parent: number;
  kind: string;
  options: ClassOptions;
  stats?: TcStats;
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index <= 0) throw new TypeError(`invalid link index ${String(index)}`);
}

function toMessage(spec: ClassSpec): TcMessage<ClassOptions> {
  const { index, parent, classid, ...options } = spec;
  checkIndex(index);
  return { family: AF.UNSPEC, index, handle: parseTcHandle(classid, 'classid'), parent: parseTcHandle(parent, 'parent'), info: 0, options };
}

export class ClassOps {
  readonly #socket: NetlinkSocket;

  constructor(socket: NetlinkSocket) {
    this.#socket = socket;
  }

  /** `tc class add dev DEV parent P classid C htb rate R …`. EEXIST if the class exists. */
  async add(spec: ClassSpec, req?: RequestOptions): Promise<void> {
    const msg = toMessage(spec);
    await this.#socket.request(RTM.NEWTCLASS, NLM_F.CREATE | NLM_F.EXCL, (w) => encodeClassMessage(w, msg, pschedClock()), undefined, req);
  }

  /** `tc class replace …`: create or change in place. */
  async replace(spec: ClassSpec, req?: RequestOptions): Promise<void> {
    const msg = toMessage(spec);
    await this.#socket.request(RTM.NEWTCLASS, NLM_F.CREATE | NLM_F.REPLACE, (w) => encodeClassMessage(w, msg, pschedClock()), undefined, req);
  }

  /** `tc class change …`: ENOENT when the class does not exist. */
  async change(spec: ClassSpec, req?: RequestOptions): Promise<void> {
    const msg = toMessage(spec);
    await this.#socket.request(RTM.NEWTCLASS, 0, (w) => encodeClassMessage(w, msg, pschedClock()), undefined, req);
  }

  /** `tc class del dev DEV classid C`. ENOENT if absent; EBUSY while it has children or filters point at it. */
  async del(ref: { index: number; classid: TcHandle }, req?: RequestOptions): Promise<void> {
    checkIndex(ref.index);
    const msg: TcMessage<ClassOptions> = { family: AF.UNSPEC, index: ref.index, handle: parseTcHandle(ref.classid, 'classid'), parent: 0, info: 0 };
    await this.#socket.request(RTM.DELTCLASS, 0, (w) => encodeClassMessage(w, msg), undefined, req);
  }

  /** `tc -s class show dev DEV`: the kernel dumps classes per link only. */
  async list(options: { index: number }, req?: RequestOptions): Promise<TrafficClass[]> {
    checkIndex(options.index);
    const clock = pschedClock();
    const filter: TcMessage<ClassOptions> = { family: AF.UNSPEC, index: options.index, handle: 0, parent: 0, info: 0 };
    return this.#socket.dump(RTM.GETTCLASS, (w) => encodeClassMessage(w, filter), (m) => {
      const c = decodeClassMessage(m.payload, clock);
      if (c.index !== options.index) return undefined;
      const out: TrafficClass = { index: c.index, handle: c.handle, parent: c.parent, kind: c.options?.kind ?? '', options: c.options ?? { kind: '' } };
      if (c.stats !== undefined) out.stats = c.stats;
      return out;
    }, req);
  }
}
