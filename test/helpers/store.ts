/**
 * Test helper for unit tests of src/store/: a temporary state directory (no root needed),
 * a second connection that gives up at once when the database is locked (to show what another
 * process would meet in the middle of a transaction), and workers that each open their own
 * connection and run the same job at the same moment (helpers/store-worker.ts).
 */
import type { TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { openDb, type Db } from '../../src/store/index.js';
import type { StoreJob } from './store-worker.js';

/** A fresh directory for a state database, removed when the test ends. */
export function tempStoreDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** openDb(dir), closed when the test ends. */
export function openTestDb(t: TestContext, dir: string): Db {
  const db = openDb(dir);
  t.after(() => db.close());
  return db;
}

/** Another connection to the database in `dir` that fails with SQLITE_BUSY instead of waiting for a lock. */
export function impatientDb(t: TestContext, dir: string): Db {
  const db = openTestDb(t, dir);
  db.pragma('busy_timeout = 0');
  return db;
}

/**
 * Run `job` in `workers` worker threads, each with its own connection (openDb), released at
 * once after all have opened theirs; resolves with each worker's result, in order.
 */
export async function inWorkers<R>(dir: string, workers: number, job: StoreJob): Promise<R[]> {
  const barrier = new SharedArrayBuffer(4);
  const url = new URL('./store-worker.js', import.meta.url);
  return Promise.all(Array.from({ length: workers }, (_, id) => new Promise<R>((resolve, reject) => {
    const w = new Worker(url, { workerData: { dir, id, workers, barrier, job } });
    w.once('message', (m: R) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`store worker ${id} exited ${code}`)); });
  })));
}
