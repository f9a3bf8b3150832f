/**
 * Layer: lab.
 *
 * Delay, jitter and loss on what a node sends, where the kernel has no netem
 * (research/labs-overlay.md §A2.4): the fault table's delay rule (FaultTable.setDelayQueue) hands
 * the packets leaving through an interface to an NFQUEUE queue, and this engine, bound to that queue
 * in the node's namespace, holds each packet's verdict until its release time
 * (delay-schedule.ts). The kernel keeps the packets; the engine holds only their ids (copy mode
 * META), so its cost is per packet, not per byte: GSO packets (NFQA_CFG_F_GSO) count as one.
 *
 * Timing: the arrival time is when the packet message is read (performance.now(), fractional
 * ms); one timer at a time, for the oldest held packet's release time, rounded up to the next
 * ms, never early; due packets are also released whenever a packet arrives, so under load
 * releases batch without waiting for the timer. In FIFO order (the default) everything due at
 * once is one NFQNL_MSG_VERDICT_BATCH. Drops (loss) are verdicts sent at arrival.
 *
 * A plain class for one process: open, update, stats, close. What hosts it (a lab supervisor)
 * and which rule points at the queue are the caller's business; `delayQueueNumber` picks a
 * queue number for a node's interface.
 */
import { performance } from 'node:perf_hooks';
import { NfQueue, type NfqPacket } from '../netlink/nfqueue/ops/index.js';
import { checkSeed } from './delay-random.js';
import { DelaySchedule, checkDelayParams, type DelayParams } from './delay-schedule.js';

export interface DelayQueueOptions extends DelayParams {
  /** The namespace (a netns path or an open fd; omitted: the caller's) */
  netns?: string | number;
  /** The NFQUEUE queue number (0–65535) the interface's delay rule names */
  queue: number;
  /** Replay: with a seed (0 to 2^32 - 1) the n-th packet's loss and jitter are the same in every run; without, a random seed (see stats) */
  seed?: number;
  /** Packets the kernel holds for the queue; more are dropped (counted in queueDropped), as netem's limit (default 10000) */
  limit?: number;
}

export interface DelayQueueStats {
  queue: number;
  /** The seed in use (the one given, or the one drawn) */
  seed: number;
  /** Packets seen */
  received: number;
  /** Held now */
  held: number;
  /** Accepted after their delay */
  released: number;
  /** Dropped by the engine (loss) */
  dropped: number;
  /** Verdict datagrams sent (each a batch or a drop) */
  verdictMessages: number;
  /** The kernel's counters of the queue (/proc/net/netfilter/nfnetlink_queue in the namespace): dropped because full, and undeliverable to us */
  queueDropped: number;
  userDropped: number;
  /** Receive buffer overruns the socket reported (ENOBUFS) */
  overruns: number;
}

/** The default `limit`. */
export const DELAY_QUEUE_LIMIT = 10_000;
/** Queue numbers delayQueueNumber picks from (queues are per namespace). */
export const DELAY_QUEUE_FIRST = 0x1000;
export const DELAY_QUEUE_COUNT = 0x8000;

/**
 * The queue number of interface `ifname` among a node's interfaces `all` (its own included):
 * FNV-1a of the name into DELAY_QUEUE_FIRST + [0, DELAY_QUEUE_COUNT), the next free one on a
 * collision, the names taken in sorted order. Deterministic for a node's set of interfaces, and
 * the same for an interface as long as no name added before it in that order collides.
 */
export function delayQueueNumber(ifname: string, all: readonly string[]): number {
  const names = [...new Set([...all, ifname])].sort();
  const taken = new Set<number>();
  for (const name of names) {
    let h = 0x811c9dc5;
    for (const byte of Buffer.from(name)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
    let q = h % DELAY_QUEUE_COUNT;
    while (taken.has(q)) q = (q + 1) % DELAY_QUEUE_COUNT;
    taken.add(q);
    if (name === ifname) return DELAY_QUEUE_FIRST + q;
  }
  throw new Error('unreachable');
}

export class DelayQueue {
  readonly #nfq: NfQueue;
  readonly #schedule: DelaySchedule;
  readonly #seed: number;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #released = 0;
  #dropped = 0;
  #messages = 0;
  #overruns = 0;
  #closed = false;

  private constructor(nfq: NfQueue, schedule: DelaySchedule, seed: number) {
    this.#nfq = nfq;
    this.#schedule = schedule;
    this.#seed = seed;
  }

  /** Bind the queue in the namespace and start delaying. EBUSY when another process holds the queue. */
  static async open(options: DelayQueueOptions): Promise<DelayQueue> {
    const { netns, queue, seed, limit, ...params } = options;
    checkDelayParams(params);
    const s = checkSeed(seed);
    const maxLen = limit ?? DELAY_QUEUE_LIMIT;
    if (!Number.isInteger(maxLen) || maxLen < 1) throw new RangeError(`limit must be a positive integer, got ${String(limit)}`);
    const schedule = new DelaySchedule(params, s);
    // Packets may arrive while the bind's ack is awaited: kept until the engine exists.
    const ref: { q?: DelayQueue } = {};
    const early: NfqPacket[] = [];
    const nfq = await NfQueue.bind({
      ...(netns === undefined ? {} : { netns }),
      queue,
      copy: 'meta',
      maxLen,
      gso: true,
      onPacket: (p) => (ref.q === undefined ? early.push(p) : ref.q.#arrive(p.id)),
      onOverrun: () => {
        if (ref.q !== undefined) ref.q.#overruns++;
      },
    });
    const q = new DelayQueue(nfq, schedule, s);
    ref.q = q;
    for (const p of early) q.#arrive(p.id);
    return q;
  }

  get queue(): number {
    return this.#nfq.queue;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** New delay, jitter or loss for packets arriving from now on; held packets keep their release times. */
  update(params: Partial<Omit<DelayParams, 'reorder'>>): void {
    this.#schedule.update(params);
  }

  /** Counts, and the kernel's counters of the queue. */
  stats(): DelayQueueStats {
    const k = this.#closed ? undefined : this.#nfq.procStats();
    return {
      queue: this.#nfq.queue,
      seed: this.#seed,
      received: this.#schedule.count,
      held: this.#schedule.held,
      released: this.#released,
      dropped: this.#dropped,
      verdictMessages: this.#messages,
      queueDropped: k?.queueDropped ?? 0,
      userDropped: k?.userDropped ?? 0,
      overruns: this.#overruns,
    };
  }

  #arrive(id: number): void {
    if (this.#closed) return;
    const now = performance.now();
    const fate = this.#schedule.arrive(id, now);
    if (fate.drop) {
      this.#nfq.verdict(id, 'drop');
      this.#dropped++;
      this.#messages++;
    }
    this.#releaseDue(now);
  }

  /** Accept what is due at `now`, and set the timer for what is next. */
  #releaseDue(now: number): void {
    const r = this.#schedule.due(now);
    this.#send(r.ids, r.upTo);
    this.#arm();
  }

  #send(ids: readonly number[], upTo: boolean): void {
    if (ids.length === 0) return;
    if (upTo) this.#nfq.verdictUpTo(ids[ids.length - 1]!, 'accept');
    else this.#nfq.verdicts(ids.map((id) => ({ id, verdict: 'accept' as const })));
    this.#released += ids.length;
    this.#messages++;
  }

  /** One timer, for the next release (never early: rounded up to the ms setTimeout counts in). */
  #arm(): void {
    const next = this.#schedule.nextAt();
    if (next === undefined || this.#closed) {
      this.#clearTimer();
      return;
    }
    if (this.#timer !== undefined && this.#timerAt <= next) return;
    this.#clearTimer();
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#releaseDue(performance.now());
    }, Math.max(0, Math.ceil(next - performance.now())));
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  /**
   * Stop: every held packet is accepted now (not lost), the queue unbound and the socket closed.
   * With the rule's bypass, packets then pass undelayed until the rule goes. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    try {
      const r = this.#schedule.all();
      this.#send(r.ids, r.upTo);
      await this.#nfq.unbind();
    } finally {
      this.#nfq.close();
    }
  }
}
