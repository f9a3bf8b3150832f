/**
 * The crash matrix's ways of running a command (scripts/crash-matrix.js): as the user runs it
 * (a process of bin/nsbox.js or bin/nsbox-cni.js, optionally under strace), or in this process
 * (the CLI's `main(argv)` from dist/cli.cjs, what bin/nsbox.cjs runs; the plugin's `runCni` over
 * the managed backend, what dist/cni.mjs runs) for the set-ups, re-runs and clean-ups around a
 * kill, which then cost no Node start each. The killed command is always a process.
 */
import { Buffer } from 'node:buffer';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout, clearTimeout } from 'node:timers';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const NSBOX_BIN = join(REPO, 'bin', 'nsbox.js');
const CNI_BIN = join(REPO, 'bin', 'nsbox-cni.js');
const require = createRequire(import.meta.url);

/** What changes state: the kill points are the calls of these. */
export const SYSCALLS = [
  'mount', 'umount2', 'unshare', 'setns', 'sendto', 'sendmsg', 'write', 'writev', 'pwrite64', 'fsync', 'fdatasync',
  'rename', 'renameat2', 'unlink', 'unlinkat', 'mkdir', 'mkdirat', 'symlink', 'symlinkat', 'ftruncate',
];

export function describe(step) {
  return step.cni !== undefined ? `CNI ${step.cni.command}` : `nsbox ${step.args.join(' ')}`;
}

/** Run argv to the end (optionally under a prefix such as strace); never throws. */
export function runArgv(argv, { env = {}, input, prefix = [] } = {}) {
  const [cmd, ...args] = [...prefix, ...argv];
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, input: input ?? '', encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function cniEnv(step, root) {
  const { command, containerId, netns } = step.cni;
  return { NSBOX_ROOT: root, CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };
}

/** A command under test as a process: argv, environment and stdin. */
function invocation(step, root) {
  if (step.cni !== undefined) return { argv: [process.execPath, CNI_BIN], input: JSON.stringify(step.cni.config), env: cniEnv(step, root) };
  return { argv: [process.execPath, NSBOX_BIN, ...step.args], env: { NSBOX_ROOT: root }, input: '' };
}

/** The step as a process (under `prefix`, e.g. strace); never throws. */
export function runStepProcess(step, root, prefix = []) {
  const inv = invocation(step, root);
  return runArgv(inv.argv, { env: inv.env, input: inv.input, prefix });
}

/** The step as a process SIGKILLed after `ms`. */
export function runStepKilledAfter(step, root, ms) {
  const inv = invocation(step, root);
  const child = spawn(inv.argv[0], inv.argv.slice(1), { env: { ...process.env, ...inv.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(inv.input);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  child.stdout.resume();
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) => child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout: '', stderr }); }));
}

let cliMain;
let cniLib;

/** `nsbox --root ROOT ARGS…` in this process; its exit code and what it printed. Never throws. */
async function cliInProcess(root, args) {
  if (cliMain === undefined) {
    cliMain = require(join(REPO, 'dist', 'cli.cjs')).main;
    process.stdout.setMaxListeners(0); // main adds an EPIPE listener per call
  }
  let stdout = '';
  let stderr = '';
  const sink = (which) => (chunk, ...rest) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (which === 'out') stdout += text; else stderr += text;
    rest.find((r) => typeof r === 'function')?.();
    return true;
  };
  const [out, err] = [process.stdout.write, process.stderr.write];
  process.stdout.write = sink('out');
  process.stderr.write = sink('err');
  let code;
  try {
    code = await cliMain(['--root', root, ...args]);
  } catch (e) {
    code = 70;
    stderr += `main threw: ${e?.stack ?? e}`;
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return { code, signal: null, stdout, stderr };
}

/** The CNI plugin on `step` in this process (runCni over the managed backend, as dist/cni.mjs). */
async function cniInProcess(root, step) {
  cniLib ??= {
    main: await import(join(REPO, 'dist', 'src', 'cni', 'main.js')),
    backend: await import(join(REPO, 'dist', 'src', 'cni', 'managed-backend.js')),
  };
  const manager = cniLib.backend.Manager.open({ root });
  try {
    const out = await cniLib.main.runCni(cniEnv(step, root), JSON.stringify(step.cni.config), new cniLib.backend.ManagedBackend(manager));
    return { code: out.exitCode, signal: null, stdout: out.stdout, stderr: out.exitCode === 0 ? '' : out.stdout };
  } catch (e) {
    return { code: 70, signal: null, stdout: '', stderr: `runCni threw: ${e?.stack ?? e}` };
  } finally {
    manager.close();
  }
}

/**
 * How the scenarios run their set-ups, re-runs and clean-ups: `nsbox(root, …args)` and
 * `step(step, root)`, each resolving to { code, signal, stdout, stderr }. In this process, or
 * (`processes`) as processes, as the user runs them.
 */
export function runner({ processes = false } = {}) {
  if (processes) {
    return {
      nsbox: async (root, ...args) => runStepProcess({ args }, root),
      step: async (step, root) => runStepProcess(step, root),
    };
  }
  return {
    nsbox: (root, ...args) => cliInProcess(root, args),
    step: (step, root) => (step.cni !== undefined ? cniInProcess(root, step) : cliInProcess(root, step.args)),
  };
}

/** Each syscall of SYSCALLS the step makes, and how many times (the most any one process made). */
export function countSyscalls(step, root, traceFile) {
  const res = runStepProcess(step, root, ['strace', '-f', '--seccomp-bpf', '-qq', '-o', traceFile, '-e', `trace=${SYSCALLS.join(',')}`]);
  if (res.code !== 0) throw new Error(`counting run of ${describe(step)} failed (${res.code ?? res.signal}): ${res.stderr.trim()}`);
  const perPid = new Map();
  for (const line of readFileSync(traceFile, 'utf8').split('\n')) {
    const m = /^(\d+)\s+([a-z0-9_]+)\(/.exec(line);
    if (m === null) continue;
    const key = `${m[1]} ${m[2]}`;
    perPid.set(key, (perPid.get(key) ?? 0) + 1);
  }
  rmSync(traceFile, { force: true });
  const counts = new Map();
  for (const [key, n] of perPid) {
    const name = key.split(' ')[1];
    counts.set(name, Math.max(counts.get(name) ?? 0, n));
  }
  return counts;
}

export function must(res, what) {
  if (res.code !== 0) throw new Error(`${what} exited ${res.code ?? res.signal}: ${res.stderr.trim()}${res.stdout.trim()}`);
  return res.stdout;
}
