/**
 * Layer: sandbox.
 *
 * The netns file behind a sandbox key: create it (a new namespace, an alias of the host's,
 * or a bind of an external one), replacing whatever was mounted there before; open it and
 * take the liveness lease (a shared flock on the namespace, held for the sandbox's life and
 * dropped by the kernel when the process dies, which is how gc() tells leaks from sandboxes
 * in use). Creation under the base path holds a shared lock on the base directory, which
 * gc() takes exclusively, so gc never sees a half-made file.
 */
import { closeSync, mkdirSync, openSync, readFileSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, bindNetns, close, closeNetns, createNetnsWithNetlink, destroyNetns, flock, openNetns, type CreatedNetns,
} from '../sys/index.js';
import { basePath } from './key.js';
import { wrap } from './wrap.js';

export type NamespaceSource = { kind: 'new' } | { kind: 'host' } | { kind: 'external'; path: string } | { kind: 'existing' };

/** Run `fn` holding the base directory lock (shared, or exclusive for gc) when `path` is in it. */
export function withBaseLock<T>(path: string, exclusive: boolean, fn: () => T): T {
  const base = basePath();
  if (dirname(path) !== base) return fn();
  let fd: number;
  try {
    fd = openSync(base, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(base, { recursive: true, mode: 0o755 });
    fd = openSync(base, 'r');
  }
  try {
    flock(fd, exclusive ? LOCK_EX : LOCK_SH);
    return fn();
  } finally {
    closeSync(fd);
  }
}

/** Whether some live process holds the lease of the namespace behind `fd`. */
export function leaseHeld(fd: number): boolean {
  if (flock(fd, LOCK_EX | LOCK_NB)) {
    flock(fd, LOCK_UN);
    return false;
  }
  return true;
}

/** The netlink socket a new namespace comes with (made inside it at creation). */
export interface NetlinkSpec {
  protocol: number;
  recvBufferBytes: number;
}

/**
 * A new namespace on `key`, with a netlink socket made inside it. The directory is made, and
 * a previous mount on the key replaced (osl unmountNamespaceFile), only when the first
 * attempt says they are needed: the common case is one native call.
 */
function createNetnsFile(key: string, netlink: NetlinkSpec): CreatedNetns {
  try {
    return createNetnsWithNetlink(key, netlink);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'EEXIST') destroyNetns(key);
    else if (code === 'ENOENT') mkdirSync(dirname(key), { recursive: true, mode: 0o755 });
    else throw err;
  }
  return createNetnsWithNetlink(key, netlink);
}

/**
 * A new namespace on `key` with its lease taken (under the base directory lock), and a
 * netlink socket made inside it. On failure nothing is left behind.
 */
export function createNamespaceFile(key: string, netlink: NetlinkSpec): CreatedNetns {
  return withBaseLock(key, false, () => {
    const made = createNetnsFile(key, netlink);
    try {
      flock(made.nsFd, LOCK_SH);
      return made;
    } catch (err) {
      // Every step, whatever the others do; the original error is the one reported (gc()
      // reclaims what is left).
      for (const undo of [() => close(made.netlink.fd), () => closeNetns(made.nsFd), () => destroyNetns(key)]) {
        try {
          undo();
        } catch {
          // see above
        }
      }
      throw err;
    }
  });
}

/**
 * Pin the host's or an external namespace on `key`, or reuse the one there, and return an
 * fd that holds its lease. On any failure, a file this call made is removed again.
 */
export function openNamespaceFile(key: string, source: Exclude<NamespaceSource, { kind: 'new' }>): number {
  return withBaseLock(key, false, () => {
    let made = false;
    let fd: number | undefined;
    try {
      if (source.kind !== 'existing') {
        mkdirSync(dirname(key), { recursive: true, mode: 0o755 });
        destroyNetns(key); // osl unmountNamespaceFile: replace a previous mount on this key
        if (source.kind === 'host') bindNetns('/proc/self/ns/net', key);
        else {
          closeNetns(openNetns(source.path)); // refuse a source that is not a network namespace
          try {
            bindNetns(source.path, key);
          } catch (err) {
            throw wrap(`bind-mount ${source.path} -> ${key}`, err);
          }
        }
        made = true;
      }
      try {
        fd = openNetns(key);
      } catch (err) {
        // No file, or a file with no namespace on it (unmounted by a reboot or by hand).
        const code = (err as { code?: unknown }).code;
        const gone = code === 'ENOENT' || code === 'NSBOX_ERR_NOT_NETNS';
        throw wrap(`failed get network namespace "${key}"`, err, gone ? 'NSBOX_ERR_NETNS_GONE' : undefined);
      }
      flock(fd, LOCK_SH);
      return fd;
    } catch (err) {
      if (fd !== undefined) closeNetns(fd);
      if (made) {
        try {
          destroyNetns(key);
        } catch {
          // reported by the original error; gc() reclaims what is left
        }
      }
      throw err;
    }
  });
}

/** Unmount and remove a netns file (nothing there is fine). */
export function removeNamespaceFile(key: string): void {
  destroyNetns(key);
}

/** statfs(2)'s f_type of nsfs, the filesystem of a mounted namespace file. */
const NSFS_MAGIC = 0x6e736673;

/**
 * Whether a namespace is mounted on `key` in this mount namespace: statfs(2) of the path gives
 * nsfs (one syscall, ~15 µs, where reading /proc/self/mountinfo costs O(mounts) and made
 * listing N sandboxes O(N²)). A missing path is not mounted.
 */
export function isNamespaceMounted(key: string): boolean {
  try {
    return statfsSync(key).type === NSFS_MAGIC;
  } catch (err) {
    if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return false;
    throw err;
  }
}

/** Every mount point in this mount namespace, in mount order, once per stacked mount. */
export function mountPointList(): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp !== undefined) out.push(mp.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

export function mountPoints(): Set<string> {
  return new Set(mountPointList());
}
