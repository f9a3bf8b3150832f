/**
 * Layer: lab.
 *
 * The `node:test` helper (docs/api.md "Labs"): `await useLab(t, 'lab.yaml')` brings a lab up
 * for a test and always brings it down when the test ends — also when `up` itself fails half
 * way, since the teardown is registered before `up` starts. Any test context with `after(fn)`
 * works (node:test's TestContext, or its `describe`/suite context).
 */
import { Lab, type LabRunOptions } from './lab.js';

/** What useLab needs of a test context: node:test's `t.after`. */
export interface TestContextLike {
  after(fn: () => unknown): void;
}

/**
 * Bring up `lab` (a Lab, a lab file's path, or an object of the file's shape) for the test `t`;
 * it is brought down (and the handle closed) when the test ends, whatever happened.
 */
export async function useLab(t: TestContextLike, lab: Lab | string | object, options: LabRunOptions = {}): Promise<Lab> {
  const handle = lab instanceof Lab ? lab : typeof lab === 'string' ? await Lab.load(lab, options) : Lab.fromObject(lab, options);
  t.after(async () => {
    try {
      await handle.down();
    } finally {
      handle.close();
    }
  });
  await handle.up();
  return handle;
}
