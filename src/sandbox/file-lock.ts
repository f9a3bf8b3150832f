/**
 * Layer: sandbox.
 *
 * An exclusive lock on a file, held across processes with flock(2) and released by the
 * kernel when the holder dies, however it dies. Used by tools above (the CLI) to serialise
 * work on one sandbox between processes.
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
