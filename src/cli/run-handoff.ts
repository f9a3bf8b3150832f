/**
 * Layer: cli (process edge), its own small bundle (dist/cli-run.cjs).
 *
 * `nsbox run -- CMD` (and `nsbox exec NAME -- CMD`) handed to a running `nsbox agent`
 * (agent/run-service.ts), for the CLI started as `node bin/nsbox.js`; bin/nsbox, the package's
 * launcher, hands them off without Node (native/handoff-client.c, the same conversation). The agent, with
 * Node, the library and the store already up, makes the sandbox and removes it; this process
 * only starts the command (through `nsbox-exec --netns FILE`, as a child of its own: stdio,
 * signals and exit status as without the agent) and says how it ended. So a `run` costs Node's
 * start and this file, not the CLI bundle, SQLite and the kernel work (docs/benchmarks.md,
 * "Cold start").
 *
 * bin/nsbox.cjs asks `handOff(argv)` first; it answers undefined, and the CLI runs the command
 * itself, unless every condition holds: the arguments are `[--root DIR] run [--name N]
 * [--network NET]… [--ip IP] [--dns IP]… -- CMD…` (anything else: -p, --keep, --json, help…
 * is the CLI's), no NSBOX_HOST, NSBOX_AGENT is not 0, the helper is built, the agent's socket
 * (NSBOX_AGENT_SOCKET, else ROOT/agent.sock) is there and answers, and the agent does not
 * decline (another root, a network not made yet, anything wrong with the request: the CLI
 * then says what, as without an agent). Nothing but an lstat is paid when there is no agent.
 *
 * `exec NAME -- CMD` (nothing else of exec's arguments) asks the agent for what exec does before
 * it starts the command (the record, the names files brought up to date): one request, one
 * reply; then the command is started here as for run.
 *
 * The agent gone mid-call: before it said the sandbox was ready, this process reaps what it
 * may have left (`reap`: the sandbox of this call's name, only if it is a run's and no run
 * holds it, as gc does) and runs the command itself; after, the command runs on, and then the
 * sandbox is reaped the same way. Either way nothing is left.
 */
import type * as ChildProcessModule from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as NetModule from 'node:net';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';
import { STATUS, decodeReply, decodeTarget, encodeRequest, type AgentReply, type HandOffTarget as Target } from '../agent/protocol.js';
import { defaultSocket } from '../agent/socket-path.js';

/** node:net and node:child_process on first use: outside Node's startup snapshot, and not needed without an agent. */
const load = createRequire(import.meta.url);

/** managed/root.ts DEFAULT_ROOT (a unit test keeps them equal; importing it would load the library). */
export const DEFAULT_ROOT_DIR = '/var/lib/nsbox';

/** What handOff needs from the CLI bundle when the agent went away: reap the call's sandbox. */
export type Reap = (root: string | undefined, name: string) => Promise<void>;

export interface HandOffRequest {
  /** --root, when given. */
  root: string | undefined;
  argv: string[];
  name: string | undefined;
  networks: string[];
  ip: string | undefined;
  dns: string[];
}

const VALUED = new Set(['--name', '--network', '--ip', '--dns']);

/** `[--root DIR] run [options] -- CMD…` with only the options the agent takes, else undefined. */
export function parseRunArgv(argv: readonly string[]): HandOffRequest | undefined {
  let i = 0;
  let root: string | undefined;
  if (argv[i] === '--root' && argv.length > i + 1) {
    root = argv[i + 1];
    i += 2;
  }
  if (argv[i] !== 'run') return undefined;
  i++;
  const r: HandOffRequest = { root, argv: [], name: undefined, networks: [], ip: undefined, dns: [] };
  for (; i < argv.length; i += 2) {
    const a = argv[i]!;
    if (a === '--') {
      r.argv = argv.slice(i + 1);
      return r.argv.length === 0 || (root !== undefined && root === '') ? undefined : r;
    }
    const v = argv[i + 1];
    if (!VALUED.has(a) || v === undefined || v.startsWith('-')) return undefined;
    if (a === '--name') {
      if (r.name !== undefined) return undefined;
      r.name = v;
    } else if (a === '--network') r.networks.push(v);
    else if (a === '--ip') {
      if (r.ip !== undefined) return undefined;
      r.ip = v;
    } else r.dns.push(v);
  }
  return undefined;
}

/** `[--root DIR] exec NAME -- CMD…`, else undefined. */
export function parseExecArgv(argv: readonly string[]): { root: string | undefined; name: string; argv: string[] } | undefined {
  let i = 0;
  let root: string | undefined;
  if (argv[i] === '--root' && argv.length > i + 1) {
    root = argv[i + 1];
    i += 2;
  }
  const name = argv[i + 1];
  if (argv[i] !== 'exec' || name === undefined || name.startsWith('-') || argv[i + 2] !== '--' || argv.length < i + 4 || root === '') return undefined;
  return { root, name, argv: argv.slice(i + 3) };
}

/** A name as managed/run.ts makes one (run-<8 hex>), from /dev/urandom (node:crypto is not in Node's startup snapshot). */
function runName(): string {
  const b = Buffer.alloc(4);
  const fd = openSync('/dev/urandom', 'r');
  try {
    readSync(fd, b, 0, 4, null);
  } finally {
    closeSync(fd);
  }
  return `run-${b.toString('hex')}`;
}

function isSocket(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

/** Reads the agent's replies off one connection, in order; undefined once it closed without one. */
class Replies {
  #buf = Buffer.alloc(0);
  #ended = false;
  #waiting: (() => void) | undefined;

  constructor(conn: Socket) {
    const wake = (): void => { const w = this.#waiting; this.#waiting = undefined; w?.(); };
    conn.on('data', (chunk: Buffer) => { this.#buf = Buffer.concat([this.#buf, chunk]); wake(); });
    conn.on('end', () => { this.#ended = true; wake(); });
    conn.on('close', () => { this.#ended = true; wake(); });
    conn.on('error', () => { this.#ended = true; wake(); });
  }

  async next(): Promise<AgentReply | undefined> {
    for (;;) {
      let reply: AgentReply | undefined;
      try {
        reply = decodeReply(this.#buf);
      } catch {
        return undefined;
      }
      if (reply !== undefined) {
        // 12 bytes of header, then two length-prefixed fields
        this.#buf = this.#buf.subarray(12 + 8 + Buffer.byteLength(reply.stdout) + Buffer.byteLength(reply.stderr));
        return reply;
      }
      if (this.#ended) return undefined;
      await new Promise<void>((wake) => { this.#waiting = wake; });
    }
  }
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGTSTP'];

/** Start the command and wait for it, forwarding this process's signals (as managed/run.ts superviseChild). */
function supervise(spawn: () => ChildProcess): Promise<{ code: number; signal?: NodeJS.Signals }> {
  const handlers = new Map<NodeJS.Signals, () => void>();
  let child: ChildProcess | undefined;
  for (const sig of FORWARDED) {
    const h = (): void => { child?.kill(sig); };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  return new Promise((resolveOutcome) => {
    const done = (o: { code: number; signal?: NodeJS.Signals }): void => {
      for (const [sig, h] of handlers) process.off(sig, h);
      resolveOutcome(o);
    };
    child = spawn();
    child.once('error', (err: NodeJS.ErrnoException) => {
      process.stderr.write(`nsbox: cannot start the helper: ${err.message}\n`);
      done({ code: 125 });
    });
    child.once('exit', (code, signal) => {
      if (signal) done({ code: 128 + constants.signals[signal], signal });
      else done({ code: code ?? 1 });
    });
  });
}

/** Connected to the agent of `root` (or NSBOX_AGENT_SOCKET), or undefined when none answers there. */
async function connectAgent(root: string): Promise<{ conn: Socket; replies: Replies } | undefined> {
  const socket = process.env.NSBOX_AGENT_SOCKET || defaultSocket(root);
  if (!isSocket(socket)) return undefined;
  const net = load('node:net') as typeof NetModule;
  const conn = net.createConnection(socket);
  const replies = new Replies(conn);
  const connected = await new Promise<boolean>((ok) => {
    conn.once('connect', () => ok(true));
    conn.once('error', () => ok(false));
  });
  // not connected: no agent there (a dead one's socket), or not ours to use (EACCES)
  return connected ? { conn, replies } : undefined;
}

function startIn(helper: string, target: Target, argv: readonly string[]): Promise<{ code: number; signal?: NodeJS.Signals }> {
  const cp = load('node:child_process') as typeof ChildProcessModule;
  return supervise(() => cp.spawn(helper, ['--netns', target.netns, target.name, target.etcDir, '--', ...argv], { stdio: 'inherit', env: process.env }));
}

/** The command's outcome as this process's: its exit code, or the same signal (as cli/commands/exec.ts exitLikeChild). */
function exitLike(outcome: { code: number; signal?: NodeJS.Signals }): number {
  if (outcome.signal !== undefined) {
    process.removeAllListeners(outcome.signal);
    process.kill(process.pid, outcome.signal);
  }
  return outcome.code;
}

/**
 * Run `argv` (`nsbox run …` or `nsbox exec NAME -- …`) through the agent: its exit code (the
 * command's), or undefined when the CLI must run the command itself (see the header).
 * `helper` is build/Release/nsbox-exec.
 */
export async function handOff(argv: readonly string[], helper: string, reap: Reap): Promise<number | undefined> {
  if (process.env.NSBOX_AGENT === '0' || (process.env.NSBOX_HOST ?? '') !== '') return undefined;
  const run = parseRunArgv(argv);
  const exec = run === undefined ? parseExecArgv(argv) : undefined;
  if (run === undefined && exec === undefined) return undefined;
  try {
    lstatSync(helper);
  } catch {
    return undefined;
  }
  const given = (run ?? exec)!.root;
  const root = resolve(given ?? (process.env.NSBOX_ROOT || DEFAULT_ROOT_DIR));
  const agent = await connectAgent(root);
  if (agent === undefined) return undefined;
  return run === undefined ? execVia(agent, root, exec!, helper) : runVia(agent, root, run, helper, reap);
}

async function execVia(agent: { conn: Socket; replies: Replies }, root: string, req: NonNullable<ReturnType<typeof parseExecArgv>>, helper: string): Promise<number | undefined> {
  agent.conn.end(encodeRequest({ kind: 'exec', stdin: JSON.stringify({ name: req.name }), env: { NSBOX_ROOT: root } }));
  const reply = await agent.replies.next();
  agent.conn.destroy();
  const target = reply?.status === STATUS.served ? decodeTarget(reply.stdout) : undefined;
  if (reply === undefined || target === undefined) return undefined; // declined, or gone: exec changes nothing, the CLI runs it
  const outcome = await startIn(helper, target, req.argv);
  if (reply.stderr !== '') process.stderr.write(reply.stderr); // where the CLI says its warnings: after the command
  return exitLike(outcome);
}

async function runVia(agent: { conn: Socket; replies: Replies }, root: string, req: HandOffRequest, helper: string, reap: Reap): Promise<number | undefined> {
  const { conn, replies } = agent;
  const name = req.name ?? runName();
  const spec = { argv: req.argv, name, ...(req.networks.length > 0 ? { networks: req.networks } : {}), ...(req.ip === undefined ? {} : { ip: req.ip }), ...(req.dns.length > 0 ? { dns: req.dns } : {}) };
  conn.write(encodeRequest({ kind: 'run', stdin: JSON.stringify(spec), env: { NSBOX_ROOT: root } }));
  const ready = await replies.next();
  const target = ready?.status === STATUS.served ? decodeTarget(ready.stdout) : undefined;
  if (ready === undefined || target === undefined) {
    conn.destroy();
    // Gone before the sandbox was ready: whatever it made of this call is reaped first.
    if (ready === undefined || ready.status === STATUS.served) await reap(req.root, name);
    return undefined;
  }
  if (ready.stderr !== '') process.stderr.write(ready.stderr);
  const outcome = await startIn(helper, target, req.argv);
  if (!conn.destroyed) conn.write(`${JSON.stringify(outcome)}\n`);
  const removed = await replies.next();
  conn.destroy();
  if (removed === undefined) {
    process.stderr.write(`nsbox: the agent went away during the run; removing ${target.name} here\n`);
    await reap(req.root, target.name);
  } else if (removed.stderr !== '') {
    process.stderr.write(removed.stderr);
  }
  if (removed !== undefined && removed.exitCode !== 0 && outcome.code === 0) return removed.exitCode;
  return exitLike(outcome);
}

/** The helper's path from the bundle's directory (dist/). */
export function helperPath(distDir: string): string {
  return join(distDir, '..', 'build', 'Release', 'nsbox-exec');
}
