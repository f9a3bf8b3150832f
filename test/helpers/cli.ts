/**
 * Test helper for end-to-end tests of the CLI: runs `bin/nsbox.js` (the compiled dist/) as a
 * child process with its own state root (NSBOX_ROOT=/run/nsbt-cli-<hex>, a tmpfs of the
 * throwaway host), random sandbox and host link names, and the per-file leak check (no mount
 * under the root, no /run/netns symlink into it, no host link this file made).
 */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ip, ipJson, ipTry } from './iproute.js';
import { NETNS_DIR, mountsUnder } from './netns.js';

export const NSBOX_BIN = fileURLToPath(new URL('../../../bin/nsbox.js', import.meta.url));

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
}

/** Start `nsbox ARGS…` with NSBOX_ROOT=root; stdio are pipes. */
export function startNsbox(root: string, args: readonly string[], options: CliOptions = {}): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [NSBOX_BIN, ...args], { env: { ...process.env, ...options.env, NSBOX_ROOT: root } });
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

/** A fresh state root /run/nsbt-cli-<hex> (nsbox creates it), removed (with a leak check) after the file. */
export function freshRoot(): string {
  const dir = `/run/nsbt-cli-${randomBytes(4).toString('hex')}`;
  roots.add(dir);
  return dir;
}

/** A random sandbox name `nsbt-<hex>` (also its /run/netns name). */
export function sandboxName(): string {
  return `nsbt-${randomBytes(4).toString('hex')}`;
}

/** A host link name unique to this process: `nsbt` + 6 hex + `tag` (≤ 15 bytes). */
export function linkName(tag: string): string {
  const name = `nsbt${randomBytes(3).toString('hex')}${tag}`;
  assert.ok(Buffer.byteLength(name) <= 15, `link name ${name} too long`);
  madeLinks.add(name);
  return name;
}

/** `ip link add A type veth peer name B` in the host; returns [A, B]. */
export function hostVeth(): [string, string] {
  const a = linkName('a');
  const b = `${a.slice(0, -1)}b`;
  madeLinks.add(b);
  ip(undefined, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b);
  return [a, b];
}

/** `ip link add NAME type bridge` in the host, up. */
export function hostBridge(): string {
  const name = linkName('br');
  ip(undefined, 'link', 'add', name, 'type', 'bridge');
  ip(undefined, 'link', 'set', name, 'up');
  return name;
}

/** Names of the host's links. */
export function hostLinkNames(): string[] {
  return ipJson<{ ifname: string }[]>(undefined, 'link', 'show').map((l) => l.ifname);
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

const roots = new Set<string>();
const madeLinks = new Set<string>();

/**
 * After all tests of the file: require that every root is empty (no record, mount, netns file
 * or /run/netns symlink: each test removes what it made), then clean up anyway (`nsbox rm
 * --all`, the host links this file made, the root directories).
 */
export function registerCliLeakCheck(): void {
  after(async () => {
    const leaks: string[] = [];
    for (const root of roots) {
      const ls = await nsbox(root, '--json', 'ls');
      if (ls.code !== 0) leaks.push(`ls in ${root}: ${ls.stderr.trim()}`);
      else leaks.push(...(JSON.parse(ls.stdout) as { name: string }[]).map((r) => `record ${r.name}`));
      leaks.push(...netnsMounts(root).map((m) => `mount ${m}`), ...netnsFiles(root).map((f) => `netns file ${f}`),
        ...netnsSymlinks(root).map((s) => `symlink /run/netns/${s}`));
      if (leaks.length > 0) await nsbox(root, 'rm', '--all');
    }
    for (const n of madeLinks) ipTry(undefined, 'link', 'del', n);
    for (const root of roots) {
      try {
        rmSync(root, { recursive: true, force: true });
      } catch (err) {
        leaks.push(`remove ${root}: ${(err as Error).message}`);
      }
    }
    assert.deepEqual(leaks, [], 'left behind');
  });
}
