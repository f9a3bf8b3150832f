/**
 * Layer: sandbox.
 *
 * osl RemoveInterface: a bridge made inside is deleted; any other link goes down, gets its
 * source name back and moves back to the host (link-return.ts). The interface stays registered unless every step succeeded,
 * so a later teardown tries again; calling it twice is an error, never a crash.
 */
import { NO_STATS, type Link } from '../netlink/route/ops/index.js';
import { stateOf, stopInterface, unregister, type Interface } from './interface.js';
import { returnLink } from './link-return.js';
import { wrap } from './wrap.js';
import { SandboxError } from '../errors.js';
import type { SandboxCore } from './core.js';

export interface RemoveInterfaceOptions {
  /**
   * Delete the link instead of giving it back (for links the caller created for the sandbox,
   * e.g. a network's veth end): down, then delete; nothing goes to the host.
   */
  delete?: boolean;
}

export async function removeInterface(core: SandboxCore, iface: Interface, options: RemoveInterfaceOptions = {}): Promise<void> {
  const st = stateOf(iface);
  stopInterface(st);
  if (!core.ifaces.includes(iface)) {
    throw new SandboxError(`interface ${st.srcName} (${st.dstName}) is not in sandbox ${core.key}`, 'NSBOX_ERR_NOT_FOUND');
  }
  let link: Link;
  try {
    link = await core.rtnl.link.get({ name: st.dstName }, NO_STATS);
  } catch (err) {
    throw wrap(`failed to find interface "${st.dstName}" in sandbox ${core.key}`, err);
  }
  const ref = { index: link.index };
  if (options.delete) {
    await core.rtnl.link.del(ref);
    unregister(core, iface);
    return;
  }
  if (st.bridge) {
    // A bridge made inside goes away: down, then deleted.
    try {
      await core.rtnl.link.del(ref);
    } catch (err) {
      throw wrap(`failed deleting bridge "${st.srcName}"`, err);
    }
  } else {
    const failures = await returnLink(core.rtnl, link.index, { name: st.dstName, srcName: st.srcName, toHost: !core.isDefault });
    if (failures.length > 0) {
      // Still registered under dstName: give the link that name back so a retry can find it.
      if (st.dstName !== st.srcName) await core.rtnl.link.set(ref, { name: st.dstName }).catch(() => undefined);
      throw failures[0];
    }
  }
  unregister(core, iface);
}
