/**
 * Layer: lab.
 *
 * Typed calls to a lab's supervisor over its socket (protocol.ts), and its life seen from the
 * outside: `startSupervisor` (started detached as `nsbox lab supervise LAB` when none answers;
 * `up` calls it), `stopSupervisor` (`down`: stop, wait until its lock is free, then kill what
 * a dead one left: leftovers.ts). `signalProcess` is what a `signal` fault sends.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NsboxError, type ErrorCode } from '../../errors.js';
import type { Manager } from '../../managed/index.js';
import { packageRoot } from '../../package-root.js';
import { withFileLock } from '../../sandbox/index.js';
import { killGroups, readGroups, writeGroups } from './leftovers.js';
import { makeLabDir } from './lab-dir.js';
import { supervisorPaths } from './paths.js';
import { takeLines, type SupervisorRequest, type SupervisorResponse } from './protocol.js';
import type { ServiceChange } from './service.js';
import type { ProcessStatus } from './supervised-process.js';
import type { DelayStatus } from './delay-service.js';
import type { TimerStatus } from './timer-service.js';
import { tailLines } from './log-file.js';

export interface SupervisorStatusReply {
  lab: string;
  pid: number;
  services: { processes?: ProcessStatus[]; delay?: DelayStatus[]; timers?: TimerStatus } & Record<string, unknown>;
}

/** The code of "no supervisor answers" (NOT_FOUND), told apart from other not-found errors by this class. */
export class NoSupervisorError extends NsboxError {
  constructor(lab: string) {
    super(`no supervisor runs lab ${lab} (\`nsbox lab up\` starts it)`, 'NSBOX_ERR_NOT_FOUND');
  }
}

/** Send one request and wait for its answer (timeoutMs: 0 waits for ever). */
export function call<T>(manager: Manager, lab: string, request: SupervisorRequest, timeoutMs = 30_000): Promise<T> {
  const path = supervisorPaths(manager, lab).socket;
  return new Promise<T>((resolve, reject) => {
    const conn = connect(path);
    let buffer = '';
    let answered = false;
    const timer = timeoutMs > 0 ? setTimeout(() => { conn.destroy(); reject(new NsboxError(`lab ${lab}'s supervisor did not answer ${request.op} within ${timeoutMs} ms`, 'NSBOX_ERR_TIMEOUT')); }, timeoutMs) : undefined;
    const finish = (fn: () => void): void => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      conn.destroy();
      fn();
    };
    conn.on('error', (err: NodeJS.ErrnoException) => finish(() => reject(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? new NoSupervisorError(lab) : err)));
    conn.on('close', () => finish(() => reject(new NsboxError(`lab ${lab}'s supervisor closed the connection without answering ${request.op}`, 'NSBOX_ERR_INTERNAL'))));
    conn.setEncoding('utf8').on('data', (d: string) => {
      buffer += d;
      const { lines } = takeLines(buffer);
      if (lines.length === 0) return;
      const response = JSON.parse(lines[0]!) as SupervisorResponse;
      finish(() => (response.ok ? resolve(response.result as T) : reject(new NsboxError(response.error, response.code as ErrorCode))));
    });
    conn.write(`${JSON.stringify(request)}\n`);
  });
}

/** The supervisor's status, or undefined when none answers. */
export async function supervisorStatus(manager: Manager, lab: string, timeoutMs = 5_000): Promise<SupervisorStatusReply | undefined> {
  try {
    return await call<SupervisorStatusReply>(manager, lab, { op: 'status' }, timeoutMs);
  } catch (err) {
    if (err instanceof NoSupervisorError) return undefined;
    throw err;
  }
}

/** Send a signal (HUP INT QUIT KILL USR1 USR2 TERM STOP CONT) to a process's group: a `signal` fault. */
export function signalProcess(manager: Manager, lab: string, node: string, process: string, signal: string): Promise<ProcessStatus> {
  return call<ProcessStatus>(manager, lab, { op: 'signal', node, process, signal });
}

/** Stop a process and start it again. */
export function restartProcess(manager: Manager, lab: string, node: string, process: string): Promise<ProcessStatus> {
  return call<ProcessStatus>(manager, lab, { op: 'restart', node, process }, 0);
}

/** Have the supervisor read the lab's record again; what it changed. */
export function reloadSupervisor(manager: Manager, lab: string): Promise<ServiceChange[]> {
  return call<ServiceChange[]>(manager, lab, { op: 'reload' }, 0);
}

/** Set the delay engine's part of one link direction (all 0: no engine there); its status after, or null. */
export function setDelay(manager: Manager, lab: string, link: string, dir: 'a->b' | 'b->a', p: { delayMs: number; jitterMs: number; loss: number }): Promise<DelayStatus | null> {
  return call<DelayStatus | null>(manager, lab, { op: 'delay-set', link, dir, ...p });
}

/** Have the lab's supervisor (started if none runs) look at the faults' heal times again. */
export async function watchHeals(manager: Manager, lab: string): Promise<void> {
  await startSupervisor(manager, lab);
  await call(manager, lab, { op: 'timers' });
}

/** Wait until every process is ready or has failed; their status. */
export function awaitReady(manager: Manager, lab: string): Promise<ProcessStatus[]> {
  return call<ProcessStatus[]>(manager, lab, { op: 'await-ready' }, 0);
}

/** The CLI entry that runs the supervisor: bin/nsbox.js of this package. */
const cliEntry = (): string => join(packageRoot(), 'bin', 'nsbox.js');

/**
 * Make sure a supervisor runs the lab: the pid of the one that answers, or of one started now
 * (detached, its output in supervisor.log). Fails with the end of that log when it does not
 * come up within 10 s.
 */
export async function startSupervisor(manager: Manager, lab: string): Promise<{ pid: number; started: boolean }> {
  const running = await supervisorStatus(manager, lab);
  if (running !== undefined) return { pid: running.pid, started: false };
  const paths = supervisorPaths(manager, lab);
  makeLabDir(paths.dir);
  const out = openSync(paths.log, 'a', 0o600);
  let exited: string | undefined;
  try {
    const child = spawn(process.execPath, [cliEntry(), '--root', manager.root, 'lab', 'supervise', lab], {
      detached: true, stdio: ['ignore', out, out], env: { ...process.env, NSBOX_ROOT: manager.root },
    });
    child.once('exit', (code, signal) => { exited = signal ?? `code ${code}`; });
    child.once('error', (err) => { exited = err.message; });
    child.unref();
  } finally {
    closeSync(out);
  }
  for (let i = 0; i < 400; i++) {
    const status = await supervisorStatus(manager, lab).catch(() => undefined);
    if (status !== undefined) return { pid: status.pid, started: true };
    // Another `up` may have started one that holds the lock: keep asking while that one starts.
    if (exited !== undefined && i > 200) break;
    await sleep(25);
  }
  throw new NsboxError(`lab ${lab}'s supervisor did not start${exited === undefined ? '' : ` (it ended: ${exited})`}; the end of ${paths.log}:\n${tailLines(paths.log, 10).join('\n')}`, 'NSBOX_ERR_LAB_PROCESS');
}

/**
 * Kill what a dead supervisor of the lab left running (its recorded process groups), unless a
 * supervisor runs it; the pids killed.
 */
export async function reapLeftovers(manager: Manager, lab: string): Promise<number[] | undefined> {
  const paths = supervisorPaths(manager, lab);
  const held = await withFileLock(paths.lock, async () => {
    const killed = await killGroups(readGroups(paths.processes));
    if (killed.length > 0) writeGroups(paths.processes, []);
    return killed;
  }, { wait: false });
  return held.locked ? held.value : undefined;
}

/**
 * Stop the lab's supervisor (its processes first) and wait until it has gone; then kill what
 * a supervisor that died left. Whether one was running, and the leftovers killed.
 */
export async function stopSupervisor(manager: Manager, lab: string): Promise<{ wasRunning: boolean; leftovers: number[] }> {
  let wasRunning = true;
  try {
    await call(manager, lab, { op: 'stop' });
  } catch (err) {
    if (!(err instanceof NoSupervisorError)) throw err;
    wasRunning = false;
  }
  for (let i = 0; ; i++) {
    const leftovers = await reapLeftovers(manager, lab);
    if (leftovers !== undefined) return { wasRunning, leftovers };
    if (i === 1200) throw new NsboxError(`lab ${lab}'s supervisor still holds ${supervisorPaths(manager, lab).lock} after 60 s`, 'NSBOX_ERR_BUSY');
    await sleep(50);
  }
}

/** reapLeftovers for every lab with a directory under ROOT/labs (`nsbox gc`): the pids killed, per lab. */
export async function reapAllLeftovers(manager: Manager): Promise<Record<string, number[]>> {
  const base = dirname(manager.labDir('x'));
  const out: Record<string, number[]> = {};
  for (const lab of existsSync(base) ? readdirSync(base) : []) {
    const killed = await reapLeftovers(manager, lab);
    if (killed !== undefined && killed.length > 0) out[lab] = killed;
  }
  return out;
}
