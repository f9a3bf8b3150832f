/**
 * Layer: sandbox.
 *
 * Where sandboxes reach /proc/sys: a private procfs instance (made with fsopen/fsmount and
 * never attached anywhere), shared by a batch of sandboxes, instead of the host's /proc.
 *
 * Why: every namespace that looks at /proc/sys/net leaves a dentry named "net" under the
 * same parent, and every path walk through /proc/sys/net compares all of them. With 1000
 * live namespaces one disable_ipv6 write costs ~300 µs instead of ~30 µs, on every write.
 * A private instance only holds the dentries of the namespaces that used it. Closing an
 * instance waits for an RCU grace period, so one serves BATCH sandboxes and is closed when
 * the last of them lets go (or, if none holds it, when the next batch starts). An idle
 * instance stays open as a cache for the next sandbox; closeIdleSysctlRoot drops it.
 *
 * Where a private instance is refused or would not help, the host's /proc/sys serves, as
 * before: a kernel without the mount API (ENOSYS) or with procfs instances shared per pid
 * namespace (before 5.8: no gain), seccomp or a user namespace refusing the mount (EPERM,
 * fsmount's "too revealing" check), and a read-only /proc/sys (EROFS: a fresh instance would
 * get around what the administrator set up, e.g. systemd's ProtectKernelTunables).
 */
import { ClosedError, SysError } from '../errors.js';
import { close as closeFd, openProcfs } from '../sys/index.js';
import type { SandboxCore } from './core.js';

/** Sandboxes per procfs instance: their "net" dentries are what a lookup compares. */
export const BATCH = 64;

const HOST_PROC_SYS = '/proc/sys';

/** One sandbox's hold on a /proc/sys; release it when the sandbox goes. */
export interface SysctlRoot {
  /** A path that works like /proc/sys (for the namespace of the thread that opens under it). */
  readonly dir: string;
  release(): void;
}

interface Instance {
  fd: number;
  dir: string;
  users: number;
  served: number;
}

const REFUSALS = new Set(['ENOSYS', 'EPERM', 'EACCES', 'EINVAL', 'EROFS', 'ENODEV', 'EOPNOTSUPP']);

let current: Instance | undefined;
let unavailable = false;

function close(instance: Instance): void {
  closeFd(instance.fd);
}

function openInstance(): Instance | undefined {
  if (unavailable) return undefined;
  try {
    const fd = openProcfs();
    return { fd, dir: `/proc/self/fd/${fd}/sys`, users: 0, served: 0 };
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    // Refused for good: the host's /proc/sys for the rest of the process. Anything else
    // (EMFILE, ENOMEM) only for this batch.
    if (REFUSALS.has(err.code)) unavailable = true;
    return undefined;
  }
}

/** A /proc/sys for one more sandbox. */
export function acquireSysctlRoot(): SysctlRoot {
  if (current === undefined || current.served >= BATCH) {
    const retired = current;
    current = openInstance();
    if (retired !== undefined && retired.users === 0) close(retired);
  }
  const instance = current;
  if (instance === undefined) return { dir: HOST_PROC_SYS, release: () => {} };
  instance.users++;
  instance.served++;
  let held = true;
  return {
    dir: instance.dir,
    release: () => {
      if (!held) return;
      held = false;
      instance.users--;
      if (instance.users === 0 && instance !== current) close(instance);
    },
  };
}

/**
 * The /proc/sys a sandbox writes through, taken at its first sysctl write and held until
 * releaseSandboxSysctlRoot. A sandbox already destroyed or closed gets a ClosedError.
 */
export function sandboxSysctlDir(core: SandboxCore): string {
  if (core.destroyed) throw new ClosedError(`sandbox ${core.key}`);
  return (core.sysctlRoot ??= acquireSysctlRoot()).dir;
}

/** Let go of the sandbox's /proc/sys (when it is destroyed or closed). */
export function releaseSandboxSysctlRoot(core: SandboxCore): void {
  core.sysctlRoot?.release();
  core.sysctlRoot = undefined;
}

/**
 * Close the current instance if no sandbox holds it (the next acquire opens another): for a
 * process done with sandboxes, and for leak checks. Held instances stay until released.
 */
export function closeIdleSysctlRoot(): void {
  if (current === undefined || current.users > 0) return;
  close(current);
  current = undefined;
}
