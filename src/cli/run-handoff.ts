/**
 * Layer: cli (process edge), its own small bundle (dist/cli-run.cjs).
 *
 * `nsbox run -- CMD` handed to a running `nsbox agent` (agent/run-service.ts): the agent, with
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
import { STATUS, decodeReply, encodeRequest, type AgentReply } from '../agent/protocol.js';
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

/**
 * Run `argv` through the agent: its exit code (the command's), or undefined when the CLI must
 * run the command itself (see the header). `helper` is build/Release/nsbox-exec.
 */
export async function handOff(argv: readonly string[], helper: string, reap: Reap): Promise<number | undefined> {
  if (process.env.NSBOX_AGENT === '0' || (process.env.NSBOX_HOST ?? '') !== '') return undefined;
  const req = parseRunArgv(argv);
  if (req === undefined) return undefined;
  const root = resolve(req.root ?? (process.env.NSBOX_ROOT || DEFAULT_ROOT_DIR));
  const socket = process.env.NSBOX_AGENT_SOCKET || defaultSocket(root);
  if (!isSocket(socket)) return undefined;
  try {
    lstatSync(helper);
  } catch {
    return undefined;
  }
  const name = req.name ?? runName();
  const net = load('node:net') as typeof NetModule;
  const conn = net.createConnection(socket);
  const replies = new Replies(conn);
  const connected = await new Promise<boolean>((ok) => {
    conn.once('connect', () => ok(true));
    conn.once('error', () => ok(false));
  });
  if (!connected) return undefined; // no agent there (a dead one's socket), or not ours to use (EACCES)
  const spec = { argv: req.argv, name, ...(req.networks.length > 0 ? { networks: req.networks } : {}), ...(req.ip === undefined ? {} : { ip: req.ip }), ...(req.dns.length > 0 ? { dns: req.dns } : {}) };
  conn.write(encodeRequest({ kind: 'run', stdin: JSON.stringify(spec), env: { NSBOX_ROOT: root } }));
  const ready = await replies.next();
  if (ready === undefined || ready.status !== STATUS.served) {
    conn.destroy();
    // Gone before the sandbox was ready: whatever it made of this call is reaped first.
    if (ready === undefined) await reap(req.root, name);
    return undefined;
  }
  let sandbox: { name: string; netns: string; etcDir: string };
  try {
    sandbox = JSON.parse(ready.stdout) as typeof sandbox;
  } catch {
    conn.destroy();
    await reap(req.root, name);
    return undefined;
  }
  if (ready.stderr !== '') process.stderr.write(ready.stderr);
  const cp = load('node:child_process') as typeof ChildProcessModule;
  const outcome = await supervise(() => cp.spawn(helper, ['--netns', sandbox.netns, sandbox.name, sandbox.etcDir, '--', ...req.argv], { stdio: 'inherit', env: process.env }));
  if (!conn.destroyed) conn.write(`${JSON.stringify(outcome)}\n`);
  const removed = await replies.next();
  conn.destroy();
  if (removed === undefined) {
    process.stderr.write(`nsbox: the agent went away during the run; removing ${sandbox.name} here\n`);
    await reap(req.root, sandbox.name);
  } else if (removed.stderr !== '') {
    process.stderr.write(removed.stderr);
  }
  if (removed !== undefined && removed.exitCode !== 0 && outcome.code === 0) return removed.exitCode;
  if (outcome.signal !== undefined) {
    process.removeAllListeners(outcome.signal);
    process.kill(process.pid, outcome.signal);
  }
  return outcome.code;
}

/** The helper's path from the bundle's directory (dist/). */
export function helperPath(distDir: string): string {
  return join(distDir, '..', 'build', 'Release', 'nsbox-exec');
}
