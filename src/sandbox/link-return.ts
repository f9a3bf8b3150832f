/**
 * Layer: sandbox.
 *
 * Give a link back as it came: down, under its source name again, and out to the host
 * namespace unless it was made where it is. The one way the undo of addInterface,
 * removeInterface and the undo of an interrupted `iface add` put a link back. Every step runs
 * even when one before it failed; the failures are returned, each naming its step.
 */
import type { Rtnl } from '../netlink/route/ops/index.js';
import { hostNetnsFd } from './host.js';
import { wrap } from './wrap.js';

export interface ReturnLinkOptions {
  /** The link's name now. */
  name: string;
  /** The name it came with, which it gets back. */
  srcName: string;
  /** Move it to the host namespace (false for a link made inside, or in the host sandbox). */
  toHost: boolean;
}

export async function returnLink(rtnl: Rtnl, index: number, o: ReturnLinkOptions): Promise<Error[]> {
  const ref = { index };
  const failures: Error[] = [];
  const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      failures.push(wrap(`failed to ${what} "${o.name}"`, err));
    }
  };
  await step('set down', () => rtnl.link.set(ref, { up: false }));
  if (o.name !== o.srcName) await step(`rename back to "${o.srcName}"`, () => rtnl.link.set(ref, { name: o.srcName }));
  if (o.toHost) await step('move back to the host', () => rtnl.link.set(ref, { netnsFd: hostNetnsFd() }));
  return failures;
}
