/**
 * Test helper for end-to-end tests of the CLI: runs `bin/nsbox.js` (the compiled dist/) as a
 * child process with a state root of its own (NSBOX_ROOT under /run, a tmpfs of the throwaway
 * host). Two kinds of root, checked differently:
 *
 * - `rootForFile()`: a path; every test removes what it made, and after all tests of the file
 *   `registerCliLeakCheck()` requires each root to hold nothing (no record, mount, netns file,
 *   /run/netns symlink or /etc/netns directory), then cleans up anyway.
 * - `rootForTest(t)`: an `NsboxRoot` (run/ok/json/fails…); when the test ends it removes every
 *   sandbox and network it holds, then requires that nothing of it is left in the kernel.
 */
import { after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, lstatSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { delHostLinks, links, madeHostLinks } from './host-links.js';
import { NETNS_DIR, mountsUnder } from './leaks.js';
import { randomName } from './names.js';

export const NSBOX_BIN = fileURLToPath(new URL('../../../bin/nsbox.js', import.meta.url));
/** The package's launcher (its `bin`, what an installed `nsbox` runs): a shell script, before Node. */
export const NSBOX_LAUNCHER = fileURLToPath(new URL('../../../bin/nsbox', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Extra environment (NSBOX_ROOT is always the root given). */
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed. */
  input?: string;
  /** Start it as an installed `nsbox` is started, through bin/nsbox (default: `node bin/nsbox.js`). */
  launcher?: boolean;
}

/** The JSON error object nsbox prints on stderr with --json. */
export interface CliJsonError {
  error: string;
  code: string;
  exitCode: number;
}

/** Start `nsbox ARGS…` with NSBOX_ROOT=root; stdio are pipes. */
export function startNsbox(root: string, args: readonly string[], options: CliOptions = {}): ChildProcessWithoutNullStreams {
  const env = { ...process.env, ...options.env, NSBOX_ROOT: root };
  const child = options.launcher === true ? spawn(NSBOX_LAUNCHER, args, { env }) : spawn(process.execPath, [NSBOX_BIN, ...args], { env });
  child.stdin.end(options.input);
  return child;
}

/** Wait for a started nsbox to end; collects everything it printed. */
export function finished(child: ChildProcessWithoutNullStreams): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr });
      return;
    }
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Run `nsbox ARGS…` to the end. */
export function nsbox(root: string, ...args: string[]): Promise<CliResult> {
  return finished(startNsbox(root, args));
}

/** Run `nsbox ARGS…` with extra environment or stdin. */
export function nsboxWith(root: string, options: CliOptions, ...args: string[]): Promise<CliResult> {
  return finished(startNsbox(root, args, options));
}

/** Run `nsbox --json ARGS…`, require exit 0 and an empty stderr, parse stdout. */
export async function nsboxJson<T = Record<string, unknown>>(root: string, ...args: string[]): Promise<T> {
  const res = await nsbox(root, '--json', ...args);
  assert.equal(res.code, 0, `nsbox --json ${args.join(' ')} exited ${res.code ?? res.signal}: ${res.stderr}`);
  assert.equal(res.stderr, '', `nsbox --json ${args.join(' ')} printed on stderr`);
  return JSON.parse(res.stdout) as T;
}

/** Run `nsbox ARGS…` and require exit 0; returns stdout. */
export async function nsboxOk(root: string, ...args: string[]): Promise<string> {
  const res = await nsbox(root, ...args);
  assert.equal(res.code, 0, `nsbox ${args.join(' ')} exited ${res.code ?? res.signal}: ${res.stderr}`);
  return res.stdout;
}

/** The JSON error object nsbox printed last on stderr (with --json). */
export function jsonError(res: CliResult): CliJsonError {
  const line = res.stderr.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as CliJsonError;
  } catch {
    throw new Error(`expected a JSON error on stderr, got ${JSON.stringify(res.stderr)} (exit ${res.code ?? res.signal})`);
  }
}

/** Resolve once `text` appears on the child's `stream` (rejects if it ends first or after `ms`). */
export function waitForOutput(child: ChildProcessWithoutNullStreams, stream: 'stdout' | 'stderr', text: string, ms = 15_000): Promise<void> {
  const source = child[stream];
  return new Promise((resolve, reject) => {
    let seen = '';
    const cleanup = (): void => {
      clearTimeout(timer);
      source.off('data', onData);
      child.off('close', onClose);
    };
    const onData = (d: Buffer): void => {
      seen += d.toString();
      if (seen.includes(text)) {
        cleanup();
        resolve();
      }
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error(`nsbox ended before ${JSON.stringify(text)} on ${stream}; got ${JSON.stringify(seen)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${JSON.stringify(text)} on ${stream} within ${ms} ms; got ${JSON.stringify(seen)}`));
    }, ms);
    source.on('data', onData);
    child.once('close', onClose);
  });
}

/** Resolve once `text` appears on the child's stderr. */
export function waitForStderr(child: ChildProcessWithoutNullStreams, text: string, ms = 15_000): Promise<void> {
  return waitForOutput(child, 'stderr', text, ms);
}

/** Resolve with the first line on the child's stdout. */
export function firstLine(child: ChildProcessWithoutNullStreams, ms = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => { child.stdout.off('data', onData); reject(new Error(`no line on stdout within ${ms} ms`)); }, ms);
    const onData = (d: Buffer): void => {
      seen += d.toString();
      const nl = seen.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(seen.slice(0, nl));
      }
    };
    child.stdout.on('data', onData);
  });
}

/** The netns files (mount points) under `<root>/run/netns`, from /proc/self/mountinfo. */
export function netnsMounts(root: string): string[] {
  return mountsUnder(join(root, 'run', 'netns')).sort();
}

/** Names in /run/netns that are symlinks into `<root>/run/netns`. */
export function netnsSymlinks(root: string): string[] {
  const base = `${join(root, 'run', 'netns')}/`;
  if (!existsSync(NETNS_DIR)) return [];
  return readdirSync(NETNS_DIR).filter((n) => {
    try {
      const p = join(NETNS_DIR, n);
      return lstatSync(p).isSymbolicLink() && readlinkSync(p).startsWith(base);
    } catch {
      return false;
    }
  }).sort();
}

/** Files in `<root>/run/netns`. */
export function netnsFiles(root: string): string[] {
  const dir = join(root, 'run', 'netns');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** Where `ip netns exec` and nsbox find per-sandbox /etc files (a tmpfs in the throwaway host). */
export const ETC_NETNS_DIR = '/etc/netns';

/**
 * Sandboxes whose /etc/netns directory a state root says it made (its markers in
 * `<root>/etc-netns`, src/managed/names.ts).
 */
export function etcNetnsMarkers(root: string): string[] {
  const dir = join(root, 'etc-netns');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** What a state root left in the kernel and on disk: mounts, netns files, /run/netns symlinks, /etc/netns directories. */
export function rootLeftovers(root: string): string[] {
  return [
    ...netnsMounts(root).map((m) => `mount ${m}`),
    ...netnsFiles(root).map((f) => `netns file ${f}`),
    ...netnsSymlinks(root).map((s) => `symlink /run/netns/${s}`),
    ...etcNetnsMarkers(root).map((n) => `${existsSync(join(ETC_NETNS_DIR, n)) ? 'directory' : 'marker of'} ${ETC_NETNS_DIR}/${n}`),
  ];
}

const fileRoots = new Set<string>();

/** A fresh state root /run/nsbt-cli-<hex> (nsbox creates it), checked and removed by registerCliLeakCheck after the file. */
export function rootForFile(): string {
  const dir = `/run/${randomName('nsbt-cli-')}`;
  fileRoots.add(dir);
  return dir;
}

/**
 * After all tests of the file: require that every rootForFile root is empty (no record,
 * mount, netns file or /run/netns symlink: each test removes what it made), then clean up
 * anyway (`nsbox rm --all`, the host links this file made, the root directories).
 */
export function registerCliLeakCheck(): void {
  after(async () => {
    const leaks: string[] = [];
    for (const root of fileRoots) {
      const ls = await nsbox(root, '--json', 'ls');
      if (ls.code !== 0) leaks.push(`ls in ${root}: ${ls.stderr.trim()}`);
      else leaks.push(...(JSON.parse(ls.stdout) as { name: string }[]).map((r) => `record ${r.name}`));
      leaks.push(...rootLeftovers(root));
      // Clean up anyway, saying what would not go (it would stay in the shared throwaway host).
      const cleanup = async (...args: string[]): Promise<void> => {
        const r = await nsbox(root, ...args);
        if (r.code !== 0) leaks.push(`cleanup \`nsbox ${args.join(' ')}\` in ${root}: ${r.stderr.trim()}`);
      };
      if (leaks.length > 0) await cleanup('rm', '--all');
      // Its networks too (a `run` makes nsbox0, whose bridge would stay in the shared throwaway host).
      const nets = await nsbox(root, '--json', 'network', 'ls');
      if (nets.code === 0) for (const n of JSON.parse(nets.stdout) as { name: string }[]) await cleanup('network', 'rm', n.name);
    }
    delHostLinks(...madeHostLinks());
    for (const root of fileRoots) {
      try {
        rmSync(root, { recursive: true, force: true });
      } catch (err) {
        leaks.push(`remove ${root}: ${(err as Error).message}`);
      }
    }
    assert.deepEqual(leaks, [], 'left behind');
  });
}

/** A state root of its own: nsbox run with NSBOX_ROOT set to it. */
export class NsboxRoot {
  readonly root: string;
  /** Processes started by start() still running: teardown stops them first (a failed test leaves its servers). */
  readonly #running = new Set<ChildProcessWithoutNullStreams>();

  constructor(root = `/run/${randomName('nsbt-net-')}`) {
    this.root = root;
  }

  /** Start `nsbox ARGS…`; stdio are pipes (stdin closed). */
  start(args: readonly string[], env: NodeJS.ProcessEnv = {}, options: { launcher?: boolean } = {}): ChildProcessWithoutNullStreams {
    const child = startNsbox(this.root, args, { env, ...options });
    this.#running.add(child);
    child.once('exit', () => this.#running.delete(child));
    return child;
  }

  /** Run `nsbox ARGS…` to the end. */
  run(...args: string[]): Promise<CliResult> {
    return finished(this.start(args));
  }

  /** Run `nsbox ARGS…`, require exit 0; returns stdout. */
  ok(...args: string[]): Promise<string> {
    return nsboxOk(this.root, ...args);
  }

  /** Run `nsbox --json ARGS…`, require exit 0 and a quiet stderr, parse stdout. */
  json<T = Record<string, unknown>>(...args: string[]): Promise<T> {
    return nsboxJson<T>(this.root, ...args);
  }

  /** Run `nsbox --json ARGS…` that must fail with `exit`; returns the error object. */
  async fails(exit: number, ...args: string[]): Promise<CliJsonError> {
    const res = await this.run('--json', ...args);
    assert.equal(res.code, exit, `nsbox --json ${args.join(' ')}: expected exit ${exit}, got ${res.code ?? res.signal}: ${res.stderr}${res.stdout}`);
    const err = jsonError(res);
    assert.equal(err.exitCode, exit);
    return err;
  }

  /** Start `nsbox ARGS…` paused at the crash point `point` (managed/test-hooks.ts), run `whilePaused`, SIGKILL it. */
  async killAt(point: string, args: readonly string[], whilePaused?: () => Promise<void>): Promise<void> {
    const child = this.start(args, { NSBOX_TEST_PAUSE: point });
    const done = finished(child);
    try {
      await waitForOutput(child, 'stderr', `paused at ${point}`);
      await whilePaused?.();
    } finally {
      child.kill('SIGKILL');
    }
    assert.equal((await done).signal, 'SIGKILL');
  }

  /** `nsbox --json network inspect NET`. */
  network(name: string): Promise<NetworkJson> {
    return this.json<NetworkJson>('network', 'inspect', name);
  }

  /** `nsbox --json inspect NAME`. */
  sandbox(name: string): Promise<SandboxJson> {
    return this.json<SandboxJson>('inspect', name);
  }

  /** Where this root's namespace files live. */
  get netnsDir(): string {
    return join(this.root, 'run', 'netns');
  }

  /** Mount points under `<root>/run/netns`. */
  netnsMounts(): string[] {
    return netnsMounts(this.root);
  }

  /** Names in /run/netns that are symlinks into this root. */
  netnsSymlinks(): string[] {
    return netnsSymlinks(this.root);
  }

  /** Host links nsbox tagged for this root (veth ends of its sandboxes, bridges of its networks). */
  taggedHostLinks(): string[] {
    return links().filter((l) => l.ifalias !== undefined && (l.ifalias.startsWith(`nsbox:${this.netnsDir}/`) || l.ifalias.startsWith(`nsbox-net:${this.netnsDir}/`)))
      .map((l) => l.ifname);
  }

  /**
   * Remove every sandbox and network of the root, then require that nothing of it is left:
   * no record, network, mount, namespace file, /run/netns symlink or tagged host link.
   */
  async teardown(): Promise<void> {
    await Promise.all([...this.#running].map(async (child) => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }));
    if (!existsSync(this.root)) return;
    const problems: string[] = [];
    const rm = await this.run('rm', '--all');
    if (rm.code !== 0) problems.push(`rm --all: ${rm.stderr.trim()}`);
    const nets = await this.json<{ name: string }[]>('network', 'ls');
    if (nets.length > 0) {
      const res = await this.run('network', 'rm', ...nets.map((n) => n.name));
      if (res.code !== 0) problems.push(`network rm: ${res.stderr.trim()}`);
    }
    problems.push(...(await this.json<{ name: string }[]>('ls')).map((r) => `record ${r.name}`));
    problems.push(...(await this.json<{ name: string }[]>('network', 'ls')).map((r) => `network ${r.name}`));
    problems.push(...(await this.json<{ sandbox: string; hostPort: number }[]>('port', 'ls')).map((p) => `published port ${p.hostPort} of ${p.sandbox}`));
    problems.push(...rootLeftovers(this.root));
    problems.push(...this.taggedHostLinks().map((l) => `host link ${l}`));
    rmSync(this.root, { recursive: true, force: true });
    assert.deepEqual(problems, [], `left behind in ${this.root}`);
  }
}

/** A fresh state root /run/nsbt-net-<hex> whose teardown runs (and is checked) when the test ends. */
export function rootForTest(t: TestContext): NsboxRoot {
  const r = new NsboxRoot();
  t.after(() => r.teardown());
  return r;
}

export interface NetworkJson {
  name: string;
  driver: 'bridge' | 'macvlan';
  subnets: { subnet: string; gateway: string }[];
  mtu: number;
  internal: boolean;
  bridge: string | null;
  parent: string | null;
  macvlanMode: string | null;
  leases: { address: string; sandbox: string; ifname: string }[];
}

export interface SandboxJson {
  name: string;
  netns: string;
  state: string;
  gateway: string | null;
  interfaces: { srcName: string; dstName: string; state: string; network?: string; options: { ipv4?: string; ipv6?: string; mac?: string } }[];
}
