/**
 * Layer: sandbox.
 *
 * osl RestoreInterfaces: after the owner restarted, re-register the interfaces of a live
 * sandbox without touching the kernel, finding each one's current name by its addresses
 * (automatic names are not persisted). The IPv6 match compares IPv6 addresses (upstream
 * compared them with the IPv4 address, so IPv6-only interfaces never matched).
 */
import { SandboxError } from '../errors.js';
import { NO_STATS, type Address, type Link } from '../netlink/route/ops/index.js';
import { cidrText, type Cidr } from '../net/cidr.js';
import { hostNetlink } from './host.js';
import { Interface, newInterfaceState, type InterfaceOwner } from './interface.js';
import { findDst } from './interface-add.js';
import { resolveOptions, type InterfaceOptions } from './options.js';
import { advertiseAddrs, waitForBridgePort, waitForMcastRoute } from './advertise.js';
import { wrap } from './wrap.js';
import { debug } from './log.js';
import type { SandboxCore } from './core.js';

export interface RestoreInterface {
  srcName: string;
  dstPrefix: string;
  dstName?: string;
  options?: InterfaceOptions;
}

/** Each link's addresses ('ip/prefix') by its index. */
function indexAddresses(list: readonly Address[]): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  for (const a of list) {
    let set = out.get(a.index);
    if (set === undefined) out.set(a.index, (set = new Set()));
    set.add(a.cidr);
  }
  return out;
}

export async function restoreInterfaces(core: SandboxCore, owner: InterfaceOwner, list: readonly RestoreInterface[], signal?: AbortSignal): Promise<Interface[]> {
  const restored: Interface[] = [];
  let links: Link[] | undefined;
  let addrsOf: Map<number, Set<string>> | undefined;
  for (const item of list) {
    signal?.throwIfAborted();
    const o = resolveOptions(item.srcName, item.dstPrefix, { ...item.options, dstName: item.dstName ?? item.options?.dstName });
    let dstMaster: string | undefined;
    if (o.master !== undefined) {
      dstMaster = findDst(core, o.master, true);
      if (dstMaster === undefined) throw new SandboxError(`could not find an appropriate master "${o.master}" for "${item.srcName}"`, 'NSBOX_ERR_CONFIG');
    }
    const st = newInterfaceState(item.srcName, item.dstPrefix, o.dstName ?? '', o, dstMaster);
    const iface = new Interface(owner, st);
    if (core.isDefault) {
      st.dstName = item.srcName; // not registered, as upstream
    } else {
      try {
        links ??= await core.rtnl.link.list();
      } catch (err) {
        throw wrap(`failed to retrieve list of links in network namespace "${core.key}" during restore`, err);
      }
      for (const l of links) {
        if (item.dstPrefix === 'vxlan' && l.name.startsWith('vxlan')) {
          st.dstName = l.name;
          break;
        }
        if (st.ipv4 || st.ipv6) {
          // One dump of the namespace's addresses for all links: a request per link would fail
          // (ENODEV) for a link deleted since the list (a veth whose peer's namespace just went).
          // Indexed by link once: a hub with k links restores k rows against k links.
          addrsOf ??= indexAddresses(await core.rtnl.addr.list());
          const addrs = addrsOf.get(l.index);
          const has = (c: Cidr | undefined): boolean => c !== undefined && addrs !== undefined && addrs.has(cidrText(c));
          if (has(st.ipv4) || has(st.ipv6)) {
            st.dstName = l.name;
            break;
          }
        }
        if (o.master !== undefined && item.dstPrefix === 'veth' && l.name.startsWith('veth')) st.dstName = l.name;
      }
      core.ifaces.push(iface);
      restored.push(iface);
    }
    if (st.dstName !== '' && st.advertiseAddrNMsgs > 0) {
      const link = await core.rtnl.link.find({ name: st.dstName }, NO_STATS);
      if (link === undefined) {
        debug('restore: link %s not found, not advertising its addresses', st.dstName);
        continue;
      }
      if (!core.isDefault) await waitForBridgePort(hostNetlink(), link);
      const mcast = await waitForMcastRoute(core.rtnl, link.index, st);
      await advertiseAddrs(core.rtnl, core.nsFd, link, st, mcast);
    }
  }
  return restored;
}
