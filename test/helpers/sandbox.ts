/**
 * Test helper for the sandbox layer: a fresh base path per test file under /run (a tmpfs of
 * the throwaway host), fresh keys and sandboxes, host veth pairs with unique `nsbt…` names, and the per-file leak check
 * (no mount or file under the base path, no test link left in the host, no fd leaked).
 */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, generateKey, setBasePath } from '../../src/sandbox/index.js';
import { hostNetlink, hostNetnsFd } from '../../src/sandbox/host.js';
import { closeIdleSysctlRoot } from '../../src/sandbox/sysctl-root.js';
import { ip, ipJson, ipTry } from './iproute.js';
import { mountsUnder, openFds } from './netns.js';

/** A fresh sandbox key under the current base path. */
export const newKey = (): string => generateKey(randomBytes(16).toString('hex'));

/** addInterface options that send no unsolicited ARP/NA (nothing to wait for in tests). */
export const NO_ADV = { advertiseAddrNMsgs: 0 } as const;

/** Run `fn` with a fresh sandbox, destroyed afterwards whatever happens. */
export async function withSandbox(fn: (sb: Sandbox) => Promise<void>): Promise<void> {
  const sb = await Sandbox.create(newKey());
  try {
    await fn(sb);
  } finally {
    await sb.destroy();
  }
}

/** Point the sandbox layer at /run/nsbt-<hex> (sandbox files go to <dir>/netns/<key>). */
export function freshBase(): string {
  const dir = `/run/nsbt-${randomBytes(4).toString('hex')}`;
  mkdirSync(dir, { recursive: true });
  setBasePath(dir);
  return dir;
}

/** A host link name unique to this process: `nsbt` + 6 hex + `tag` (≤ 15 bytes). */
export function linkName(tag: string): string {
  const name = `nsbt${randomBytes(3).toString('hex')}${tag}`;
  assert.ok(Buffer.byteLength(name) <= 15, `link name ${name} too long`);
  return name;
}

/** Every host link name this process made with hostVeth, for the leak check. */
const madeLinks = new Set<string>();

/** `ip link add A type veth peer name B` in the host; returns [A, B]. */
export function hostVeth(a = linkName('a'), b = `${a.slice(0, -1)}b`): [string, string] {
  ip(undefined, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b);
  madeLinks.add(a).add(b);
  return [a, b];
}

/** Host links whose name starts with `prefix`. */
export function hostLinks(prefix = 'nsbt'): string[] {
  return ipJson<{ ifname: string }[]>(undefined, 'link', 'show').map((l) => l.ifname).filter((n) => n.startsWith(prefix));
}

/** Delete host links (ignoring ones already gone, e.g. a veth whose peer died with a sandbox). */
export function delHostLinks(...names: string[]): void {
  for (const n of names) ipTry(undefined, 'link', 'del', n);
}

/** Files in <base>/netns. */
export function netnsFiles(base: string): string[] {
  const dir = join(base, 'netns');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/**
 * Register the file's leak check. Opens the shared host handle first (it lives for the
 * process), snapshots the fds, and after all tests requires: no mount and no file under the
 * base path, no host link made by this process left, the same fds as at the start (once the
 * idle /proc/sys instance, a cache kept for the next sandbox, is closed).
 */
export function checkSandboxLeaks(base: string): void {
  hostNetnsFd();
  hostNetlink();
  const fdsAtStart = openFds();
  after(() => {
    assert.deepEqual(mountsUnder(base), [], 'mounts left under the base path');
    assert.deepEqual(netnsFiles(base), [], 'netns files left under the base path');
    assert.deepEqual(hostLinks().filter((n) => madeLinks.has(n)), [], 'test links left in the host');
    closeIdleSysctlRoot();
    assert.deepEqual(openFds(), fdsAtStart, 'fds leaked');
    rmSync(base, { recursive: true, force: true });
  });
}
