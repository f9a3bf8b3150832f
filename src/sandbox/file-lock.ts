/**
 * Layer: sandbox.
 *
 * An exclusive lock on a file, held across processes with flock(2) and released by the
 * kernel when the holder dies, however it dies. Used by tools above (the CLI, the agent) to
 * serialise work on one sandbox between processes and between calls of one process.
 *
 * flock(2) locks belong to an open file description, so two callers in ONE process each open
 * the file and exclude each other; a blocking flock would then stop the event loop with the
 * holder unable to finish: a deadlock. So the async form first queues on an in-process lock
 * per path (first come, first served), and then takes the flock without blocking, retrying on
 * a timer while another process holds it, so a long-lived process (`nsbox agent`) keeps
 * serving its other calls meanwhile. The synchronous form is for short sections that must not
 * yield: it blocks on flock(2) itself, so a section that awaited while holding the lock would
 * block the same process's next taker for ever.
 *
 * The holder deletes the file before it lets go, so no lock file outlives its use (a `run`
 * left two per sandbox before). Deleting a flocked file races with a taker that opened it
 * before the delete and locks it after: it would hold a lock on a file nobody else can open
 * any more. So a taker, once it holds the flock, checks that its fd is still the file at the
 * path (same device and inode); when not (deleted, or deleted and made again), it closes and
 * starts over. Only the holder deletes, so a file at the path whose flock one holds is the lock.
 * A file left by a holder that died (SIGKILL) is taken and deleted by the next taker
 * (`nsbox gc` sweeps what nobody takes: sweepLockFiles).
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NsboxError } from '../errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCK_EX, LOCK_NB, flock } from '../sys/index.js';

/** The tail of each path's in-process queue (absent: nobody in this process holds or waits). */
const queues = new Map<string, Promise<void>>();

/** Run `fn` after every earlier in-process holder of `path`. */
async function queued<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(path) ?? Promise.resolve();
  let release!: () => void;
  const tail = previous.then(() => new Promise<void>((resolve) => { release = resolve; }));
  queues.set(path, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (queues.get(path) === tail) queues.delete(path);
  }
}

/** Retry delays while another process holds the lock: 1 ms doubling to 25 ms. */
const MAX_RETRY_MS = 25;

/**
 * Open (creating it 0600, and its directory 0700) a lock file, never through a symlink: one
 * planted in the lock directory would make nsbox create or append to a file elsewhere
 * (O_NOFOLLOW: ELOOP).
 */
function openLockFile(path: string): number {
  const { O_WRONLY, O_CREAT, O_APPEND, O_NOFOLLOW } = constants;
  try {
    makeLockDir(dirname(path));
    return openSync(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') {
      throw new NsboxError(`the lock file ${path} is a symbolic link, which nsbox never makes or follows: remove it (rm ${path}) and run the command again`, 'NSBOX_ERR_CONFLICT', { cause: err });
    }
    // (EACCES stays as it is: without root it becomes the one "needs root" error, src/privileges.ts)
    if (code === 'EROFS' || code === 'ENOSPC' || code === 'EDQUOT') {
      throw new NsboxError(`cannot make the lock file ${path} (${(err as Error).message}): nsbox's state root must be a writable directory with space; give --root one`, 'NSBOX_ERR_STORE', { cause: err });
    }
    throw err;
  }
}

/**
 * The lock directory (0700), its parents too. Made one level first: Node's recursive mkdir
 * reports ENOENT, not EROFS, for a directory that cannot be made on a read-only file system.
 */
function makeLockDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT') throw err;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
}

/** Whether `fd` (whose flock we hold) is still the file at `path`: not deleted or replaced by a former holder. */
function stillAtPath(fd: number, path: string): boolean {
  const held = fstatSync(fd, { bigint: true });
  try {
    const now = statSync(path, { bigint: true });
    return now.ino === held.ino && now.dev === held.dev;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Let go of a lock we hold: delete its file first (while still holding it), then close. */
function release(fd: number, path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') { closeSync(fd); throw err; }
  }
  closeSync(fd);
}

/**
 * Run `fn` holding an exclusive flock on `path` (created if needed, deleted when released).
 * With `wait: false`, returns `{ locked: false }` at once when someone else (this process
 * included) holds it.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: { wait?: boolean } = {}): Promise<{ locked: true; value: T } | { locked: false }> {
  const wait = options.wait !== false;
  if (!wait && queues.has(path)) return { locked: false };
  return queued(path, async () => {
    let delay = 1;
    for (;;) {
      const fd = openLockFile(path);
      let locked: boolean;
      try {
        // Wait with the file open (one open per attempt, not per retry): a holder that deletes
        // it meanwhile is seen by stillAtPath once the flock is ours.
        while (!(locked = flock(fd, LOCK_EX | LOCK_NB)) && wait) {
          await sleep(delay);
          delay = Math.min(delay * 2, MAX_RETRY_MS);
        }
      } catch (err) {
        closeSync(fd);
        throw err;
      }
      if (!locked) {
        closeSync(fd);
        return { locked: false };
      }
      if (!stillAtPath(fd, path)) { closeSync(fd); continue; }
      try {
        return { locked: true, value: await fn() };
      } finally {
        release(fd, path);
      }
    }
  });
}

/** Run the synchronous `fn` holding an exclusive flock on `path` (created if needed, deleted when released), waiting for it. */
export function withFileLockSync<T>(path: string, fn: () => T): T {
  for (;;) {
    const fd = openLockFile(path);
    try {
      flock(fd, LOCK_EX);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    if (!stillAtPath(fd, path)) { closeSync(fd); continue; }
    try {
      return fn();
    } finally {
      release(fd, path);
    }
  }
}

/**
 * Delete the lock files in `dir` that nobody holds (left by holders that died); the names
 * deleted. Each is taken first, as any taker would, so a held lock is never deleted.
 */
export function sweepLockFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const swept: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (queues.has(path)) continue;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (!flock(fd, LOCK_EX | LOCK_NB) || !stillAtPath(fd, path)) { closeSync(fd); continue; }
    release(fd, path);
    swept.push(name);
  }
  return swept;
}
