/**
 * Layer: overlay/dataplane — the devices of an overlay network on one host.
 *
 * Per network: a vxlan (`nsvx-NAME`: nolearning, the network's VNI and UDP port, `local` and
 * `dev` = this host's underlay address and the link holding it, the VTEP MAC derived from host
 * and VNI, `proxy` in L2 mode so the neighbour entries answer ARP) and a bridge (`nsob-NAME`)
 * sandboxes attach to, both tagged with an ifalias (names.ts) so nsbox changes and removes only
 * devices it made; both with the overlay MTU (the underlay's − 50, or the spec's when smaller)
 * and no IPv6 link-local address (nothing of theirs to flood over the overlay).
 *
 * - L3 (flannel): the vxlan holds the VTEP address, the block's network address /32; the
 *   bridge the block's gateway (its first usable address) with the block's prefix; IPv4
 *   forwarding is switched on for these two devices only (conf/DEV/forwarding: the kernel
 *   checks the receiving device's), never host-wide.
 * - L2 (one broadcast domain): the vxlan is a port of the bridge; the bridge holds the block's
 *   gateway with the SUBNET's prefix (so the host reaches every sandbox of the network, and a
 *   sandbox has a gateway on its own host); sandboxes take the subnet's prefix.
 *
 * A device of ours whose fixed settings differ (VNI, port, local address, underlay link,
 * proxy) is made again; MTU, MAC, master, addresses and up are set in place. A device of the
 * name that nsbox did not make is refused (NSBOX_ERR_CONFLICT), nothing changed.
 */
import { ConfigError, NsboxError } from '../../errors.js';
import { networkOf, type Cidr } from '../../net/cidr.js';
import { IFF } from '../../netlink/route/schema/constants.js';
import type { Link, Rtnl } from '../../netlink/route/ops/index.js';
import { vxlanMtu } from '../../netlink/route/schema/link-vxlan.js';
import { removeAllowlist, writeAllowlist } from './allowlist.js';
import type { HostHandles } from './host.js';
import { isOverlayTag, overlayDeviceNames, overlayTag, vtepMacFor } from './names.js';
import { blockGateway, checkLocal } from './plan.js';
import type { OverlayDevices, OverlayLocal, OverlayNetworkSpec } from './types.js';

/** What ensureDevices made, with the ifindexes reconcile needs. */
export interface EnsuredDevices extends OverlayDevices {
  vxIndex: number;
  brIndex: number;
}

export async function underlayLink(rtnl: Rtnl, underlay: string): Promise<Link> {
  const addrs = await rtnl.addr.list({ family: 4 });
  const a = addrs.find((x) => (x.local ?? x.address) === underlay);
  if (a === undefined) {
    const held = addrs.map((x) => x.local ?? x.address).filter((x) => x !== undefined && !x.startsWith('127.'));
    throw new ConfigError(
      `local.underlay: no link of this host holds ${underlay} (its IPv4 addresses: ${held.join(', ') || 'none'}); give the address this host's peers reach it at`,
      'underlay',
    );
  }
  return rtnl.link.get({ index: a.index });
}

const isCode = (err: unknown, code: string): boolean => (err as { code?: unknown } | null)?.code === code;

/** The overlay MTU over `underlay`: its MTU − 50, or the spec's when smaller. */
export function overlayMtu(spec: OverlayNetworkSpec, underlay: Link): number {
  return Math.min(vxlanMtu(underlay.mtu ?? 1500, 4), spec.mtu ?? Infinity);
}

function foreign(name: string, what: string): NsboxError {
  return new NsboxError(`${name} exists in the host and was not made by nsbox for this overlay network (${what}); rename or remove it`, 'NSBOX_ERR_CONFLICT');
}

/** Keep exactly `want` (IPv4 CIDRs) on the link. */
async function syncAddresses(rtnl: Rtnl, index: number, want: readonly string[]): Promise<void> {
  const have = (await rtnl.addr.list({ family: 4, index })).map((a) => a.cidr);
  for (const c of have) if (!want.includes(c)) await rtnl.addr.del({ index, address: c });
  for (const c of want) {
    if (have.includes(c)) continue;
    try {
      await rtnl.addr.add({ index, address: c });
    } catch (err) {
      if (!isCode(err, 'EEXIST')) throw err; // another process added it meanwhile
    }
  }
}

export async function ensureDevices(h: HostHandles, spec: OverlayNetworkSpec, local: OverlayLocal): Promise<EnsuredDevices> {
  const { subnet, block, underlay } = checkLocal(spec, local);
  const { rtnl } = h;
  const names = overlayDeviceNames(spec.name);
  const tag = overlayTag(spec.name, spec.vni, local.owner);
  const ul = await underlayLink(rtnl, underlay);
  const mtu = overlayMtu(spec, ul);
  const vtepMac = vtepMacFor(local.hostId, spec.vni);
  const bridgeMac = vtepMacFor(`${local.hostId}\0bridge`, spec.vni);
  const l2 = spec.mode === 'l2';

  // both names checked before anything is made
  let br = await rtnl.link.find({ name: names.bridge });
  if (br !== undefined && (!isOverlayTag(br.alias, spec.name) || br.info?.kind !== 'bridge')) throw foreign(names.bridge, `alias ${JSON.stringify(br.alias ?? '')}`);
  const found = await rtnl.link.find({ name: names.vxlan });
  if (found !== undefined && (!isOverlayTag(found.alias, spec.name) || found.info?.kind !== 'vxlan')) throw foreign(names.vxlan, `alias ${JSON.stringify(found.alias ?? '')}`);
  // the bridge first: in L2 the vxlan is made as its port; one made here goes again if the vxlan cannot be made
  let madeBridge = false;
  if (br === undefined) {
    try {
      await rtnl.link.add({ name: names.bridge, kind: 'bridge', mtu, address: bridgeMac, alias: tag, addrGenMode: 'none', up: true });
      madeBridge = true;
    } catch (err) {
      // another process made it meanwhile: fine if it is ours
      if (!isCode(err, 'EEXIST')) throw err;
    }
    br = await rtnl.link.get({ name: names.bridge });
    if (!isOverlayTag(br.alias, spec.name) || br.info?.kind !== 'bridge') throw foreign(names.bridge, `alias ${JSON.stringify(br.alias ?? '')}`);
  }
  if (br.mtu !== mtu || ((br.flags ?? 0) & IFF.UP) === 0 || br.alias !== tag) {
    await rtnl.link.set({ index: br.index! }, { mtu, up: true, alias: tag });
  }
  const brIndex = br.index!;

  try {
    return await ensureVxlan(h, { spec, names, tag, ul, underlay, mtu, vtepMac, l2, brIndex, found, subnet, block });
  } catch (err) {
    if (madeBridge) await rtnl.link.del({ index: brIndex }).catch(() => undefined);
    throw err;
  }
}

interface VxlanPlan {
  spec: OverlayNetworkSpec;
  names: { vxlan: string; bridge: string };
  tag: string;
  ul: Link;
  underlay: string;
  mtu: number;
  vtepMac: string;
  l2: boolean;
  brIndex: number;
  found: Link | undefined;
  subnet: Cidr;
  block: Cidr;
}

async function ensureVxlan(h: HostHandles, p: VxlanPlan): Promise<EnsuredDevices> {
  const { rtnl } = h;
  const { spec, names, tag, ul, underlay, mtu, vtepMac, l2, brIndex, subnet, block } = p;
  let vx = p.found;
  if (vx !== undefined) {
    const i = vx.info!;
    if (i.kind !== 'vxlan' || vx.alias !== tag || i.id !== spec.vni || i.port !== spec.port || i.local !== underlay || i.dev !== ul.index || i.learning !== false || i.proxy !== l2) {
      await rtnl.link.del({ index: vx.index! });
      vx = undefined;
    }
  }
  if (vx === undefined) {
    try {
      await rtnl.link.add({
        name: names.vxlan, kind: 'vxlan', id: spec.vni, local: underlay, dev: ul.index!, port: spec.port, learning: false, proxy: l2,
        mtu, address: vtepMac, alias: tag, addrGenMode: 'none', ...(l2 ? { master: brIndex } : {}), up: true,
      });
    } catch (err) {
      if (!isCode(err, 'EEXIST')) throw err;
      // EEXIST: the name (another process made it meanwhile: fine if it is ours), or the VNI on the port
      const now = await rtnl.link.find({ name: names.vxlan });
      if (now === undefined) {
        throw new NsboxError(`cannot make ${names.vxlan}: another vxlan of this host has VNI ${spec.vni} on UDP port ${spec.port} already; give the network another VNI or port`, 'NSBOX_ERR_CONFLICT', { cause: err });
      }
      if (!isOverlayTag(now.alias, spec.name) || now.info?.kind !== 'vxlan') throw foreign(names.vxlan, `alias ${JSON.stringify(now.alias ?? '')}`);
    }
    vx = await rtnl.link.get({ name: names.vxlan });
  }
  const changes: { mtu?: number; address?: string; master?: number | null; up?: boolean } = {};
  if (vx.mtu !== mtu) changes.mtu = mtu;
  if (vx.address !== vtepMac) changes.address = vtepMac;
  if (l2 && vx.master !== brIndex) changes.master = brIndex;
  if (!l2 && (vx.master ?? 0) !== 0) changes.master = null;
  if (((vx.flags ?? 0) & IFF.UP) === 0) changes.up = true;
  if (Object.keys(changes).length > 0) await rtnl.link.set({ index: vx.index! }, changes);
  const vxIndex = vx.index!;

  const gateway = blockGateway(block);
  if (l2) {
    await syncAddresses(rtnl, vxIndex, []);
    await syncAddresses(rtnl, brIndex, [`${gateway}/${subnet.prefixLen}`]);
  } else {
    await syncAddresses(rtnl, vxIndex, [`${networkOf(block).address}/32`]);
    await syncAddresses(rtnl, brIndex, [`${gateway}/${block.prefixLen}`]);
    h.sysctl(`ipv4/conf/${names.vxlan}/forwarding`, '1');
    h.sysctl(`ipv4/conf/${names.bridge}/forwarding`, '1');
  }
  // VXLAN of this VNI is dropped from any source not (yet) allowed
  await writeAllowlist(h.nft(), spec.port, spec.vni, [], []);
  return { vxlan: names.vxlan, bridge: names.bridge, vtepMac, mtu, underlayDev: ul.name!, vxIndex, brIndex };
}

/** Remove the network's devices (only those tagged as ours) and its allowlist elements. Gone already is fine. */
export async function removeDevices(h: HostHandles, spec: OverlayNetworkSpec): Promise<void> {
  const names = overlayDeviceNames(spec.name);
  const errors: unknown[] = [];
  for (const name of [names.vxlan, names.bridge]) {
    try {
      const l = await h.rtnl.link.find({ name });
      if (l !== undefined && isOverlayTag(l.alias, spec.name)) await h.rtnl.link.del({ index: l.index! });
    } catch (err) {
      if (!isCode(err, 'ENODEV')) errors.push(err);
    }
  }
  try {
    await removeAllowlist(h.nft(), spec.vni);
  } catch (err) {
    errors.push(err);
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new NsboxError(`removing overlay network ${spec.name}: ${errors.map((e) => (e as Error).message).join('; ')}`, 'NSBOX_ERR_TEARDOWN');
}

