/**
 * Test helper: throwaway network namespaces for integration tests. Names start with
 * `nsbt-` and live under /run/netns (a tmpfs of the throwaway host the runner made), so
 * `ip -n NAME` can inspect them. Every helper cleans up after itself.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { closeNetns, createNetns, destroyNetns, openNetns } from '../../src/sys/index.js';

export const TEST_PREFIX = 'nsbt-';
export const NETNS_DIR = '/run/netns';

export function randomName(prefix = TEST_PREFIX): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

export interface TestNetns {
  name: string;
  path: string;
  fd: number;
  [Symbol.dispose](): void;
}

/** Create /run/netns/nsbt-<hex> with lo down as the kernel makes it, plus an open fd. */
export function makeNetns(name = randomName()): TestNetns {
  const path = `${NETNS_DIR}/${name}`;
  createNetns(path);
  const fd = openNetns(path);
  let disposed = false;
  return {
    name, path, fd,
    [Symbol.dispose]() {
      if (disposed) return;
      disposed = true;
      closeNetns(fd);
      destroyNetns(path);
    },
  };
}

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

/** Netns files with the test prefix that still exist. */
export function leftoverNetnsFiles(prefix = TEST_PREFIX): string[] {
  if (!existsSync(NETNS_DIR)) return [];
  return readdirSync(NETNS_DIR).filter((n) => n.startsWith(prefix));
}
