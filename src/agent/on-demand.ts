/**
 * Layer: agent (process edge).
 *
 * The agent started on demand. A call of `run`, `exec`, `ls`, `inspect`, `create` or `rm` that
 * found no agent (the launcher, bin/nsbox, saw no socket; or native/handoff-client.c could not
 * connect) runs in-process as always, and then, as it exits, starts `nsbox agent --on-demand`
 * for its state root, detached, so that the calls after it are served by the agent (a socket
 * round trip instead of Node's start: docs/benchmarks.md, "Cold start"). That agent stops by
 * itself after ON_DEMAND_IDLE_S without a call served, when its socket is removed, and when nsbox is
 * rebuilt or upgraded under it (agent/server.ts).
 *
 * `SOCKET.on-demand` holds the pid of the on-demand agent starting or running: made with
 * O_EXCL by the one CLI process that starts it (twenty first calls at once start one agent),
 * removed by the agent when it stops. A file whose process is gone (or empty and older than
 * STARTING_GRACE_MS: its maker died before writing) is stale and replaced. An `nsbox agent`
 * started by hand stops an on-demand agent it finds, and serves in its place.
 *
 * At most MAX_ON_DEMAND of them run on a machine (~60–80 MB each): a test suite that gives each
 * test a root of its own must not leave a daemon per root. Each is listed in REGISTRY (a file
 * named by its pid, holding its root), counted before another is started; past the cap the
 * calls run in-process, as without an agent. (Several first calls on new roots at once may pass
 * the count together: the cap is approximate by one or two.)
 *
 * NSBOX_AGENT=0 turns hand-offs off altogether; NSBOX_AGENT=running hands calls to an agent
 * already running but never starts one (the test runner sets it); any other value, or none,
 * starts one on demand. Never with NSBOX_AGENT_SOCKET (an agent placed by hand) or --host.
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { defaultSocket } from './socket-path.js';

/** How long an on-demand agent waits for a call before it stops. */
export const ON_DEMAND_IDLE_S = 600;

/** How many on-demand agents may run on the machine at once. */
export const MAX_ON_DEMAND = 4;

/** Where the machine's on-demand agents are listed (root's alone: 0700). */
export const REGISTRY = '/run/nsbox/on-demand';

/** An empty pid file younger than this is an agent being started, not a stale file. */
const STARTING_GRACE_MS = 10_000;

/** The file naming the on-demand agent of `socket`. */
export function onDemandFile(socket: string): string {
  return `${socket}.on-demand`;
}

/** Whether `pid` is a live `nsbox agent` (its command line has the word "agent"): a recycled pid is not. */
function isAgent(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').includes('agent');
  } catch {
    return false;
  }
}

/**
 * The pid of the on-demand agent of `socket` if one is running, 0 while one is being started
 * (its file still empty), or undefined.
 */
export function onDemandAgent(socket: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(onDemandFile(socket), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const text = readFileSync(fd, 'latin1').trim();
    if (text === '') return Date.now() - fstatSync(fd).mtimeMs < STARTING_GRACE_MS ? 0 : undefined;
    const pid = Number(text);
    return Number.isInteger(pid) && pid > 0 && isAgent(pid) ? pid : undefined;
  } catch {
    return undefined; // not a file
  } finally {
    closeSync(fd);
  }
}

/** The registry directory, made 0700 when missing; undefined when it cannot be made or is not root's alone. */
function registryDir(registry: string): string | undefined {
  try {
    mkdirSync(registry, { recursive: true, mode: 0o700 });
    const st = lstatSync(registry);
    return st.isDirectory() && st.uid === (process.getuid?.() ?? 0) && (st.mode & 0o077) === 0 ? registry : undefined;
  } catch {
    return undefined;
  }
}

/** The on-demand agents listed in `registry` that still run; the entries of those gone are removed. */
export function liveOnDemandAgents(registry: string): number[] {
  let names: string[];
  try {
    names = readdirSync(registry);
  } catch {
    return [];
  }
  const live: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0 && isAgent(pid)) {
      live.push(pid);
      continue;
    }
    try {
      unlinkSync(`${registry}/${name}`);
    } catch {
      // removed by another
    }
  }
  return live;
}

/** Write `text` to `file` (0600, never through a symlink). */
function writePrivate(file: string, text: string): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** List `pid` (serving `root`) in the registry. */
function register(registry: string, pid: number, root: string): void {
  const dir = registryDir(registry);
  if (dir !== undefined) writePrivate(`${dir}/${pid}`, `${root}\n`);
}

/** Write this process's pid into the socket's file and the registry (the agent, once it serves). */
export function claimOnDemand(socket: string, root: string, registry = REGISTRY): void {
  writePrivate(onDemandFile(socket), `${process.pid}\n`);
  register(registry, process.pid, root);
}

/** Remove the socket's file if it names this process, and this process's registry entry (the agent, as it stops). */
export function releaseOnDemand(socket: string, registry = REGISTRY): void {
  const file = onDemandFile(socket);
  try {
    if (readFileSync(file, 'latin1').trim() === String(process.pid)) unlinkSync(file);
  } catch {
    // not there
  }
  try {
    unlinkSync(`${registry}/${process.pid}`);
  } catch {
    // not there
  }
}

/** The environment for the agent: the CLI's, without what only the call that starts it needs. */
function agentEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('NSBOX_HANDOFF_') || k.startsWith('NSBOX_SAVED_') || k === 'NSBOX_TRACE_STARTUP') delete env[k];
  }
  // As bin/nsbox does for nsbox's own Node (the agent runs no command of the user's).
  delete env.NODE_OPTIONS;
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** Whether a call that found no agent should start one: not turned off, not a socket placed by hand, not a remote host. */
export function mayStartOnDemand(argv: readonly string[]): boolean {
  const { NSBOX_AGENT: mode, NSBOX_AGENT_SOCKET: socket, NSBOX_HOST: host } = process.env;
  return mode !== '0' && mode !== 'running' && (socket ?? '') === '' && (host ?? '') === '' && !argv.includes('--host');
}

/**
 * Start `nsbox agent --on-demand` for the state root `root` (`entry` is bin/nsbox.cjs), unless
 * one is starting or running, or MAX_ON_DEMAND run on the machine (listed in `registry`). Its
 * stdout and stderr go to ROOT/agent.log (made anew). Best effort, never throws: without it
 * only speed is lost. Returns the new agent's pid.
 */
export function startAgentOnDemand(root: string, entry: string, registry = REGISTRY): number | undefined {
  const socket = defaultSocket(root);
  const file = onDemandFile(socket);
  const { O_WRONLY, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW } = constants;
  let fd: number | undefined;
  let log: number | undefined;
  let started: number | undefined;
  try {
    for (let attempt = 0; fd === undefined && attempt < 2; attempt++) {
      try {
        fd = openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || onDemandAgent(socket) !== undefined) return undefined;
        try {
          unlinkSync(file); // stale
        } catch {
          // another caller removed it first
        }
      }
    }
    if (fd === undefined || registryDir(registry) === undefined || liveOnDemandAgents(registry).length >= MAX_ON_DEMAND) return undefined;
    log = openSync(join(root, 'agent.log'), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600);
    const child = spawn(process.execPath, [entry, '--root', root, 'agent', '--on-demand'], {
      detached: true, stdio: ['ignore', log, log], cwd: '/', env: agentEnv(),
    });
    child.on('error', () => undefined); // reported by the pid's absence below
    child.unref();
    if (child.pid === undefined) return undefined;
    writeSync(fd, `${child.pid}\n`);
    started = child.pid;
    register(registry, started, root);
    return started;
  } catch {
    return started;
  } finally {
    if (log !== undefined) closeSync(log);
    if (fd !== undefined) {
      closeSync(fd);
      // made here, but no agent started: an empty file would hold off the next start for STARTING_GRACE_MS
      if (started === undefined) {
        try {
          unlinkSync(file);
        } catch {
          // removed already
        }
      }
    }
  }
}

/**
 * A check of whether nsbox was rebuilt or upgraded since this process started (`file`, by
 * default dist/cli.hash.json, the bundles' digests, changed): its reason, or undefined. An
 * agent's code is what it loaded when it started.
 */
export function buildChangedCheck(file = join(packageRoot(), 'dist', 'cli.hash.json')): () => string | undefined {
  const read = (): string | undefined => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  };
  const loaded = read();
  return () => (read() === loaded ? undefined : `nsbox was rebuilt or upgraded since this agent started (${file} changed)`);
}
