/**
 * Layer: lab (pure).
 *
 * When each packet of a delay queue (delay-queue.ts) is released: no I/O, no clock of its own
 * (every call is given `now`, in ms), so it is tested without packets. A packet arriving at t
 * is dropped with probability `loss`, else released at t + delay + jitter, the jitter uniform
 * in [-jitter, +jitter] (netem's default distribution). FIFO by default, as netem with a rate
 * is: a release is never before the previous one, so nothing is reordered, and the packets
 * released together are always the oldest held, a run ending at one id — one
 * NFQNL_MSG_VERDICT_BATCH. With `reorder`, each packet keeps its own time, and those due
 * together may be any ids (one verdict each).
 *
 * The n-th packet (n counted from 0 since the schedule began) draws its fate from
 * delay-random.ts: with the same seed, two runs lose and jitter the same packets.
 */
import { packetDraw } from './delay-random.js';

export interface DelayParams {
  /** The delay, in ms (≥ 0) */
  delayMs: number;
  /** The jitter, in ms (0 ≤ jitter ≤ delay): uniform in [-jitter, +jitter] */
  jitterMs?: number;
  /** The share of packets dropped, 0 to 1 */
  loss?: number;
  /** Let packets overtake each other (default false: FIFO) */
  reorder?: boolean;
}

/** The fate of one arriving packet. */
export type Fate = { drop: true } | { drop: false; releaseAt: number };

/** What is due now: the ids to accept, and whether they are every held packet up to the last (one batch verdict). */
export interface Release {
  ids: number[];
  /** In FIFO order the ids are the oldest held, so "every queued packet up to ids[-1]" releases exactly them. */
  upTo: boolean;
}

/** Check params; RangeError naming the bad one. */
export function checkDelayParams(p: DelayParams): Required<DelayParams> {
  const delayMs = p.delayMs;
  const jitterMs = p.jitterMs ?? 0;
  const loss = p.loss ?? 0;
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0 || delayMs > 3_600_000) throw new RangeError(`delayMs must be 0 to 3600000 ms, got ${String(delayMs)}`);
  if (typeof jitterMs !== 'number' || !Number.isFinite(jitterMs) || jitterMs < 0 || jitterMs > delayMs) {
    throw new RangeError(`jitterMs must be from 0 to delayMs (${delayMs}), got ${String(jitterMs)}: a packet is never released before it arrived`);
  }
  if (typeof loss !== 'number' || !(loss >= 0 && loss <= 1)) throw new RangeError(`loss must be a fraction from 0 to 1, got ${String(loss)}`);
  return { delayMs, jitterMs, loss, reorder: p.reorder === true };
}

/** A binary min-heap of (releaseAt, id) for the reorder mode. */
class Heap {
  readonly #at: number[] = [];
  readonly #id: number[] = [];

  get size(): number {
    return this.#at.length;
  }

  peekAt(): number | undefined {
    return this.#at[0];
  }

  push(at: number, id: number): void {
    let i = this.#at.length;
    this.#at.push(at);
    this.#id.push(id);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.#at[p]! <= at) break;
      this.#swap(i, p);
      i = p;
    }
  }

  pop(): number {
    const id = this.#id[0]!;
    const lastAt = this.#at.pop()!;
    const lastId = this.#id.pop()!;
    if (this.#at.length > 0) {
      this.#at[0] = lastAt;
      this.#id[0] = lastId;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.#at.length && this.#at[l]! < this.#at[m]!) m = l;
        if (r < this.#at.length && this.#at[r]! < this.#at[m]!) m = r;
        if (m === i) break;
        this.#swap(i, m);
        i = m;
      }
    }
    return id;
  }

  #swap(a: number, b: number): void {
    [this.#at[a], this.#at[b]] = [this.#at[b]!, this.#at[a]!];
    [this.#id[a], this.#id[b]] = [this.#id[b]!, this.#id[a]!];
  }
}

/** A FIFO of (releaseAt, id): arrays with a moving head, compacted now and then. */
class Fifo {
  #at: number[] = [];
  #id: number[] = [];
  #head = 0;

  get size(): number {
    return this.#at.length - this.#head;
  }

  peekAt(): number | undefined {
    return this.#at[this.#head];
  }

  lastAt(): number | undefined {
    return this.size === 0 ? undefined : this.#at[this.#at.length - 1];
  }

  push(at: number, id: number): void {
    this.#at.push(at);
    this.#id.push(id);
  }

  pop(): number {
    const id = this.#id[this.#head++]!;
    if (this.#head > 4096 && this.#head * 2 > this.#at.length) {
      this.#at = this.#at.slice(this.#head);
      this.#id = this.#id.slice(this.#head);
      this.#head = 0;
    }
    return id;
  }
}

export class DelaySchedule {
  #p: Required<DelayParams>;
  readonly #seed: number;
  #n = 0;
  #held: Fifo | Heap;
  /** The latest release time given out (FIFO: no later packet is released before it). */
  #last = -Infinity;

  constructor(params: DelayParams, seed: number) {
    this.#p = checkDelayParams(params);
    this.#seed = seed;
    this.#held = this.#p.reorder ? new Heap() : new Fifo();
  }

  get params(): Readonly<Required<DelayParams>> {
    return this.#p;
  }

  /** Packets seen so far (the next one is packet n). */
  get count(): number {
    return this.#n;
  }

  get held(): number {
    return this.#held.size;
  }

  /** New parameters for packets arriving from now on (the held ones keep their times; `reorder` cannot change). */
  update(params: Partial<DelayParams>): void {
    const next = checkDelayParams({ ...this.#p, ...params });
    if (next.reorder !== this.#p.reorder) throw new RangeError('reorder cannot change on an open delay queue');
    this.#p = next;
  }

  /** The fate of packet `id` arriving at `now`: dropped, or held until its release time. */
  arrive(id: number, now: number): Fate {
    const n = this.#n++;
    const { delayMs, jitterMs, loss } = this.#p;
    if (loss > 0 && packetDraw(this.#seed, 'loss', n) < loss) return { drop: true };
    let at = now + delayMs + (jitterMs > 0 ? (packetDraw(this.#seed, 'jitter', n) * 2 - 1) * jitterMs : 0);
    if (!this.#p.reorder) at = Math.max(at, this.#last);
    this.#last = Math.max(this.#last, at);
    this.#held.push(at, id);
    return { drop: false, releaseAt: at };
  }

  /** When the next held packet is due (undefined: none held). */
  nextAt(): number | undefined {
    return this.#held.peekAt();
  }

  /** Take every packet due at `now` (release time ≤ now). */
  due(now: number): Release {
    const ids: number[] = [];
    while (this.#held.size > 0 && this.#held.peekAt()! <= now) ids.push(this.#held.pop());
    return { ids, upTo: !this.#p.reorder };
  }

  /** Take every held packet, due or not (closing). */
  all(): Release {
    return this.due(Infinity);
  }
}
