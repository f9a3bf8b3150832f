/**
 * Layer: agent (process edge).
 *
 * The nsbox host agent: a long-running process that answers requests on a unix socket, one
 * per connection (protocol.ts), each by the service of its kind (service.ts; "cni" is the
 * first). It exists so that a CNI call costs a small native shim's exec and a socket round
 * trip instead of Node's start (docs/cni.md, "The agent").
 *
 * - The socket is root's alone: made with umask 0177 (so it is born 0600, never briefly
 *   wider), chmod'ed 0600 again, in a directory owned by this user that no one else may write
 *   to (made 0700 when missing; refused otherwise), so nobody else can connect or replace it.
 * - One agent per socket: it holds `SOCKET.lock` (flock, dropped by the kernel however the
 *   agent dies) for its whole life; a second agent finds it held and is refused. Holding the
 *   lock proves any socket file already there is a dead agent's, so it is replaced.
 * - Calls run concurrently; the managed layer's locks serialise what must be (in-process
 *   queues in front of its flocks, sandbox/file-lock.ts).
 * - stop() (SIGTERM, SIGINT): no new connection is accepted, the calls in flight finish and
 *   are answered, the socket file is removed, the services closed, the lock released.
 * - One log line per call: kind, what the service says the call is, milliseconds, exit code.
 * - The agent the CLI starts on demand (docs/cli.md, "agent") stops by itself: after
 *   `idleExitMs` without a call served, when its socket file is removed or replaced (nobody
 *   can reach it any more), and when `outdated` says nsbox was rebuilt or upgraded under it
 *   (that call is declined, so its client runs the new code; the next call starts a new one).
 */
import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { NsboxError } from '../errors.js';
import { withFileLock } from '../sandbox/index.js';
import { STATUS, decodeRequest, encodeReply, type AgentReply, type AgentRequest } from './protocol.js';
import { declined, type AgentService } from './service.js';
import { MAX_SOCKET_PATH, socketLock } from './socket-path.js';

export interface AgentOptions {
  socket: string;
  services: ReadonlyMap<string, AgentService>;
  /** Where log lines go (default: stderr, prefixed "nsbox agent: "). */
  log?: (line: string) => void;
  /** Where the one line per call goes (default: log). */
  logCall?: (line: string) => void;
  /** Stop after this long without a call served, and when the socket file is no longer this agent's (default: never). */
  idleExitMs?: number;
  /** How often an agent with idleExitMs checks that its socket file is still its own (default 10 s). */
  socketCheckMs?: number;
  /** Why this agent must not serve any more (its code was replaced), or undefined: checked at each call. */
  outdated?: () => string | undefined;
}

const SOCKET_CHECK_MS = 10_000;

const stderrLog = (line: string): void => { process.stderr.write(`nsbox agent: ${line}\n`); };

/** The socket's directory: this user's, and nobody else may create or replace files in it. */
function checkDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  const uid = process.getuid?.() ?? 0;
  if (st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new NsboxError(`the agent's socket directory ${dir} must belong to uid ${uid} and be writable by it alone (it is uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}): choose another --socket`, 'NSBOX_ERR_USAGE');
  }
}

/** Remove a dead agent's socket file; refuse to remove anything that is not a socket. */
function removeStale(socket: string): void {
  let st;
  try {
    st = lstatSync(socket);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isSocket()) throw new NsboxError(`${socket} exists and is not a socket: not replacing it`, 'NSBOX_ERR_CONFLICT');
  unlinkSync(socket);
}

export class Agent {
  readonly socket: string;
  readonly #services: ReadonlyMap<string, AgentService>;
  readonly #log: (line: string) => void;
  readonly #logCall: (line: string) => void;
  readonly #idleExitMs: number | undefined;
  readonly #socketCheckMs: number;
  readonly #outdated: (() => string | undefined) | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  /** The idle countdown ended while calls were in flight. */
  #idleDue = false;
  #socketCheck: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  /** Connections that have not sent a whole request yet. */
  readonly #idle = new Set<Socket>();
  #server: Server | undefined;
  #stopped: (() => void) | undefined;
  #stopping = false;

  constructor(options: AgentOptions) {
    this.socket = options.socket;
    this.#services = options.services;
    this.#log = options.log ?? stderrLog;
    this.#logCall = options.logCall ?? this.#log;
    this.#idleExitMs = options.idleExitMs;
    this.#socketCheckMs = options.socketCheckMs ?? SOCKET_CHECK_MS;
    this.#outdated = options.outdated;
  }

  /**
   * Serve until stop(): resolves once stopped and cleaned up. Rejects at once when another
   * agent holds the socket, or the socket's place is not safe.
   */
  async serve(onListening?: () => void): Promise<void> {
    if (Buffer.byteLength(this.socket) > MAX_SOCKET_PATH) throw new NsboxError(`socket path ${this.socket} is longer than ${MAX_SOCKET_PATH} bytes`, 'NSBOX_ERR_USAGE');
    checkDirectory(dirname(this.socket));
    const held = await withFileLock(socketLock(this.socket), async () => {
      removeStale(this.socket);
      await this.#listen();
      onListening?.();
      this.#log(`listening on ${this.socket} (pid ${process.pid})${this.#idleExitMs === undefined ? '' : `, stopping after ${this.#idleExitMs / 1000} s without a call served`}`);
      await new Promise<void>((resolve) => { this.#stopped = resolve; if (this.#stopping) resolve(); });
      await this.#drain();
    }, { wait: false });
    if (!held.locked) throw new NsboxError(`another nsbox agent serves ${this.socket} (it holds ${socketLock(this.socket)})`, 'NSBOX_ERR_IN_USE');
  }

  /** Stop accepting, finish the calls in flight, remove the socket; serve() then resolves. */
  stop(): void {
    this.#stopping = true;
    this.#stopped?.();
  }

  async #listen(): Promise<void> {
    const server = createServer({ allowHalfOpen: true }, (conn) => this.#accept(conn));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const previous = process.umask(0o177); // bind() makes the file 0600 from the start
      try {
        server.listen(this.socket, () => { server.off('error', reject); resolve(); });
      } finally {
        process.umask(previous);
      }
    });
    chmodSync(this.socket, 0o600);
    server.on('error', (err) => this.#log(`socket error: ${err.message}`));
    if (this.#idleExitMs !== undefined) {
      const mine = lstatSync(this.socket);
      this.#socketCheck = setInterval(() => this.#checkSocket(mine), this.#socketCheckMs);
      this.#armIdle();
    }
  }

  /**
   * (Re)start the idle countdown: at the start, and after each call served. A declined call is
   * not activity (an agent only clients of another namespace reach, whom it declines, still
   * goes); one in flight when the countdown ends delays the stop until no call is in flight.
   */
  #armIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleDue = false;
    if (this.#idleExitMs === undefined || this.#stopping) return;
    const ms = this.#idleExitMs;
    this.#idleTimer = setTimeout(() => {
      this.#idleDue = true;
      this.#stopIfIdle();
    }, ms);
  }

  #stopIfIdle(): void {
    if (!this.#idleDue || this.#inFlight.size > 0 || this.#stopping) return;
    this.#log(`no call served for ${this.#idleExitMs! / 1000} s: stopping`);
    this.stop();
  }

  #checkSocket(mine: Stats): void {
    let now: Stats | undefined;
    try {
      now = lstatSync(this.socket);
    } catch {
      // removed
    }
    if (now?.ino === mine.ino && now.dev === mine.dev) return;
    this.#log(`${this.socket} was ${now === undefined ? 'removed' : 'replaced'}: nobody can reach this agent, stopping`);
    this.stop();
  }

  async #drain(): Promise<void> {
    const server = this.#server!;
    clearTimeout(this.#idleTimer);
    clearInterval(this.#socketCheck);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Connections that have not sent a whole request yet are idle: end them.
    for (const conn of this.#idle) conn.destroy();
    await Promise.all([...this.#inFlight]);
    await closed;
    try {
      removeStale(this.socket); // libuv unlinks it on close; this makes sure
    } catch (err) {
      this.#log(`removing ${this.socket}: ${(err as Error).message}`);
    }
    for (const service of this.#services.values()) service.close();
    this.#log('stopped');
  }

  #accept(conn: Socket): void {
    if (this.#stopping) {
      conn.destroy();
      return;
    }
    this.#idle.add(conn);
    conn.on('close', () => this.#idle.delete(conn));
    conn.on('error', () => undefined); // a client gone away: its call still finishes, the answer is dropped
    let buf: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      let request: AgentRequest | undefined;
      try {
        request = decodeRequest(buf);
      } catch (err) {
        this.#log(`bad request: ${(err as Error).message}`);
        conn.destroy();
        return;
      }
      if (request === undefined) return;
      conn.off('data', onData);
      this.#idle.delete(conn);
      const call = this.#call(conn, request).catch((err: unknown) => {
        this.#log(`${request.kind}: ${(err as Error).message}`);
        return false;
      }).then((served) => {
        this.#inFlight.delete(call);
        if (served) this.#armIdle();
        else this.#stopIfIdle();
      });
      this.#inFlight.add(call);
    };
    conn.on('data', onData);
  }

  /** Answer one request; whether it was served (not declined). A rejection is a bug: the caller logs it. */
  async #call(conn: Socket, request: AgentRequest): Promise<boolean> {
    const t0 = process.hrtime.bigint();
    const outdated = this.#outdated?.();
    const service = outdated === undefined ? this.#services.get(request.kind) : undefined;
    let reply: AgentReply;
    let what = '';
    if (outdated !== undefined) {
      this.#log(`${outdated}: declining calls, stopping`);
      this.stop();
    }
    if (service?.converse !== undefined) {
      const what = service.describe(request);
      const { exitCode, note } = await service.converse(request, conn);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      this.#logCall(`${request.kind} ${what} ${ms.toFixed(1)} ms exit ${exitCode}${note === '' ? '' : `: ${note}`}`.replace(/ {2,}/g, ' '));
      return true;
    }
    if (outdated !== undefined) {
      reply = declined(outdated);
    } else if (service === undefined) {
      reply = declined(`this agent serves no kind ${JSON.stringify(request.kind)}`);
    } else {
      what = service.describe(request);
      try {
        reply = await service.handle(request);
      } catch (err) {
        reply = { status: STATUS.served, exitCode: 1, stdout: '', stderr: `nsbox agent: ${(err as Error).message}\n` };
      }
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const outcome = reply.status === STATUS.declined ? `declined: ${reply.stderr}` : `exit ${reply.exitCode}`;
    this.#logCall(`${request.kind} ${what} ${ms.toFixed(1)} ms ${outcome}`.replace(/ {2,}/g, ' '));
    await new Promise<void>((resolve) => {
      if (conn.destroyed) { resolve(); return; }
      conn.end(encodeReply(reply), () => resolve());
      conn.once('close', () => resolve());
    });
    return reply.status !== STATUS.declined;
  }
}
