/**
 * Test helper: one worker thread of helpers/store.ts inWorkers. Opens its own connection,
 * waits until every worker has, then runs its job as fast as it can and posts the result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NetworkRecords, SandboxRecords, openDb } from '../../src/store/index.js';

export type StoreJob =
  /** `count` updates of sandbox `name`, each appending the route `<worker>:<i>`; posts nothing of interest. */
  | { kind: 'update'; name: string; count: number }
  /** `count` leases of one address each on `network` (the lowest free of `base`1..254); posts the addresses. */
  | { kind: 'lease'; network: string; base: string; count: number };

const { dir, id, workers, barrier, job } = workerData as { dir: string; id: number; workers: number; barrier: SharedArrayBuffer; job: StoreJob };

const db = openDb(dir);
const ready = new Int32Array(barrier);
Atomics.add(ready, 0, 1);
Atomics.notify(ready, 0);
for (let n = Atomics.load(ready, 0); n < workers; n = Atomics.load(ready, 0)) Atomics.wait(ready, 0, n);

let result: unknown = null;
if (job.kind === 'update') {
  const records = new SandboxRecords(db);
  for (let i = 0; i < job.count; i++) records.update(job.name, (c) => { c.routes.push({ destination: `${id}:${i}`, nextHop: '' }); });
} else {
  const networks = new NetworkRecords(db);
  const got: string[] = [];
  for (let i = 0; i < job.count; i++) {
    got.push(...networks.lease(job.network, `owner${id}`, `eth${i}`, (taken) => {
      for (let host = 1; host < 255; host++) if (!taken.has(`${job.base}${host}`)) return [`${job.base}${host}`];
      throw new Error('the subnet is full');
    }));
  }
  result = got;
}
db.close();
parentPort!.postMessage(result);
