/**
 * Layer: agent (process edge).
 *
 * The agent started on demand. A call of `run`, `exec`, `ls`, `inspect`, `create` or `rm` that
 * found no agent (the launcher, bin/nsbox, saw no socket; or native/handoff-client.c could not
 * connect) runs in-process as always, and then, as it exits, starts `nsbox agent --on-demand`
 * for its state root, detached, so that the calls after it are served by the agent (a socket
 * round trip instead of Node's start: docs/benchmarks.md, "Cold start"). That agent stops by
 * itself after ON_DEMAND_IDLE_S without a call, when its socket is removed, and when nsbox is
 * rebuilt or upgraded under it (agent/server.ts).
 *
 * `SOCKET.on-demand` holds the pid of the on-demand agent starting or running: made with
 * O_EXCL by the one CLI process that starts it (twenty first calls at once start one agent),
 * removed by the agent when it stops. A file whose process is gone (or empty and older than
 * STARTING_GRACE_MS: its maker died before writing) is stale and replaced. An `nsbox agent`
 * started by hand stops an on-demand agent it finds, and serves in its place.
 *
 * NSBOX_AGENT=0 turns hand-offs off altogether; NSBOX_AGENT=running hands calls to an agent
 * already running but never starts one (the test runner sets it); any other value, or none,
 * starts one on demand. Never with NSBOX_AGENT_SOCKET (an agent placed by hand) or --host.
 */
import { spawn } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { defaultSocket } from './socket-path.js';

/** How long an on-demand agent waits for a call before it stops. */
export const ON_DEMAND_IDLE_S = 600;

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

/** Write this process's pid into the file (the agent, once it serves). */
export function claimOnDemand(socket: string): void {
  const fd = openSync(onDemandFile(socket), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
}

/** Remove the file if it names this process (the agent, as it stops). */
export function releaseOnDemand(socket: string): void {
  try {
    if (readFileSync(onDemandFile(socket), 'latin1').trim() === String(process.pid)) unlinkSync(onDemandFile(socket));
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
 * one is starting or running. Its stdout and stderr go to ROOT/agent.log (made anew). Best
 * effort, never throws: without it only speed is lost. Returns the new agent's pid.
 */
export function startAgentOnDemand(root: string, entry: string): number | undefined {
  const socket = defaultSocket(root);
  const file = onDemandFile(socket);
  const { O_WRONLY, O_CREAT, O_EXCL, O_TRUNC, O_NOFOLLOW } = constants;
  let fd: number | undefined;
  let log: number | undefined;
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
    if (fd === undefined) return undefined;
    log = openSync(join(root, 'agent.log'), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600);
    const child = spawn(process.execPath, [entry, '--root', root, 'agent', '--on-demand'], {
      detached: true, stdio: ['ignore', log, log], cwd: '/', env: agentEnv(),
    });
    child.on('error', () => undefined); // reported by the pid's absence below
    child.unref();
    if (child.pid === undefined) {
      unlinkSync(file);
      return undefined;
    }
    writeSync(fd, `${child.pid}\n`);
    return child.pid;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (log !== undefined) closeSync(log);
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
