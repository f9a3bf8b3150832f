/**
 * Layer: sandbox.
 *
 * An exclusive lock on a file, held across processes with flock(2) and released by the
 * kernel when the holder dies, however it dies. Used by tools above (the CLI) to serialise
 * work on one sandbox between processes. The synchronous form is for short sections that must
 * not yield: a process waits on flock(2) itself, so a section that awaited while holding the
 * lock would block the same process's next taker for ever.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { LOCK_EX, LOCK_NB, flock } from '../sys/index.js';

/**
 * Run `fn` holding an exclusive flock on `path` (created if needed). With `wait: false`,
 * returns `{ locked: false }` at once when someone else holds it.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: { wait?: boolean } = {}): Promise<{ locked: true; value: T } | { locked: false }> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, 'a', 0o600);
  try {
    if (!flock(fd, options.wait === false ? LOCK_EX | LOCK_NB : LOCK_EX)) return { locked: false };
    return { locked: true, value: await fn() };
  } finally {
    closeSync(fd);
  }
}

/** Run the synchronous `fn` holding an exclusive flock on `path` (created if needed), waiting for it. */
export function withFileLockSync<T>(path: string, fn: () => T): T {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, 'a', 0o600);
  try {
    flock(fd, LOCK_EX);
    return fn();
  } finally {
    closeSync(fd);
  }
}
