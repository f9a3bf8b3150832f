/**
 * Layer: cni-conformance (process edge).
 *
 * The exec layer, a mini-libcni: the plugin is run exactly as a runtime runs it (SPEC §2):
 * exec'd with the CNI_* variables and a scrubbed environment (PATH and the `--env` pairs
 * only, as podman's cleanup process does), the config on stdin, stdout and the exit status
 * read back. Optionally under `strace -f` with a SIGKILL injected at the Nth state-changing
 * syscall (the kill matrix).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

export type Command = 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS' | 'VERSION';

export interface Call {
  /** CNI_COMMAND; undefined leaves it unset. */
  command: Command | string | undefined;
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
  /** The stdin text (a config object already derived for the call, or garbage). */
  stdin: string;
  /** CNI_* variables to leave out (missing-variable cases). */
  omit?: string[];
}

export interface Outcome {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is exactly one JSON document. */
  json: Record<string, unknown> | undefined;
  /** Why stdout is not one JSON document (when it is not empty). */
  parseError?: string;
}

export interface ExecOptions {
  plugin: string;
  cniPath: string;
  /** Extra environment pairs for the plugin (the scrubbed environment's only additions). */
  env: Record<string, string>;
  timeoutMs: number;
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function environmentOf(opts: ExecOptions, call: Call): Record<string, string> {
  const env: Record<string, string> = { PATH, ...opts.env };
  const cni: Record<string, string | undefined> = {
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId ?? '',
    CNI_NETNS: call.netns ?? '',
    CNI_IFNAME: call.ifname ?? '',
    CNI_ARGS: call.args ?? '',
    CNI_PATH: opts.cniPath,
  };
  for (const [k, v] of Object.entries(cni)) if (v !== undefined && !(call.omit ?? []).includes(k)) env[k] = v;
  return env;
}

function parse(stdout: string): { json: Record<string, unknown> | undefined; parseError?: string } {
  if (stdout.trim() === '') return { json: undefined };
  try {
    const v = JSON.parse(stdout) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { json: undefined, parseError: 'stdout is JSON but not an object' };
    return { json: v as Record<string, unknown> };
  } catch (err) {
    return { json: undefined, parseError: `stdout is not one JSON document: ${(err as Error).message}` };
  }
}

function outcomeOf(res: ReturnType<typeof spawnSync>): Outcome {
  const stdout = String(res.stdout ?? '');
  return { status: res.status, signal: res.signal, stdout, stderr: String(res.stderr ?? '') + (res.error === undefined ? '' : `\n[exec] ${res.error.message}`), ...parse(stdout) };
}

/** Run one call and wait for it (a timeout ends it with SIGKILL). */
export function runPlugin(opts: ExecOptions, call: Call): Outcome {
  const res = spawnSync(opts.plugin, [], { input: call.stdin, env: environmentOf(opts, call), encoding: 'utf8', timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 });
  return outcomeOf(res);
}

export interface TracedOutcome extends Outcome {
  /** Whether strace injected the SIGKILL (a "killed by SIGKILL" line in its log). */
  killed: boolean;
  /** The syscall the injection hit, from the log. */
  syscall: string;
  /** For each traced syscall, the most invocations one thread made (strace's `when` counts per thread). */
  counts: Map<string, number>;
}

/**
 * Run one call under `strace -f`, tracing `syscalls`; with `when` set, SIGKILL is injected at
 * the `when`th invocation of any of them (strace counts per thread and per syscall).
 */
export function runTraced(opts: ExecOptions, call: Call, syscalls: string[], when: number | undefined, logFile: string): TracedOutcome {
  const set = syscalls.join(',');
  const args = ['-f', '-qq', '-o', logFile, '-e', `trace=${set}`];
  if (when !== undefined) args.push('-e', `inject=${set}:signal=SIGKILL:when=${when}`);
  args.push('--', opts.plugin);
  rmSync(logFile, { force: true });
  const res = spawnSync('strace', args, { input: call.stdin, env: environmentOf(opts, call), encoding: 'utf8', timeout: opts.timeoutMs * 4, killSignal: 'SIGKILL', maxBuffer: 16 << 20 });
  const out = outcomeOf(res);
  let log: string;
  try {
    log = readFileSync(logFile, 'utf8');
  } catch {
    log = '';
  }
  const lines = log.split('\n');
  const killedLine = lines.findIndex((l) => /\+\+\+ killed by SIGKILL/.test(l));
  // The injected call is the one that never returned: its line ends "= ?".
  let syscall = 'none';
  if (killedLine >= 0) {
    for (let i = lines.length - 1; i >= 0; i -= 1) {
      const m = /^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)(.*)= \?$/.exec(lines[i]!);
      if (m !== null) {
        syscall = lines[i]!.includes(' resumed>') ? `${m[1]!}(…)` : `${m[1]!}${m[2]!.trim().slice(0, 70)}`;
        break;
      }
    }
  }
  const perThread = new Map<string, number>();
  for (const l of lines) {
    const m = /^(\d+)\s+([a-z0-9_]+)\(/.exec(l);
    if (m !== null) perThread.set(`${m[1]}:${m[2]}`, (perThread.get(`${m[1]}:${m[2]}`) ?? 0) + 1);
  }
  const counts = new Map<string, number>();
  for (const [key, n] of perThread) {
    const name = key.split(':')[1]!;
    counts.set(name, Math.max(n, counts.get(name) ?? 0));
  }
  // strace re-raises the tracee's fatal signal on itself: its status says the plugin was killed.
  return { ...out, killed: killedLine >= 0, syscall, counts };
}
