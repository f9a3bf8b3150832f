/**
 * Layer: sandbox.
 *
 * osl AddInterface (spec §3.2): get the link into the sandbox, name it, configure it, bring
 * it up, add its routes, wait for it, advertise its addresses. Unlike upstream, a failure at
 * any step puts the link back where it came from under its source name (or deletes it if
 * this call created it) and leaves nothing registered.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { NO_STATS, type Link, type Rtnl } from '../netlink/route/ops/index.js';
import { IFF } from '../netlink/route/schema/constants.js';
import { hostNetlink } from './host.js';
import { Interface, newInterfaceState, stateOf, stopInterface, unregister, type InterfaceOwner, type InterfaceState } from './interface.js';
import { returnLink } from './link-return.js';
import { resolveOptions, type InterfaceOptions } from './options.js';
import { generateIfaceName } from './naming.js';
import { setIPv6, writeInterfaceSysctls } from './sysctl.js';
import { sandboxSysctlDir } from './sysctl-root.js';
import { advertiseAddrs, waitForBridgePort, waitForMcastRoute } from './advertise.js';
import { cidrText, isUnspecified, subnetContains, type Cidr } from '../net/cidr.js';
import { wrap } from './wrap.js';
import { SandboxError } from '../errors.js';
import type { SandboxCore } from './core.js';
import { debug } from './log.js';

const UP_RETRIES = 3;
const WAIT_UP_MS = 5000;

/** What this call did to the link, so a failure can undo exactly that. */
interface Undo {
  created: boolean;
  moved: boolean;
  renamed: boolean;
  index: number | undefined;
  /** Addresses configure added ('ip/prefix'), and whether it enslaved the link. */
  addresses: string[];
  enslaved: boolean;
}

/** osl findDst: the dstName of the registered interface with this srcName (a bridge if asked). */
export function findDst(core: SandboxCore, srcName: string, isBridge: boolean): string | undefined {
  for (const iface of core.ifaces) {
    const s = stateOf(iface);
    if (s.srcName === srcName && (!isBridge || s.bridge)) return s.dstName;
  }
  return undefined;
}

/** Undo what this call did to the link (undo it, give it back, or delete it), unregister; never throws. */
async function rollback(core: SandboxCore, iface: Interface, undo: Undo): Promise<Error[]> {
  const st = stateOf(iface);
  stopInterface(st);
  const failures: Error[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      failures.push(wrap(`undo ${what} of "${st.srcName}"`, err));
    }
  };
  if (undo.index === undefined && undo.moved) {
    undo.index = (await core.rtnl.link.find({ name: st.srcName }, NO_STATS).catch(() => undefined))?.index;
  }
  if (undo.index !== undefined) {
    const ref = { index: undo.index };
    if (undo.created) {
      await attempt('create', () => core.rtnl.link.del(ref));
    } else {
      if (!undo.moved) {
        // A link that stays in this namespace (created inside, or the host sandbox) keeps what
        // configure gave it unless it is taken off again; moving a link out drops all of that.
        if (undo.enslaved) await attempt('master', () => core.rtnl.link.set(ref, { master: null }));
        for (const address of undo.addresses) await attempt(`address ${address}`, () => core.rtnl.addr.del({ ...ref, address }));
      }
      const name = undo.renamed ? st.dstName : st.srcName;
      failures.push(...await returnLink(core.rtnl, undo.index, { name, srcName: st.srcName, toHost: undo.moved }));
    }
  }
  for (const f of failures) debug('undo of %s: %s', st.srcName, f.message);
  unregister(core, iface);
  return failures;
}

function routeText(r: { oif?: number; destination: string; prefsrc?: string; gateway?: string; table?: number }): string {
  return `{Ifindex: ${r.oif ?? 0} Dst: ${r.destination} Src: ${r.prefsrc ?? '<nil>'} Gw: ${r.gateway ?? '<nil>'} Table: ${r.table ?? 0}}`;
}

/** osl checkRouteConflict: refuse an address whose subnet overlaps an existing route. */
export async function checkRouteConflict(rtnl: Rtnl, addr: Cidr): Promise<void> {
  const routes = await rtnl.route.list({ family: addr.family });
  for (const r of routes) {
    if (r.dst === undefined || isUnspecified(r.dst)) continue;
    if (subnetContains({ address: r.dst, prefixLen: r.dstLen, family: addr.family }, addr.address) || subnetContains(addr, r.dst)) {
      throw new SandboxError(
        `cannot program address ${cidrText(addr)} in sandbox interface because it conflicts with existing route ${routeText(r)}`,
        'NSBOX_ERR_ROUTE_CONFLICT',
      );
    }
  }
}

/** Steps 2.3–2.8: bring the link in, name it, register it. Runs under the sandbox lock. */
async function createInterface(core: SandboxCore, iface: Interface, dstName: string | undefined, undo: Undo): Promise<Link> {
  const st = stateOf(iface);
  st.dstName = core.isDefault ? st.srcName : dstName ?? generateIfaceName(st.dstPrefix, core.ifaces.map((i) => stateOf(i).dstName));
  if (Buffer.byteLength(st.dstName) > 15) throw new SandboxError(`interface name ${st.dstName} would exceed 15 bytes; use a shorter prefix`, 'NSBOX_ERR_NAME');
  core.ifaces.push(iface);
  if (st.bridge) {
    try {
      await core.rtnl.link.add({ name: st.srcName, kind: 'bridge' });
    } catch (err) {
      throw wrap(`failed to create bridge "${st.srcName}"`, err);
    }
    undo.created = true;
  } else if (!st.createdInContainer) {
    const host = hostNetlink(); // opened on first use: a link made inside never needs it
    let hostLink: Link;
    try {
      hostLink = await host.link.get({ name: st.srcName }, NO_STATS);
    } catch (err) {
      throw wrap(`failed to get link by name "${st.srcName}"`, err);
    }
    if (!core.isDefault) {
      try {
        await host.link.set({ index: hostLink.index }, { netnsFd: core.nsFd });
      } catch (err) {
        throw wrap(`failed to set namespace on link "${st.srcName}"`, err);
      }
      undo.moved = true;
    }
  }
  let link: Link;
  try {
    link = await core.rtnl.link.get({ name: st.srcName }, NO_STATS);
  } catch (err) {
    throw wrap(`failed to get link by name "${st.srcName}"`, err);
  }
  undo.index = link.index;
  if (link.flags & IFF.UP) {
    try {
      await core.rtnl.link.set({ index: link.index }, { up: false });
    } catch (err) {
      throw wrap('failed to set link down', err);
    }
  }
  if (st.dstName !== st.srcName) {
    try {
      await core.rtnl.link.set({ index: link.index }, { name: st.dstName });
    } catch (err) {
      throw wrap(`error renaming interface "${st.srcName}" to "${st.dstName}"`, err);
    }
    undo.renamed = true;
  }
  return link;
}

/** Step 3: configure the named link (MAC, addresses, IPv6 switch, master, sysctls). */
async function configureInterface(core: SandboxCore, st: InterfaceState, link: Link, undo: Undo): Promise<void> {
  const rtnl = core.rtnl;
  const index = link.index;
  const ref = { index };
  const conf = async (what: string, value: string, fn: () => Promise<void> | void): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      throw wrap(`error setting interface "${st.dstName}" ${what} to ${value}`, err);
    }
  };
  if (st.mac) await conf('MAC', st.mac, () => rtnl.link.set(ref, { address: st.mac }));
  const ipv4 = st.ipv4;
  if (ipv4) {
    await conf('IP', cidrText(ipv4), async () => {
      await checkRouteConflict(rtnl, ipv4);
      await rtnl.addr.add({ index, address: cidrText(ipv4) });
      undo.addresses.push(cidrText(ipv4));
    });
  }
  const ipv6 = st.ipv6;
  await conf('IPv6', ipv6 ? cidrText(ipv6) : '<nil>', async () => {
    try {
      setIPv6(core.nsFd, st.dstName, ipv6 !== undefined, link.ipv6Disabled, () => sandboxSysctlDir(core));
    } catch (err) {
      throw wrap('failed to configure ipv6', err);
    }
    if (ipv6) {
      await checkRouteConflict(rtnl, ipv6);
      await rtnl.addr.add({ index, address: cidrText(ipv6), nodad: true });
      undo.addresses.push(cidrText(ipv6));
    }
  });
  const dstMaster = st.dstMaster;
  if (dstMaster !== undefined) {
    await conf('master', dstMaster, async () => {
      const master = await rtnl.link.get({ name: dstMaster }, NO_STATS);
      await rtnl.link.set(ref, { master: master.index });
      undo.enslaved = true;
    });
  }
  if (st.linkLocal.length > 0) {
    await conf('link local IPs', `[${st.linkLocal.map(cidrText).join(' ')}]`, async () => {
      for (const ll of st.linkLocal) {
        await rtnl.addr.add({ index, address: cidrText(ll) });
        undo.addresses.push(cidrText(ll));
      }
    });
  }
  if (st.sysctls.length > 0) {
    await conf('sysctls', `[${st.sysctls.map((s) => s.text).join(' ')}]`, () => writeInterfaceSysctls(core.nsFd, st.dstName, st.sysctls));
    if (ipv6) {
      let v6: unknown[];
      try {
        v6 = await rtnl.addr.list({ index, family: 6 });
      } catch (err) {
        throw wrap('failed to check IPv6 addresses', err);
      }
      if (v6.length === 0) {
        debug('IPv6 on %s was disabled by a sysctl; dropping address %s', st.dstName, cidrText(ipv6));
        st.ipv6 = undefined;
      }
    }
  }
}

async function setUpWithRetries(rtnl: Rtnl, index: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rtnl.link.set({ index }, { up: true });
      return;
    } catch (err) {
      if (attempt >= UP_RETRIES) throw wrap('failed to set link up', err);
      await sleep(10);
    }
  }
}

/** Wait until the link reports IFF_UP, at most 5 s (osl waitForIfUpped). */
async function waitForUp(rtnl: Rtnl, index: number): Promise<Link | undefined> {
  const now = await rtnl.link.get({ index }, NO_STATS);
  if (now.flags & IFF.UP) return now;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), WAIT_UP_MS);
  try {
    for await (const ev of rtnl.subscribe({ groups: ['link'], signal: ac.signal })) {
      if (ev.type === 'link' && ev.link.index === index && ev.link.flags & IFF.UP) return await rtnl.link.get({ index }, NO_STATS);
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  debug('link %d did not come up within %d ms', index, WAIT_UP_MS);
  return undefined;
}

/** osl AddInterface. */
export async function addInterface(
  core: SandboxCore, owner: InterfaceOwner, srcName: string, dstPrefix: string, options: InterfaceOptions | undefined,
): Promise<Interface> {
  const o = resolveOptions(srcName, dstPrefix, options);
  let dstMaster: string | undefined;
  if (o.master !== undefined) {
    dstMaster = findDst(core, o.master, true);
    if (dstMaster === undefined) throw new SandboxError(`could not find an appropriate master "${o.master}" for "${srcName}"`, 'NSBOX_ERR_CONFIG');
  }
  const st = newInterfaceState(srcName, dstPrefix, '', o, dstMaster);
  const iface = new Interface(owner, st);
  const undo: Undo = { created: false, moved: false, renamed: false, index: undefined, addresses: [], enslaved: false };
  try {
    const link = await core.lock.run(() => createInterface(core, iface, o.dstName, undo));
    await configureInterface(core, st, link, undo);
    await setUpWithRetries(core.rtnl, link.index);
    const routes = st.routes.filter((r) => !isUnspecified(r.address));
    if (routes.length > 0) {
      try {
        for (const r of routes) await core.rtnl.route.add({ dst: cidrText(r), oif: link.index, scope: 'link' });
      } catch (err) {
        throw wrap(`error setting interface "${st.dstName}" routes to [${routes.map(cidrText).join(' ')}]`, err);
      }
    }
    // The kernel acked IFF_UP, so the link is up; osl's wait for the flag matters only to
    // the announcements, which need the link as it is now.
    const up = st.advertiseAddrNMsgs > 0 && (st.ipv4 || st.ipv6) ? await waitForUp(core.rtnl, link.index) : undefined;
    if (up !== undefined) {
      if (!core.isDefault) await waitForBridgePort(hostNetlink(), up);
      const mcast = await waitForMcastRoute(core.rtnl, up.index, st);
      await advertiseAddrs(core.rtnl, core.nsFd, up, st, mcast);
    }
  } catch (err) {
    const failures = await rollback(core, iface, undo);
    if (failures.length === 0) throw err;
    const failed = err instanceof SandboxError ? err : wrap(`failed to add interface "${srcName}"`, err);
    throw new SandboxError(failed.message, failed.code, { cause: failed.cause, rollbackErrors: failures });
  }
  return iface;
}
