/**
 * Test helper: the leak checks. Snapshots of what a test can leave behind (mounts, netns
 * files, fds, host links) and the one after-all check every in-process integration file
 * registers. The CLI suites check their state roots with the same snapshots (helpers/cli.ts:
 * rootLeftovers), after asking nsbox itself what it still holds.
 */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hostLinkNames, madeHostLinks } from './host-links.js';
import { TEST_PREFIX } from './names.js';

export const NETNS_DIR = '/run/netns';

/** Mount points under `dir` in this mount namespace (from /proc/self/mountinfo). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mp) => mp.startsWith(`${dir}/`));
}

/** Entries of /proc/self/fd (a snapshot to compare before/after a test). */
export function openFds(): string[] {
  return readdirSync('/proc/self/fd').sort();
}

/** Netns files in /run/netns with the test prefix that still exist. */
export function leftoverNetnsFiles(prefix = TEST_PREFIX): string[] {
  if (!existsSync(NETNS_DIR)) return [];
  return readdirSync(NETNS_DIR).filter((n) => n.startsWith(prefix));
}

/** Files in `<base>/netns` (where the sandbox layer puts its namespace files). */
export function netnsFilesUnder(base: string): string[] {
  const dir = join(base, 'netns');
  return existsSync(dir) ? readdirSync(dir) : [];
}

export interface LeakCheck {
  /** The sandbox base path of the file: no mount and no netns file may be left under it; removed afterwards. */
  base?: string;
  /** Run before the fd snapshot: opens what lives as long as the process (e.g. the host netlink handle). */
  keepOpen?: () => void;
  /** Run before the fds are compared: drops a cache the code keeps on purpose (e.g. an idle procfs instance). */
  dropCaches?: () => void;
}

/**
 * Snapshot the fds now; after all tests of the file require: no test netns file or mount in
 * /run/netns, nothing under the base path, no host link this process made, the same fds.
 */
export function checkLeaksAfterAll(check: LeakCheck = {}): void {
  check.keepOpen?.();
  const fdsAtStart = openFds();
  after(() => {
    assert.deepEqual(leftoverNetnsFiles(), [], 'netns files left behind');
    assert.deepEqual(mountsUnder(NETNS_DIR).filter((m) => m.includes(TEST_PREFIX)), [], 'netns mounts left behind');
    if (check.base !== undefined) {
      assert.deepEqual(mountsUnder(check.base), [], 'mounts left under the base path');
      assert.deepEqual(netnsFilesUnder(check.base), [], 'netns files left under the base path');
    }
    assert.deepEqual(hostLinkNames().filter((n) => madeHostLinks().has(n)), [], 'test links left in the host');
    check.dropCaches?.();
    assert.deepEqual(openFds(), fdsAtStart, 'fds leaked');
    if (check.base !== undefined) rmSync(check.base, { recursive: true, force: true });
  });
}
