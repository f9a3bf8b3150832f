/**
 * Test helper: wait for a condition the kernel reaches on its own (e.g. a veth end that goes
 * with its namespace, which the kernel tears down in a work queue). The deadline only keeps a
 * broken run from hanging: no test asserts how long anything takes.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Poll `cond` every 20 ms until it holds; throws "timed out waiting until <what>" after `ms`. */
export async function waitUntil(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}
