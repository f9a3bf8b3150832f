/**
 * Test helper for the sandbox layer: a fresh base path per test file under /run (a tmpfs of
 * the throwaway host), fresh keys and sandboxes, and the file's leak check (helpers/leaks.ts,
 * with the sandbox layer's process-long handles and caches accounted for).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { Sandbox, generateKey, setBasePath } from '../../src/sandbox/index.js';
import { hostNetlink, hostNetnsFd } from '../../src/sandbox/host.js';
import { closeIdleSysctlRoot } from '../../src/sandbox/sysctl-root.js';
import { checkLeaksAfterAll } from './leaks.js';
import { randomName } from './names.js';

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
  const dir = `/run/${randomName()}`;
  mkdirSync(dir, { recursive: true });
  setBasePath(dir);
  return dir;
}

/**
 * Register the file's leak check (checkLeaksAfterAll). The shared host handles are opened
 * first (they live for the process), and the idle /proc/sys instance, a cache kept for the
 * next sandbox, is closed before the fds are compared.
 */
export function checkSandboxLeaks(base: string): void {
  checkLeaksAfterAll({
    base,
    keepOpen: () => {
      hostNetnsFd();
      hostNetlink();
    },
    dropCaches: closeIdleSysctlRoot,
  });
}
