/**
 * Layer: lab.
 *
 * A lab's supervisor: the long-lived process (`nsbox lab supervise LAB`, started detached by
 * `up`: client.ts) that runs the lab's services (services.ts) and answers its control socket.
 *
 * - One per lab: it holds ROOT/labs/LAB/supervisor.lock (flock, dropped by the kernel however
 *   it dies) for its whole life; a second one finds it held and exits. Holding it proves a
 *   socket file already there is a dead supervisor's, so that one is replaced.
 * - The socket is root's alone: born 0600 (umask 0177), in the lab's directory (0700).
 * - Requests (protocol.ts) are JSON lines; each connection's are answered in order. Requests
 *   wait until the services have started.
 * - It reads the lab from its record (`up` writes it) when it starts and on `reload`.
 * - `stop`, SIGTERM or SIGINT: every service stops (processes: SIGTERM to each group, SIGKILL
 *   after the grace), then the socket is removed and the lock released.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { NsboxError, reportedCode } from '../../errors.js';
import type { Manager } from '../../managed/index.js';
import { withFileLock } from '../../sandbox/index.js';
import { specFromStored } from '../spec-json.js';
import { makeLabDir } from './lab-dir.js';
import { MAX_SOCKET_PATH, supervisorPaths, type SupervisorPaths } from './paths.js';
import { MAX_LINE, takeLines, type SupervisorRequest, type SupervisorResponse } from './protocol.js';
import type { ServiceChange, ServiceContext, SupervisedLab, SupervisorService } from './service.js';
import { SERVICES } from './services.js';

const logLine = (line: string): void => { process.stderr.write(`${new Date().toISOString()} ${line}\n`); };

/** The lab as its record says; NOT_FOUND when there is none. */
export function recordedLab(manager: Manager, lab: string): SupervisedLab {
  const rec = manager.labs.get(lab);
  if (rec === undefined) throw new NsboxError(`lab ${lab} has no record: bring it up with \`nsbox lab up -f FILE\``, 'NSBOX_ERR_NOT_FOUND');
  return { name: lab, spec: specFromStored(rec.spec), file: rec.file };
}

function removeStaleSocket(path: string): void {
  try {
    if (!lstatSync(path).isSocket()) throw new NsboxError(`${path} exists and is not a socket: not replacing it`, 'NSBOX_ERR_CONFLICT');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  unlinkSync(path);
}

export function checkSocketPath(paths: SupervisorPaths): void {
  if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH) {
    throw new NsboxError(`the supervisor's socket ${paths.socket} is longer than ${MAX_SOCKET_PATH} bytes: use a shorter state root or lab name`, 'NSBOX_ERR_USAGE');
  }
}

class Supervisor {
  readonly #manager: Manager;
  readonly #lab: string;
  readonly #paths: SupervisorPaths;
  readonly #services: SupervisorService[];
  #started!: Promise<void>;
  #stopped!: () => void;
  #stopping: Promise<void> | undefined;
  #server: Server | undefined;
  readonly #conns = new Set<Socket>();

  constructor(manager: Manager, lab: string) {
    this.#manager = manager;
    this.#lab = lab;
    this.#paths = supervisorPaths(manager, lab);
    const ctx: ServiceContext = { manager, lab, paths: this.#paths, log: logLine };
    this.#services = SERVICES.map((make) => make(ctx));
  }

  async run(): Promise<void> {
    const done = new Promise<void>((resolve) => { this.#stopped = resolve; });
    const onSignal = (): void => { void this.stop(); };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', () => undefined);
    try {
      removeStaleSocket(this.#paths.socket);
      await this.#listen();
      logLine(`supervisor of lab ${this.#lab}: pid ${process.pid}, listening on ${this.#paths.socket}`);
      this.#started = this.#startServices();
      await this.#started.catch(() => undefined);
      await done;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  }

  async #startServices(): Promise<void> {
    const lab = this.#readLab();
    for (const s of this.#services) {
      const changes = await s.start(lab);
      for (const c of changes) logLine(`${c.action} ${c.key}: ${c.detail}`);
    }
  }

  #readLab(): SupervisedLab {
    try {
      return recordedLab(this.#manager, this.#lab);
    } finally {
      this.#manager.close(); // nothing stays open between requests
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      logLine('stopping');
      await this.#started?.catch(() => undefined);
      for (const s of [...this.#services].reverse()) {
        try {
          await s.stop();
        } catch (err) {
          logLine(`stopping ${s.name}: ${(err as Error).message}`);
        }
      }
      await new Promise<void>((resolve) => {
        if (this.#server === undefined) resolve();
        else this.#server.close(() => resolve());
        for (const c of this.#conns) c.end();
      });
      try {
        removeStaleSocket(this.#paths.socket);
      } catch (err) {
        logLine((err as Error).message);
      }
      logLine('stopped');
      this.#stopped();
    })();
    return this.#stopping;
  }

  async #listen(): Promise<void> {
    const server = createServer((conn) => this.#accept(conn));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const previous = process.umask(0o177);
      try {
        server.listen(this.#paths.socket, () => { server.off('error', reject); resolve(); });
      } finally {
        process.umask(previous);
      }
    });
    chmodSync(this.#paths.socket, 0o600);
    server.on('error', (err) => logLine(`socket error: ${err.message}`));
  }

  #accept(conn: Socket): void {
    this.#conns.add(conn);
    conn.on('close', () => this.#conns.delete(conn));
    conn.on('error', () => undefined);
    let buffer = '';
    let queue = Promise.resolve();
    conn.setEncoding('utf8').on('data', (d: string) => {
      buffer += d;
      if (buffer.length > MAX_LINE) {
        conn.destroy();
        return;
      }
      const { lines, rest } = takeLines(buffer);
      buffer = rest;
      for (const line of lines) {
        queue = queue.then(async () => {
          const response = await this.#answer(line);
          if (!conn.destroyed) conn.write(`${JSON.stringify(response)}\n`);
        });
      }
    });
  }

  async #answer(line: string): Promise<SupervisorResponse> {
    try {
      const request = JSON.parse(line) as SupervisorRequest & Record<string, unknown>;
      if (typeof request !== 'object' || request === null || typeof request.op !== 'string') throw new NsboxError('a request is a JSON object with an "op"', 'NSBOX_ERR_USAGE');
      return { ok: true, result: await this.#dispatch(request) };
    } catch (err) {
      return { ok: false, error: (err as Error).message, code: reportedCode(err) };
    }
  }

  async #dispatch(request: SupervisorRequest & Record<string, unknown>): Promise<unknown> {
    if (request.op === 'stop') {
      void this.stop();
      return { stopping: true, pid: process.pid };
    }
    await this.#started;
    switch (request.op) {
      case 'status':
        return { lab: this.#lab, pid: process.pid, services: Object.fromEntries(this.#services.map((s) => [s.name, s.status()])) };
      case 'reload': {
        const lab = this.#readLab();
        const changes: ServiceChange[] = [];
        for (const s of this.#services) changes.push(...await s.reload(lab));
        for (const c of changes) logLine(`${c.action} ${c.key}: ${c.detail}`);
        return changes;
      }
      default:
        for (const s of this.#services) {
          const answer = s.handle(request);
          if (answer !== undefined) return await answer;
        }
        throw new NsboxError(`the supervisor has no op ${JSON.stringify(request.op)}`, 'NSBOX_ERR_USAGE');
    }
  }
}

/** Run the supervisor of `lab` until it is stopped; NSBOX_ERR_IN_USE when another one runs. */
export async function supervise(manager: Manager, lab: string): Promise<void> {
  const paths = supervisorPaths(manager, lab);
  checkSocketPath(paths);
  makeLabDir(paths.dir);
  const held = await withFileLock(paths.lock, () => new Supervisor(manager, lab).run(), { wait: false });
  if (!held.locked) throw new NsboxError(`another supervisor runs lab ${lab} (it holds ${paths.lock})`, 'NSBOX_ERR_IN_USE');
}
