/**
 * Layer: lab.
 *
 * One process of a node, run by the supervisor: started inside the node as `nsbox exec` starts
 * a command (Manager.spawnIn, the nsbox-exec helper), in a session and process group of its own,
 * with its stdout and stderr appended to its capped log (log-file.ts). Its life:
 *
 *   pending -> starting -> ready            (the readiness check passed, or there is none)
 *   starting -> failed                      (not ready within `timeout`, or ended before it was
 *                                            and will not restart: its group is killed)
 *   ready|starting -> backoff -> starting   (it ended and `restart` says again: after a delay
 *                                            doubling from backoff.initial to backoff.max; the
 *                                            doubling starts over after a run of 10 s or more)
 *   ready -> exited                         (it ended and `restart` says not again)
 *   any -> stopped                          (stop(): SIGTERM to the group, SIGKILL after the grace)
 *
 * Readiness is judged once per start series: from the first start, across restarts, until the
 * process is ready or `timeout` has passed. When the leader of a group ends, what is left of
 * its group is killed, so a restart never runs beside an older copy.
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { NsboxError } from '../../errors.js';
import type { ProcessSpec } from '../model.js';
import type { GroupRecord } from './leftovers.js';
import { LogFile } from './log-file.js';
import { netnsInode, procInfo } from './proc.js';
import { intervalOf, readyOnce } from './readiness.js';
import type { ServiceContext } from './service.js';

export type ProcessState = 'pending' | 'starting' | 'ready' | 'exited' | 'backoff' | 'failed' | 'stopped';

export interface ProcessStatus {
  node: string;
  process: string;
  pid: number | undefined;
  state: ProcessState;
  restarts: number;
  lastExit: { code: number | null; signal: string | null; at: string } | undefined;
  /** Why it failed (state `failed`). */
  failure: string | undefined;
  /** Of its definition: a changed definition restarts it. */
  digest: string;
  log: string;
}

export interface ProcessDef {
  node: string;
  sandbox: string;
  spec: ProcessSpec;
  /** The spec's cwd, else the lab file's directory. */
  cwd: string;
  digest: string;
  log: string;
}

export interface GroupHooks {
  started(group: GroupRecord): void;
  ended(pid: number): void;
}

/** A run this long counts as a success: the next failure waits backoff.initial again. */
const STABLE_RUN_MS = 10_000;
/** Grace between SIGTERM and SIGKILL when a process is stopped. */
export const STOP_GRACE_MS = 5_000;

const exitText = (code: number | null, signal: string | null): string => (signal !== null ? `killed by ${signal}` : `exited with code ${code ?? '?'}`);

export class SupervisedProcess {
  readonly def: ProcessDef;
  readonly #ctx: ServiceContext;
  readonly #hooks: GroupHooks;
  #log: LogFile | undefined;
  #state: ProcessState = 'pending';
  #child: ChildProcess | undefined;
  #pid: number | undefined;
  #startedAt = 0;
  #restarts = 0;
  #consecutive = 0;
  #lastExit: ProcessStatus['lastExit'];
  #failure: string | undefined;
  #stopping = false;
  #checking = false;
  #logSeen = false;
  #logTail = '';
  #backoff: NodeJS.Timeout | undefined;
  #waiters: (() => void)[] = [];

  constructor(def: ProcessDef, ctx: ServiceContext, hooks: GroupHooks) {
    this.def = def;
    this.#ctx = ctx;
    this.#hooks = hooks;
  }

  get key(): string { return `${this.def.node}/${this.def.spec.name}`; }
  get state(): ProcessState { return this.#state; }

  status(): ProcessStatus {
    return {
      node: this.def.node, process: this.def.spec.name, pid: this.#pid, state: this.#state, restarts: this.#restarts,
      lastExit: this.#lastExit, failure: this.#failure, digest: this.def.digest, log: this.def.log,
    };
  }

  /** Start it if it is pending, and wait until it is ready, failed or has exited. */
  async ensure(): Promise<void> {
    if (this.#state === 'pending') {
      this.#stopping = false;
      const deadline = Date.now() + this.#timeout();
      await this.#spawn();
      void this.#awaitReady(deadline);
    }
    if (this.#state === 'starting' || this.#state === 'backoff') await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** A failed process (or one that never started) is pending again: the next ensure() starts it. */
  reset(reason?: string): void {
    if (this.#state === 'failed' || this.#state === 'pending') {
      this.#state = 'pending';
      this.#failure = reason;
    }
  }

  /** Mark it failed without starting it (a process before it in its node is not ready). */
  blocked(reason: string): void {
    if (this.#state === 'pending') this.#failure = reason;
  }

  signal(signal: string): void {
    if (this.#pid === undefined) throw new NsboxError(`process ${this.key} is not running (it is ${this.#state})`, 'NSBOX_ERR_NOT_FOUND');
    this.#log?.write(`nsbox: SIG${signal} sent to ${this.key} (pid ${this.#pid})\n`);
    process.kill(-this.#pid, `SIG${signal}` as NodeJS.Signals);
  }

  /** Stop it (SIGTERM, then SIGKILL after the grace) and start it again. */
  async restart(): Promise<void> {
    await this.stop();
    this.#restarts++;
    this.#state = 'pending';
    this.#failure = undefined;
    await this.ensure();
  }

  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#backoff);
    await this.#killGroup(graceMs);
    if (this.#state !== 'failed') this.#state = 'stopped';
    this.#settle();
  }

  /** Close its log (after stop()). */
  close(): void {
    this.#log?.close();
    this.#log = undefined;
  }

  #timeout(): number {
    return this.def.spec.ready?.timeoutMs ?? 0;
  }

  #settle(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  #logFile(): LogFile {
    this.#log ??= new LogFile(this.def.log);
    return this.#log;
  }

  #output(chunk: Buffer): void {
    this.#logFile().write(chunk);
    const check = this.def.spec.ready;
    if (check?.kind !== 'log' || this.#logSeen) return;
    const text = this.#logTail + chunk.toString('utf8');
    if (text.includes(check.text)) this.#logSeen = true;
    this.#logTail = text.slice(-Math.max(check.text.length - 1, 0));
  }

  async #spawn(): Promise<void> {
    const { manager } = this.#ctx;
    const { spec, sandbox } = this.def;
    this.#state = 'starting';
    this.#logSeen = false;
    this.#logTail = '';
    this.#startedAt = Date.now();
    const log = this.#logFile();
    let child: ChildProcess;
    try {
      child = await manager.spawnIn(sandbox, spec.argv, {
        stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...spec.env }, cwd: this.def.cwd, detached: true,
      });
    } catch (err) {
      log.write(`nsbox: cannot start ${this.key}: ${(err as Error).message}\n`);
      this.#ended(undefined, 125, null);
      return;
    }
    this.#child = child;
    child.stdout!.on('data', (d: Buffer) => this.#output(d));
    child.stderr!.on('data', (d: Buffer) => this.#output(d));
    child.once('error', (err) => {
      if (child.pid !== undefined) return; // 'exit' follows
      log.write(`nsbox: cannot start ${this.key}: ${err.message}\n`);
      this.#ended(child, 125, null);
    });
    child.once('exit', (code, signal) => this.#ended(child, code, signal));
    const pid = child.pid;
    if (pid === undefined) return;
    this.#pid = pid;
    const start = procInfo(pid)?.start;
    const netns = netnsInode(manager.keyOf(sandbox));
    if (start !== undefined && netns !== undefined) this.#hooks.started({ node: this.def.node, process: spec.name, pid, start, netns });
    this.#ctx.log(`${this.key}: started pid ${pid}`);
  }

  #ended(child: ChildProcess | undefined, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.#child) return;
    const pid = this.#pid;
    this.#child = undefined;
    this.#pid = undefined;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL'); // what the leader left behind in its group
      } catch {
        // nothing left
      }
      this.#hooks.ended(pid);
    }
    this.#lastExit = { code, signal, at: new Date().toISOString() };
    this.#logFile().write(`nsbox: ${this.key} ${exitText(code, signal)}\n`);
    this.#ctx.log(`${this.key}: pid ${pid ?? '-'} ${exitText(code, signal)}`);
    if (this.#stopping || this.#state === 'failed') return;
    const failed = signal !== null || code !== 0;
    const { restart } = this.def.spec;
    if (!(restart === 'always' || (restart === 'on-failure' && failed))) {
      this.#state = 'exited';
      if (!this.#checking) this.#settle();
      return;
    }
    if (Date.now() - this.#startedAt >= STABLE_RUN_MS) this.#consecutive = 0;
    const { initialMs, maxMs } = this.def.spec.backoff ?? { initialMs: 100, maxMs: 30_000 };
    const delay = Math.min(initialMs * 2 ** this.#consecutive, maxMs);
    this.#consecutive++;
    this.#state = 'backoff';
    this.#backoff = setTimeout(() => {
      this.#restarts++;
      void this.#spawn().then(() => {
        if (!this.#checking) void this.#awaitReady(Date.now() + this.#timeout());
      });
    }, delay);
  }

  async #awaitReady(deadline: number): Promise<void> {
    this.#checking = true;
    const check = this.def.spec.ready;
    try {
      for (;;) {
        if (this.#stopping || this.#state === 'failed') return;
        if (this.#state === 'exited') {
          const e = this.#lastExit;
          await this.#fail(`${e ? exitText(e.code, e.signal) : 'ended'} before it was ready`);
          return;
        }
        if (this.#state === 'starting' && this.#child !== undefined) {
          if (check === undefined) {
            this.#state = 'ready';
            return;
          }
          const child = this.#child;
          const ok = await readyOnce(check, {
            manager: this.#ctx.manager, sandbox: this.def.sandbox, env: { ...process.env, ...this.def.spec.env }, cwd: this.def.cwd,
            logSeen: this.#logSeen, leftMs: deadline - Date.now(),
          }).catch(() => false);
          if (ok && this.#state === 'starting' && this.#child === child) {
            this.#state = 'ready';
            this.#ctx.log(`${this.key}: ready (pid ${this.#pid})`);
            return;
          }
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          await this.#fail(`not ready within ${this.#timeout()} ms (${describeCheck(this.def.spec)})`);
          return;
        }
        await sleep(Math.min(check === undefined ? 25 : intervalOf(check), left));
      }
    } finally {
      this.#checking = false;
      this.#settle();
    }
  }

  async #fail(reason: string): Promise<void> {
    this.#state = 'failed';
    this.#failure = reason;
    clearTimeout(this.#backoff);
    this.#logFile().write(`nsbox: ${this.key} failed: ${reason}\n`);
    this.#ctx.log(`${this.key}: failed: ${reason}`);
    await this.#killGroup(STOP_GRACE_MS);
  }

  /** SIGTERM (and SIGCONT, for a stopped one) to the group, SIGKILL after the grace; resolves once the leader has ended. */
  async #killGroup(graceMs: number): Promise<void> {
    const child = this.#child;
    const pid = this.#pid;
    if (child === undefined || pid === undefined) return;
    const ended = new Promise<void>((resolve) => {
      if (this.#child !== child) resolve();
      else child.once('exit', () => setImmediate(resolve));
    });
    const kill = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-pid, sig);
      } catch {
        // gone
      }
    };
    kill('SIGTERM');
    kill('SIGCONT');
    const timer = setTimeout(() => kill('SIGKILL'), graceMs);
    await ended;
    clearTimeout(timer);
  }
}

function describeCheck(spec: ProcessSpec): string {
  const c = spec.ready;
  if (c === undefined) return 'no check';
  switch (c.kind) {
    case 'tcp': return `tcp ${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
    case 'command': return `command ${c.argv.join(' ')}`;
    case 'log': return `log ${JSON.stringify(c.text)}`;
  }
}
