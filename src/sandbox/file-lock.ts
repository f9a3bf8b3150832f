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
 */
import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { NsboxError } from '../errors.js';
import { dirname } from 'node:path';
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

const { O_WRONLY, O_CREAT, O_APPEND, O_NOFOLLOW } = constants;

/**
 * Open (creating it 0600) a lock file, never through a symlink: one planted in the lock
 * directory would make nsbox create or append to a file elsewhere (O_NOFOLLOW: ELOOP).
 */
function openLockFile(path: string): number {
  try {
    return openSync(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new NsboxError(`the lock file ${path} is a symbolic link, which nsbox never makes or follows: remove it (rm ${path}) and run the command again`, 'NSBOX_ERR_CONFLICT', { cause: err });
    }
    throw err;
  }
}

/** Retry delays while another process holds the lock: 1 ms doubling to 25 ms. */
const MAX_RETRY_MS = 25;

/**
 * Run `fn` holding an exclusive flock on `path` (created if needed). With `wait: false`,
 * returns `{ locked: false }` at once when someone else (this process included) holds it.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: { wait?: boolean } = {}): Promise<{ locked: true; value: T } | { locked: false }> {
  const wait = options.wait !== false;
  if (!wait && queues.has(path)) return { locked: false };
  return queued(path, async () => {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const fd = openLockFile(path);
    try {
      for (let delay = 1; !flock(fd, LOCK_EX | LOCK_NB); delay = Math.min(delay * 2, MAX_RETRY_MS)) {
        if (!wait) return { locked: false };
        await sleep(delay);
      }
      return { locked: true, value: await fn() };
    } finally {
      closeSync(fd);
    }
  });
}

/** Run the synchronous `fn` holding an exclusive flock on `path` (created if needed), waiting for it. */
export function withFileLockSync<T>(path: string, fn: () => T): T {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openLockFile(path);
  try {
    flock(fd, LOCK_EX);
    return fn();
  } finally {
    closeSync(fd);
  }
}
