/**
 * Test helper: an Rtnl handle that `using` closes.
 */
import { Rtnl } from '../../src/netlink/route/ops/index.js';
import type { TestNetns } from './netns.js';

export type TestRtnl = Rtnl & Disposable;

/** `Rtnl.open({ netns: ns.fd })`, closed when the `using` binding goes out of scope. */
export function openRtnl(ns: TestNetns): TestRtnl {
  const rtnl = Rtnl.open({ netns: ns.fd });
  return Object.assign(rtnl, { [Symbol.dispose]: () => rtnl.close() });
}

/** The rtnl files register the common leak check (helpers/leaks.ts). */
export { checkLeaksAfterAll } from './leaks.js';
