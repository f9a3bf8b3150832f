/**
 * Layer: lab.
 *
 * The supervisor's timer service: the file's schedule (docs/labs.md `schedule`), each step a
 * fault applied or healed at its time after the lab came up, and the heals of faults applied
 * for a duration (`lab fault apply --for`, `lab partition --for`). The steps run through
 * faults.ts (runScheduleStep, healDue), which take the lab's lock as any command does.
 *
 * The schedule's progress is kept in ROOT/labs/LAB/schedule.json (when it started, which steps
 * ran and how), so a restarted supervisor goes on where the old one stopped: steps whose time
 * has passed run at once, in order. A reload (an `up`) with the same schedule keeps it; a
 * changed schedule starts again from then. Heals are looked up from the store: at start, on
 * each reload and on the op `timers` (sent after a fault is applied for a duration), and every
 * few seconds in case a signal was missed.
 *
 * Its ops: `timers` (look at the store's heal times again).
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { healDue, nextHealAt, runScheduleStep } from '../faults.js';
import type { ScheduleStep } from '../model.js';
import type { ServiceChange, ServiceContext, SupervisedLab, SupervisorService } from './service.js';

/** How often the store's heal times are looked at anyway. */
const POLL_MS = 5_000;

interface StepRecord {
  /** ISO time it ran. */
  ranAt: string;
  error?: string;
}

interface ScheduleState {
  /** sha256 of the schedule's JSON: another schedule starts again. */
  digest: string;
  /** When the schedule's time 0 was (ISO). */
  startedAt: string;
  /** By the step's index in the schedule. */
  steps: Record<number, StepRecord>;
}

export interface ScheduleStepStatus extends ScheduleStep {
  /** When it runs (ran), ISO. */
  at: string;
  state: 'pending' | 'done' | 'failed';
  error?: string;
}

export interface TimerStatus {
  schedule: ScheduleStepStatus[];
  /** The next heal of a fault applied for a duration (ISO), if any. */
  nextHeal: string | undefined;
}

const digestOf = (schedule: readonly ScheduleStep[]): string => createHash('sha256').update(JSON.stringify(schedule)).digest('hex');

class TimerService implements SupervisorService {
  readonly name = 'timers';
  readonly #ctx: ServiceContext;
  #schedule: ScheduleStep[] = [];
  #state: ScheduleState | undefined;
  #stepTimer: NodeJS.Timeout | undefined;
  #healTimer: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #nextHeal: Date | undefined;
  #stopped = false;
  /** Steps and heals run one at a time, in order. */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(ctx: ServiceContext) {
    this.#ctx = ctx;
  }

  get #file(): string {
    return join(this.#ctx.paths.dir, 'schedule.json');
  }

  #save(): void {
    if (this.#state === undefined) return;
    writeFileSync(`${this.#file}.tmp`, JSON.stringify(this.#state), { mode: 0o600 });
    renameSync(`${this.#file}.tmp`, this.#file);
  }

  #load(schedule: ScheduleStep[]): ServiceChange[] {
    const digest = digestOf(schedule);
    this.#schedule = schedule;
    if (this.#state?.digest === digest) return [];
    let saved: ScheduleState | undefined;
    try {
      saved = JSON.parse(readFileSync(this.#file, 'utf8')) as ScheduleState;
    } catch {
      saved = undefined;
    }
    if (saved?.digest === digest) {
      this.#state = saved;
      return [];
    }
    this.#state = { digest, startedAt: new Date().toISOString(), steps: {} };
    this.#save();
    return schedule.length === 0 ? [] : [{ key: 'schedule', action: saved === undefined ? 'create' : 'change', detail: `${schedule.length} step(s) from now` }];
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(fn, fn);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  /** Run every step whose time has come and not run yet, then arm the timer for the next. */
  #runDue(): void {
    void this.#serial(async () => {
      const state = this.#state;
      if (state === undefined || this.#stopped) return;
      const start = Date.parse(state.startedAt);
      for (const [i, step] of this.#schedule.entries()) {
        if (this.#stopped || state !== this.#state) return;
        if (state.steps[i] !== undefined || start + step.atMs > Date.now()) continue;
        try {
          await runScheduleStep(this.#ctx.manager, this.#ctx.lab, step);
          state.steps[i] = { ranAt: new Date().toISOString() };
          this.#ctx.log(`schedule: ${step.action} ${step.fault} (at ${step.atMs} ms)`);
        } catch (err) {
          state.steps[i] = { ranAt: new Date().toISOString(), error: (err as Error).message };
          this.#ctx.log(`schedule: ${step.action} ${step.fault} (at ${step.atMs} ms) failed: ${(err as Error).message}`);
        } finally {
          this.#ctx.manager.close();
        }
        this.#save();
      }
      this.#armSteps();
    });
  }

  #armSteps(): void {
    if (this.#stepTimer !== undefined) clearTimeout(this.#stepTimer);
    this.#stepTimer = undefined;
    const state = this.#state;
    if (state === undefined || this.#stopped) return;
    const start = Date.parse(state.startedAt);
    const next = this.#schedule.map((s, i) => (state.steps[i] === undefined ? start + s.atMs : Infinity)).reduce((a, b) => Math.min(a, b), Infinity);
    if (next === Infinity) return;
    this.#stepTimer = setTimeout(() => this.#runDue(), Math.max(0, next - Date.now()));
  }

  /** Heal what is due, then arm the timer for the next heal time in the store. */
  #heal(): Promise<void> {
    return this.#serial(async () => {
      if (this.#stopped) return;
      try {
        const now = new Date();
        if (this.#nextHeal === undefined || this.#nextHeal <= now || (nextHealAt(this.#ctx.manager, this.#ctx.lab)?.getTime() ?? Infinity) <= now.getTime()) {
          for (const h of await healDue(this.#ctx.manager, this.#ctx.lab, now)) this.#ctx.log(`healed ${JSON.stringify(h)}`);
        }
        this.#nextHeal = nextHealAt(this.#ctx.manager, this.#ctx.lab);
      } catch (err) {
        this.#ctx.log(`healing due faults: ${(err as Error).message}`);
      } finally {
        this.#ctx.manager.close();
      }
      if (this.#healTimer !== undefined) clearTimeout(this.#healTimer);
      this.#healTimer = undefined;
      if (this.#nextHeal !== undefined && !this.#stopped) {
        this.#healTimer = setTimeout(() => void this.#heal(), Math.max(0, this.#nextHeal.getTime() - Date.now()));
      }
    });
  }

  async start(lab: SupervisedLab): Promise<ServiceChange[]> {
    const changes = this.#load(lab.spec.schedule);
    this.#poll = setInterval(() => void this.#heal(), POLL_MS);
    this.#poll.unref();
    this.#runDue();
    void this.#heal();
    return changes;
  }

  async reload(lab: SupervisedLab): Promise<ServiceChange[]> {
    const changes = this.#load(lab.spec.schedule);
    this.#runDue();
    void this.#heal();
    return changes;
  }

  /** Timers cleared; a step or heal in flight is not waited for (it may be waiting for the lab's lock, held by the `down` that stops us). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of [this.#stepTimer, this.#healTimer]) if (t !== undefined) clearTimeout(t);
    if (this.#poll !== undefined) clearInterval(this.#poll);
    await Promise.resolve();
  }

  status(): TimerStatus {
    const state = this.#state;
    const start = state === undefined ? Date.now() : Date.parse(state.startedAt);
    const schedule = this.#schedule.map((step, i): ScheduleStepStatus => {
      const rec = state?.steps[i];
      return {
        ...step, at: new Date(start + step.atMs).toISOString(), state: rec === undefined ? 'pending' : rec.error === undefined ? 'done' : 'failed',
        ...(rec?.error === undefined ? {} : { error: rec.error }),
      };
    });
    return { schedule, nextHeal: this.#nextHeal?.toISOString() };
  }

  handle(request: { op: string } & Record<string, unknown>): Promise<unknown> | undefined {
    if (request.op !== 'timers') return undefined;
    return this.#heal().then(() => ({ nextHeal: this.#nextHeal?.toISOString() }));
  }
}

export const timerService = (ctx: ServiceContext): SupervisorService => new TimerService(ctx);
