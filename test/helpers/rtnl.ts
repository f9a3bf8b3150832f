/**
 * Test helper: an Rtnl handle that `using` closes, and the per-file leak check every rtnl
 * integration test file registers (netns files, netns mounts, fds).
 */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { Rtnl } from '../../src/netlink/route/ops/index.js';
import { NETNS_DIR, leftoverNetnsFiles, mountsUnder, openFds, type TestNetns } from './netns.js';

export type TestRtnl = Rtnl & Disposable;

/** `Rtnl.open({ netns: ns.fd })`, closed when the `using` binding goes out of scope. */
export function openRtnl(ns: TestNetns): TestRtnl {
  const rtnl = Rtnl.open({ netns: ns.fd });
  return Object.assign(rtnl, { [Symbol.dispose]: () => rtnl.close() });
}

/** Snapshot the fds now; after the file's tests, require no netns file, mount or fd left. */
export function checkLeaksAfterAll(): void {
  const fdsAtStart = openFds();
  after(() => {
    assert.deepEqual(leftoverNetnsFiles(), [], 'netns files left behind');
    assert.deepEqual(mountsUnder(NETNS_DIR).filter((m) => m.includes('nsbt-')), [], 'netns mounts left behind');
    assert.deepEqual(openFds(), fdsAtStart, 'fds leaked');
  });
}
