/**
 * Layer: lab.
 *
 * The supervisor's delay service: one userspace delay engine (delay-queue.ts, NFQUEUE) per link
 * direction that has a delay, a jitter or a seeded loss (delay-wants.ts), in the sending node,
 * with the fault table's delay rule handing it what leaves through that interface. The rule has
 * `bypass`: while no engine is bound (the supervisor is gone), packets pass undelayed, and
 * `lab status` says so.
 *
 * What it runs is the file's impairments with the runtime changes over them (`lab impair`, a
 * fault's impairment set: the op `delay-set`), which are kept in ROOT/labs/LAB/delay.json so a
 * restarted supervisor keeps them. A reload (an `up`) brings every direction back to the file
 * and forgets the runtime changes, as `up` does for rate and loss.
 *
 * Its ops: `delay-set` {link, dir, delayMs, jitterMs, loss} (all 0: no engine on that
 * direction), answered with the engine's status.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NsboxError } from '../../errors.js';
import { FaultTable } from '../../firewall/index.js';
import { DelayQueue, delayQueueNumber, type DelayQueueStats } from '../delay-queue.js';
import { delayWant, delayWants, directionKey, sameWant, type DelayWant } from '../delay-wants.js';
import type { Direction, LabSpec } from '../model.js';
import type { ServiceChange, ServiceContext, SupervisedLab, SupervisorService } from './service.js';

interface Running {
  want: DelayWant;
  engine: DelayQueue;
}

export interface DelayStatus extends Omit<DelayWant, 'seed'> {
  queue: number;
  /** The seed in use (the file's, or the one drawn). */
  seed: number;
  stats: DelayQueueStats;
}

/** A runtime change of one direction's engine part (undefined fields: 0). */
interface Override {
  delayMs: number;
  jitterMs: number;
  loss: number;
}

/** A step's detail for an engine: `delay engine: 30ms ±5ms … on SANDBOX IFACE (sender)` (lifecycle.ts says the same for a dry run). */
export const describeDelay = (w: DelayWant): string =>
  `delay engine: ${w.delayMs}ms${w.jitterMs > 0 ? ` ±${w.jitterMs}ms` : ''}${w.loss > 0 ? ` loss ${+(w.loss * 100).toFixed(4)}%` : ''}${w.seed === undefined ? '' : ` seed ${w.seed}`} on ${w.sandbox} ${w.iface} (sender)`;

class DelayService implements SupervisorService {
  readonly name = 'delay';
  readonly #ctx: ServiceContext;
  readonly #running = new Map<string, Running>();
  #spec: LabSpec | undefined;
  #overrides: Record<string, Override> = {};
  /** One change at a time (a reload and a delay-set never interleave). */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(ctx: ServiceContext) {
    this.#ctx = ctx;
  }

  get #file(): string {
    return join(this.#ctx.paths.dir, 'delay.json');
  }

  #loadOverrides(): void {
    try {
      this.#overrides = JSON.parse(readFileSync(this.#file, 'utf8')) as Record<string, Override>;
    } catch {
      this.#overrides = {};
    }
  }

  #saveOverrides(): void {
    if (Object.keys(this.#overrides).length === 0) {
      rmSync(this.#file, { force: true });
      return;
    }
    writeFileSync(`${this.#file}.tmp`, JSON.stringify(this.#overrides), { mode: 0o600 });
    renameSync(`${this.#file}.tmp`, this.#file);
  }

  /** The file's wants with the runtime changes over them. */
  #wants(spec: LabSpec): Map<string, DelayWant> {
    const wants = delayWants(spec);
    for (const [key, o] of Object.entries(this.#overrides)) {
      const [linkName, dir] = key.split('/') as [string, Direction];
      const link = spec.links.find((l) => l.name === linkName);
      if (link === undefined) continue;
      const want = delayWant(spec, link, dir, { delay: o.delayMs, jitter: o.jitterMs, loss: o.loss });
      if (want === undefined) wants.delete(key);
      else wants.set(key, { ...want, loss: o.loss });
    }
    return wants;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(fn, fn);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  /** Bring the engines to `wants`: close what is gone or moved, update in place what only changed values, open what is new. */
  async #converge(spec: LabSpec, wants: Map<string, DelayWant>): Promise<ServiceChange[]> {
    const changes: ServiceChange[] = [];
    for (const [key, r] of [...this.#running]) {
      const want = wants.get(key);
      if (want !== undefined && want.sandbox === r.want.sandbox && want.iface === r.want.iface && want.seed === r.want.seed) continue;
      await this.#close(key, r);
      if (want === undefined) changes.push({ key: `impair:${key}`, action: 'remove', detail: `delay engine on ${r.want.sandbox} ${r.want.iface} stopped` });
    }
    for (const [key, want] of wants) {
      const r = this.#running.get(key);
      if (r !== undefined) {
        if (sameWant(r.want, want)) continue;
        r.engine.update({ delayMs: want.delayMs, jitterMs: want.jitterMs, loss: want.loss });
        r.want = want;
        changes.push({ key: `impair:${key}`, action: 'change', detail: describeDelay(want) });
        continue;
      }
      await this.#open(spec, key, want);
      changes.push({ key: `impair:${key}`, action: 'create', detail: describeDelay(want) });
    }
    return changes;
  }

  async #open(spec: LabSpec, key: string, want: DelayWant): Promise<void> {
    const netns = this.#ctx.manager.keyOf(want.sandbox);
    const ifaces = this.#nodeInterfaces(spec, want.node);
    const queue = delayQueueNumber(want.iface, ifaces);
    const engine = await DelayQueue.open({
      netns, queue, delayMs: want.delayMs, jitterMs: want.jitterMs, loss: want.loss, ...(want.seed === undefined ? {} : { seed: want.seed }),
    });
    try {
      const table = FaultTable.open({ netns });
      try {
        await table.setDelayQueue(want.iface, queue);
      } finally {
        table.close();
      }
    } catch (err) {
      await engine.close();
      throw err;
    }
    this.#running.set(key, { want, engine });
    this.#ctx.log(`delay ${key}: queue ${queue}, ${describeDelay(want)}`);
  }

  async #close(key: string, r: Running): Promise<void> {
    this.#running.delete(key);
    const errors: string[] = [];
    try {
      const table = FaultTable.open({ netns: this.#ctx.manager.keyOf(r.want.sandbox) });
      try {
        await table.setDelayQueue(r.want.iface, undefined);
      } finally {
        table.close();
      }
    } catch (err) {
      errors.push(`removing the delay rule of ${r.want.sandbox} ${r.want.iface}: ${(err as Error).message}`);
    }
    await r.engine.close().catch((err: Error) => errors.push(`closing the engine of ${key}: ${err.message}`));
    for (const e of errors) this.#ctx.log(e);
  }

  /** The node's interfaces (its networks' and its link ends), which queue numbers are picked among. */
  #nodeInterfaces(spec: LabSpec, node: string): string[] {
    const n = spec.nodes.find((x) => x.name === node);
    const ends = spec.links.flatMap((l) => [l.a, l.b]).filter((e) => e.node === node).map((e) => e.iface);
    return [...(n?.interfaces.map((i) => i.name) ?? []), ...ends];
  }

  start(lab: SupervisedLab): Promise<ServiceChange[]> {
    return this.#serial(async () => {
      this.#spec = lab.spec;
      this.#loadOverrides();
      return this.#converge(lab.spec, this.#wants(lab.spec));
    });
  }

  reload(lab: SupervisedLab): Promise<ServiceChange[]> {
    return this.#serial(async () => {
      this.#spec = lab.spec;
      this.#overrides = {};
      this.#saveOverrides();
      return this.#converge(lab.spec, this.#wants(lab.spec));
    });
  }

  stop(): Promise<void> {
    return this.#serial(async () => {
      for (const [key, r] of [...this.#running]) await this.#close(key, r);
    });
  }

  status(): DelayStatus[] {
    return [...this.#running.values()].map(({ want, engine }) => {
      const stats = engine.stats();
      return { ...want, queue: engine.queue, seed: stats.seed, stats };
    });
  }

  handle(request: { op: string } & Record<string, unknown>): Promise<unknown> | undefined {
    if (request.op !== 'delay-set') return undefined;
    return this.#serial(async () => {
      const spec = this.#spec;
      if (spec === undefined) throw new NsboxError('the delay service has not started', 'NSBOX_ERR_INTERNAL');
      const link = String(request.link);
      const dir = request.dir as Direction;
      if (!spec.links.some((l) => l.name === link) || (dir !== 'a->b' && dir !== 'b->a')) {
        throw new NsboxError(`lab ${this.#ctx.lab} has no link direction ${link} ${String(dir)}`, 'NSBOX_ERR_NOT_FOUND');
      }
      const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
      this.#overrides[directionKey(link, dir)] = { delayMs: num(request.delayMs), jitterMs: num(request.jitterMs), loss: num(request.loss) };
      this.#saveOverrides();
      await this.#converge(spec, this.#wants(spec));
      return this.status().find((s) => s.link === link && s.dir === dir) ?? null;
    });
  }
}

export const delayService = (ctx: ServiceContext): SupervisorService => new DelayService(ctx);
