/**
 * Layer: managed.
 *
 * Starting a process inside a recorded sandbox, as `nsbox exec` does (run.ts): forked from
 * inside the sandbox's netns window as the nsbox-exec helper (exec-helper.ts), which gives it
 * `ip netns exec`'s mount namespace and then execs the command, so the pid is the command's.
 * The caller chooses stdio, cwd, env and whether it gets a process group (session) of its own.
 * And a TCP connect made from inside a sandbox (labs' readiness checks).
 */
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { Sandbox, tcpConnects } from '../sandbox/index.js';
import { goneAware } from './adopt.js';
import { execHelperArgs, execHelperPath } from './exec-helper.js';
import { etcDirOf } from './names.js';
import type { StateRoot } from './root.js';
import type { SandboxRecord } from '../store/index.js';

export interface SpawnInOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdio?: StdioOptions;
  /** A session and process group of its own (setsid), as child_process's `detached`. */
  detached?: boolean;
}

/** A sandbox by name, or its record already read (`exec` closes the store before it spawns: not opened again for it). */
type Which = string | Pick<SandboxRecord, 'name' | 'key'>;

async function withSandbox<T>(root: StateRoot, which: Which, fn: (sandbox: Sandbox) => T): Promise<Awaited<T>> {
  const rec = typeof which === 'string' ? root.record(which) : which;
  const name = rec.name;
  let sandbox: Sandbox;
  try {
    sandbox = await Sandbox.create(rec.key, { isRestore: true });
  } catch (err) {
    throw goneAware(name, err);
  }
  try {
    return await fn(sandbox);
  } finally {
    sandbox.close();
  }
}

/** Spawn `argv` inside sandbox `which` through the nsbox-exec helper. */
export function spawnIn(root: StateRoot, which: Which, argv: readonly string[], o: SpawnInOptions = {}): Promise<ChildProcess> {
  const helper = execHelperPath();
  const name = typeof which === 'string' ? which : which.name;
  return withSandbox(root, which, (sandbox) => sandbox.spawn(helper, execHelperArgs(name, etcDirOf(root, name), argv), {
    stdio: o.stdio ?? 'inherit', env: o.env ?? process.env, ...(o.cwd === undefined ? {} : { cwd: o.cwd }), detached: o.detached === true,
  }));
}

/** Whether a TCP connect to host:port (an IP address) from inside sandbox `name` succeeds within `timeoutMs`. */
export function tcpConnectsIn(root: StateRoot, name: string, host: string, port: number, timeoutMs: number): Promise<boolean> {
  return withSandbox(root, name, (sandbox) => tcpConnects(sandbox.netnsFd, host, port, timeoutMs));
}
