/**
 * Layer: sys.
 *
 * Network namespace primitives: create one bound to a file, destroy it, open an fd to it,
 * run synchronous code with the calling thread inside it, and read or write a /proc/sys
 * knob inside it.
 */
import { closeSync } from 'node:fs';
import { NsboxError, SysError } from '../errors.js';
import { errnoNumber } from '../errno.js';
import { native } from './binding.js';
import { CLONE_NEWNET } from './constants.js';

/** What destroyNetns takes as "nothing was there": not mounted, no such file. */
const EINVAL = errnoNumber('EINVAL');
const ENOENT = errnoNumber('ENOENT');

/**
 * Create a new network namespace pinned by a bind mount on `path` (which must not exist).
 * The calling thread unshares, mounts and switches straight back inside one native call, so
 * no JavaScript ever runs in the new namespace (if it could not switch back, the process
 * aborts). On failure nothing is left behind. `ip netns add NAME` does the same for
 * /run/netns/NAME.
 */
export function createNetns(path: string): void {
  native().close(createAndOpenNetns(path));
}

/**
 * createNetns, returning an fd of the new namespace (close-on-exec; close it with
 * closeNetns). Saves opening the file again, which is what a caller does next anyway.
 */
export function createAndOpenNetns(path: string): number {
  return native().createNetns(path, -1, 0)[0];
}

/** A namespace made by createNetnsWithNetlink, and the netlink socket made inside it. */
export interface CreatedNetns {
  nsFd: number;
  netlink: { fd: number; portId: number };
}

/**
 * createAndOpenNetns that also makes a bound netlink socket of `protocol` inside the new
 * namespace before switching back (see openNetlink): what a caller about to talk netlink in
 * it needs, for one switch instead of two.
 */
export function createNetnsWithNetlink(path: string, netlink: { protocol: number; recvBufferBytes: number }): CreatedNetns {
  if (!Number.isInteger(netlink.protocol) || netlink.protocol < 0) {
    throw new RangeError(`createNetnsWithNetlink: protocol must be a netlink protocol number (>= 0), got ${String(netlink.protocol)}`);
  }
  const [nsFd, fd, portId] = native().createNetns(path, netlink.protocol, netlink.recvBufferBytes);
  return { nsFd, netlink: { fd, portId } };
}

/**
 * Read a small file (up to 4 KiB) with the thread inside the namespace behind `nsFd`: a
 * /proc/sys/net knob of that namespace. One native call; no JS runs inside.
 */
export function readFileIn(nsFd: number, path: string): string {
  return native().readFileIn(nsFd, path, 4096);
}

/** Write `text` to a file with the thread inside the namespace (see readFileIn). */
export function writeFileIn(nsFd: number, path: string, text: string): void {
  native().writeFileIn(nsFd, path, text);
}

/**
 * A private procfs instance (fsopen + fsmount: a detached nosuid/nodev/noexec mount, attached
 * nowhere), as an fd (close-on-exec) whose path /proc/self/fd/FD/sys works like /proc/sys. On
 * Linux 5.8 and later its dentries are its own, so lookups there do not walk those every other
 * namespace left in the host's /proc/sys/net. Closing it waits for an RCU grace period. Throws
 * a SysError where it is refused or would not help: ENOSYS (no mount API, or a kernel before
 * 5.8), EPERM (seccomp; fsmount's "too revealing" check in a user namespace), EROFS (the host's
 * /proc/sys is read-only, and a fresh instance must not get around that).
 */
export function openProcfs(): number {
  return native().openProcfs();
}

/**
 * Pin an existing namespace (`source`, e.g. /proc/PID/ns/net) on a new file at `path` with
 * a bind mount. On failure nothing is left behind. `ip netns attach NAME PID`.
 */
export function bindNetns(source: string, path: string): void {
  native().bindNetns(source, path);
}

/** What destroyNetns found: whether a mount was detached and a file removed. */
export interface DestroyResult {
  unmounted: boolean;
  removed: boolean;
}

/**
 * Detach the bind mount on `path` (MNT_DETACH) and remove the file. Already gone is not an
 * error: a path that is not mounted, or does not exist, is fine. `ip netns del NAME`.
 */
export function destroyNetns(path: string): DestroyResult {
  const [umountErr, unlinkErr] = native().destroyNetns(path);
  const failures: SysError[] = [];
  if (umountErr !== 0 && umountErr !== EINVAL && umountErr !== ENOENT) {
    failures.push(new SysError(umountErr, 'umount2', path));
  }
  if (unlinkErr !== 0 && unlinkErr !== ENOENT) failures.push(new SysError(unlinkErr, 'unlink', path));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `destroy netns ${path}: ${failures.length} steps failed`);
  return { unmounted: umountErr === 0, removed: unlinkErr === 0 };
}

/**
 * Open a network namespace file (a netns bind mount or /proc/<pid>/ns/net) and return its
 * fd (close-on-exec). Throws NSBOX_ERR_NOT_NETNS when the file is not a network namespace.
 */
export function openNetns(path: string): number {
  const fd = native().openNetns(path);
  let type: number;
  try {
    type = native().nsType(fd);
  } catch (err) {
    closeSync(fd);
    if (err instanceof SysError && err.code === 'ENOTTY') throw notNetns(path);
    throw err;
  }
  if (type !== CLONE_NEWNET) {
    closeSync(fd);
    throw notNetns(path);
  }
  return fd;
}

function notNetns(path: string): NsboxError {
  return new NsboxError(
    `${path} is not a network namespace (expected a netns bind mount or /proc/<pid>/ns/net)`,
    'NSBOX_ERR_NOT_NETNS',
  );
}

/**
 * Whether `path` now holds another namespace than the one behind `fd` (same nsfs device, a
 * different inode): something replaced the mount there. False when either is gone.
 */
export function netnsReplaced(fd: number, path: string): boolean {
  const ids = native().fileIds(fd, path);
  return ids !== null && ids[0] === ids[2] && ids[1] !== ids[3];
}

/** Close an fd returned by openNetns. */
export function closeNetns(fd: number): void {
  native().close(fd);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

const AsyncFunction = (async () => {}).constructor;

/**
 * Run `fn` synchronously with the calling thread inside the namespace behind `nsFd`, then
 * switch back (even when `fn` throws). Work that `fn` starts synchronously — spawning a
 * child, writing /proc/sys/net, creating a socket natively — lands in the namespace;
 * anything deferred (promises, async fs, dns, `listen(port, host)`) does not, which is why
 * an async `fn` is refused. If switching back fails the process aborts. `ip netns exec`.
 */
export function withNetns<T>(nsFd: number, fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError('withNetns: fn must be a function');
  if (fn instanceof AsyncFunction) {
    throw new TypeError('withNetns: fn is an async function; the window is synchronous only (nothing deferred lands in the namespace)');
  }
  const result = native().withNetns(nsFd, fn);
  if (isThenable(result)) {
    Promise.resolve(result).catch(() => {});
    throw new TypeError('withNetns: fn returned a promise; the window is synchronous only (its deferred part ran outside the namespace)');
  }
  return result;
}

/**
 * flock(2) on any fd (a netns fd, a directory). Returns false when `LOCK_NB` was given and
 * the lock is held elsewhere. Locks belong to the open file and vanish when its process dies.
 */
export function flock(fd: number, operation: number): boolean {
  return native().flock(fd, operation);
}
