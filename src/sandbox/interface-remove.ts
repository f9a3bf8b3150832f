/**
 * Layer: sandbox.
 *
 * osl RemoveInterface: down, rename back to the source name, then delete a bridge or move
 * the link back to the host. The interface stays registered unless every step succeeded,
 * so a later teardown tries again; calling it twice is an error, never a crash.
 */
import { NO_STATS, type Link } from '../netlink/route/ops/index.js';
import { hostNetnsFd } from './host.js';
import { stateOf, stopInterface, type Interface } from './interface.js';
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
    const i = core.ifaces.indexOf(iface);
    if (i >= 0) core.ifaces.splice(i, 1);
    return;
  }
  await core.rtnl.link.set(ref, { up: false });
  const renamed = st.dstName !== st.srcName;
  if (renamed) await core.rtnl.link.set(ref, { name: st.srcName });
  try {
    if (st.bridge) {
      try {
        await core.rtnl.link.del(ref);
      } catch (err) {
        throw wrap(`failed deleting bridge "${st.srcName}"`, err);
      }
    } else if (!core.isDefault) {
      await core.rtnl.link.set(ref, { netnsFd: hostNetnsFd() });
    }
  } catch (err) {
    // Still registered under dstName: give the link that name back so a retry can find it.
    if (renamed) await core.rtnl.link.set(ref, { name: st.dstName }).catch(() => undefined);
    throw err;
  }
  const i = core.ifaces.indexOf(iface);
  if (i >= 0) core.ifaces.splice(i, 1);
}
