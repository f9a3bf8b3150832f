/**
 * Layer: managed.
 *
 * The nsbox-exec helper (native/nsbox-exec.c, built by binding.gyp next to the addon): what
 * `exec` and `run` start inside the sandbox's network namespace in place of the command. It
 * gives the command what `ip netns exec` gives it — a private mount namespace with / rslave, a
 * sysfs of the sandbox's namespace on /sys, the files of /etc/netns/NAME bound over /etc (what
 * nsbox puts there: names.ts) — then execs it, so the pid nsbox supervises is the command's. It
 * is a process of its own because Node, being multithreaded, cannot unshare a mount namespace,
 * and child_process runs nothing between fork and exec.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NsboxError } from '../errors.js';
import { packageRoot } from '../package-root.js';

let found: string | undefined;

/** The helper's path (build/Release/nsbox-exec of this package); NSBOX_ERR_NATIVE when it was not built. */
export function execHelperPath(): string {
  if (found !== undefined) return found;
  const path = join(packageRoot(), 'build/Release/nsbox-exec');
  if (!existsSync(path)) {
    throw new NsboxError(
      'nsbox: the helper build/Release/nsbox-exec is missing; run `npm ci` or `npm run build` (needs a C compiler and Node headers)',
      'NSBOX_ERR_NATIVE',
    );
  }
  return (found = path);
}

/** The helper's arguments for running `argv` in sandbox `name` with the files of `etcDir` bound over /etc. */
export function execHelperArgs(name: string, etcDir: string, argv: readonly string[]): string[] {
  return [name, etcDir, '--', ...argv];
}
