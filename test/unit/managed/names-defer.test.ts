/**
 * Unit: the deferred-names scope (managed/names-defer.ts). Refreshes asked for inside the scope
 * merge into its pending set; the scope follows the async context of the function it runs,
 * so work running at the same time outside it, or for another root, is not deferred.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { emptyPending, mergePending, pendingFor, runDeferred } from '../../../src/managed/names-defer.js';

test('refreshes merge: sandboxes and networks are unions, all/resolv/ensure stick once asked', () => {
  const p = emptyPending();
  mergePending(p, { networks: ['lan'], sandboxes: ['a'] });
  mergePending(p, { networks: ['lan', 'wan'], sandboxes: ['b'], resolv: true });
  mergePending(p, { ensure: true });
  assert.deepEqual({ ...p, sandboxes: [...p.sandboxes], networks: [...p.networks] }, { all: false, sandboxes: ['a', 'b'], networks: ['lan', 'wan'], resolv: true, ensure: true });
  mergePending(p, { all: true });
  assert.equal(p.all, true);
});

test('the scope is the function\'s async context: not the root\'s other callers, not another root', async () => {
  const root = {};
  const other = {};
  const pending = emptyPending();
  const seen: Record<string, boolean> = {};
  const outside = (async () => {
    await sleep(5);
    seen.outsideDuring = pendingFor(root) !== undefined;
  })();
  await runDeferred(root, pending, async () => {
    await sleep(1);
    seen.inside = pendingFor(root) === pending;
    seen.otherRoot = pendingFor(other) !== undefined;
    await sleep(10);
    seen.afterAwait = pendingFor(root) === pending;
  });
  await outside;
  seen.after = pendingFor(root) !== undefined;
  assert.deepEqual(seen, { outsideDuring: false, inside: true, otherRoot: false, afterAwait: true, after: false });
});
