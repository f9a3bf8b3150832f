/**
 * Layer: managed.
 *
 * Interfaces from the host in a recorded sandbox (`nsbox iface add|rm`): the row is recorded
 * in state 'adding' before the link moves, marked ready after, and dropped on failure; a
 * process killed in between leaves the row for gc to undo.
 */
import { NsboxError } from '../errors.js';
import { Rtnl } from '../netlink/route/ops/index.js';
import { generateIfaceName, resolveOptions, type InterfaceOptions } from '../sandbox/index.js';
import type { InterfaceRecord } from '../store/index.js';
import { withAdopted } from './adopt.js';
import type { StateRoot } from './root.js';
import { pausePoint } from './test-hooks.js';
import { refreshNames } from './names.js';

export interface AddInterfaceOptions {
  /** Name it this inside the sandbox (default: `prefix` + the lowest free index). */
  name?: string;
  /** Default 'eth'. */
  prefix?: string;
  ipv4?: string;
  ipv6?: string;
  mac?: string;
  /** Enslave to a bridge added with `bridge` earlier (its source name). */
  master?: string;
  /** Create a bridge named `src` inside the sandbox instead of moving a link in. */
  bridge?: boolean;
  routes?: string[];
  sysctls?: string[];
}

/** How to rebuild the link after a reboot: a host veth's peer that stays in the host. */
async function describeHostLink(src: string): Promise<InterfaceRecord['link'] | null> {
  const host = Rtnl.open();
  try {
    const link = await host.link.find({ name: src });
    if (link === undefined) return null;
    const kind = link.info?.kind ?? 'device';
    if (kind !== 'veth' || !link.link || link.linkNetnsId !== undefined) return { kind, mtu: link.mtu };
    const peer = await host.link.find({ index: link.link });
    const master = peer?.master ? await host.link.find({ index: peer.master }) : undefined;
    return { kind, mtu: link.mtu, peer: peer?.name, peerMaster: master?.name };
  } finally {
    host.close();
  }
}

/** Move host link `src` into the sandbox (or make a bridge there) and configure it. */
export async function addInterface(root: StateRoot, name: string, src: string, o: AddInterfaceOptions = {}): Promise<InterfaceRecord> {
  if (o.name !== undefined && o.prefix !== undefined) throw new TypeError('give a prefix or a name for the interface, not both');
  const prefix = o.prefix ?? 'eth';
  const options: InterfaceOptions = {
    dstName: o.name, ipv4: o.ipv4, ipv6: o.ipv6, mac: o.mac, master: o.master, isBridge: o.bridge === true, routes: o.routes, sysctls: o.sysctls,
  };
  resolveOptions(src, prefix, options); // bad input fails here, before anything is recorded or moved
  return withAdopted(root, name, async ({ sandbox }, rec) => {
    const taken = rec.config.interfaces;
    if (taken.some((i) => i.srcName === src)) throw new NsboxError(`sandbox ${name} already has an interface from ${src}`, 'NSBOX_ERR_EXISTS');
    if (o.name !== undefined && taken.some((i) => i.dstName === o.name)) throw new NsboxError(`sandbox ${name} already has an interface named ${o.name}`, 'NSBOX_ERR_EXISTS');
    let link: InterfaceRecord['link'] | undefined;
    if (!o.bridge) {
      const described = await describeHostLink(src);
      if (described === null) throw new NsboxError(`no link named ${src} in the host (see \`ip link\`)`, 'NSBOX_ERR_NOT_FOUND');
      link = described;
    }
    const dstName = o.name ?? generateIfaceName(prefix, taken.map((i) => i.dstName));
    const row: InterfaceRecord = {
      srcName: src, dstPrefix: prefix, dstName, state: 'adding', link,
      options: { ipv4: o.ipv4, ipv6: o.ipv6, mac: o.mac, master: o.master, isBridge: o.bridge || undefined, routes: o.routes, sysctls: o.sysctls },
    };
    root.records.update(name, (c) => { c.interfaces.push(row); });
    await pausePoint('iface-add:recorded');
    let iface;
    try {
      iface = await sandbox.addInterface(src, prefix, { ...options, dstName });
      await pausePoint('iface-add:kernel');
    } catch (err) {
      root.records.update(name, (c) => { c.interfaces = c.interfaces.filter((i) => i.srcName !== src); });
      throw err;
    }
    const added = root.records.update(name, (c) => {
      const r = c.interfaces.find((i) => i.srcName === src);
      if (r) {
        r.state = 'ready';
        r.dstName = iface.dstName;
        if (iface.address === undefined) delete r.options.ipv4;
        if (iface.addressIPv6 === undefined) delete r.options.ipv6;
      }
    });
    refreshNames(root, { sandboxes: [name] }); // its own name for the new addresses
    return added!.config.interfaces.find((i) => i.srcName === src)!;
  });
}

/** Move an interface (named by its name inside or its source name) back to the host; a bridge is deleted. */
export async function removeInterface(root: StateRoot, name: string, ifname: string): Promise<InterfaceRecord> {
  return withAdopted(root, name, async ({ sandbox }, rec) => {
    const row = rec.config.interfaces.find((i) => i.dstName === ifname) ?? rec.config.interfaces.find((i) => i.srcName === ifname);
    if (row === undefined) throw new NsboxError(`sandbox ${name} has no interface ${ifname}`, 'NSBOX_ERR_NOT_FOUND');
    const iface = sandbox.interfaces().find((i) => i.srcName === row.srcName);
    // A link already gone from the namespace (its veth peer's namespace was destroyed): only the row is left to drop.
    const present = (await sandbox.netlink.link.find({ name: row.dstName })) !== undefined;
    // A veth pair's end born here (veth-pair.ts) is deleted, which takes its peer too; a link from the host goes back.
    if (iface !== undefined && present) await (row.options.createdInContainer ? sandbox.removeInterface(iface, { delete: true }) : iface.remove());
    root.records.update(name, (c) => { c.interfaces = c.interfaces.filter((i) => i.srcName !== row.srcName); });
    refreshNames(root, { sandboxes: [name] });
    return row;
  });
}
