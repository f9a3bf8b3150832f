/**
 * Layer: overlay/dataplane — reconcile and observe.
 *
 * One dump per kind (the vxlan's routes of protocol 110, the neighbour table, the FDB, the
 * allowlist's elements), a diff against the plan (plan.ts), and the changes in batches
 * (NeighOps/RouteOps replaceMany/delMany, 256 messages to a datagram; the allowlist in one
 * nf_tables transaction). Everything is written with replace, so a second reconcile changes
 * nothing and a changed or damaged entry is healed. Owned, and so removed when not desired:
 * routes of NSBOX_ROUTE_PROTOCOL whose device is this network's vxlan, permanent neighbours on
 * that vxlan, its FDB entries with a remote (`self`, a dst: nolearning, so only nsbox writes
 * them), and the allowlist's elements of this network's port and VNI. Order (flannel's): a route
 * only after its neighbour and FDB entry (else the kernel ARPs for the onlink gateway), and
 * removed before them.
 */
import { NSBOX_ROUTE_PROTOCOL } from '../../netlink/route/ops/route.js';
import { NTF, NUD } from '../../netlink/route/ops/neigh.js';
import type { NeighborOptions, RouteOptions } from '../../netlink/route/ops/index.js';
import { RTNH_F } from '../../netlink/route/schema/constants.js';
import { readAllowlist, writeAllowlist } from './allowlist.js';
import { ensureDevices, overlayMtu, underlayLink, type EnsuredDevices } from './devices.js';
import type { HostHandles } from './host.js';
import { overlayDeviceNames } from './names.js';
import { planOverlay, type OverlayPlan } from './plan.js';
import type { OverlayDesired, OverlayDrift, ReconcileCounts } from './types.js';

/** What the kernel holds for one network, in the plan's shape (values as text to compare). */
interface KernelState {
  /** dst → 'via GW onlink' */
  routes: Map<string, string>;
  /** ip → mac (permanent); other states as 'mac (state N)' */
  neighs: Map<string, string>;
  /** mac → dsts (self entries with a remote) */
  fdb: Map<string, string[]>;
  allow: Set<string>;
  guarded: boolean;
}

const routeText = (gateway: string | undefined, flags: number | undefined): string => `via ${gateway ?? '-'}${((flags ?? 0) & RTNH_F.ONLINK) !== 0 ? ' onlink' : ''}`;

async function readKernel(h: HostHandles, vxIndex: number | undefined, desired: OverlayDesired): Promise<KernelState> {
  const k: KernelState = { routes: new Map(), neighs: new Map(), fdb: new Map(), allow: new Set(), guarded: false };
  if (vxIndex !== undefined) {
    for (const r of await h.rtnl.route.list({ family: 4, protocol: NSBOX_ROUTE_PROTOCOL, oif: vxIndex })) {
      k.routes.set(r.destination, routeText(r.gateway, r.flags));
    }
    for (const n of await h.rtnl.neigh.list({ family: 4, index: vxIndex })) {
      if (n.dst === undefined) continue;
      const state = n.state ?? 0;
      k.neighs.set(n.dst, (state & NUD.PERMANENT) !== 0 ? n.lladdr ?? '-' : `${n.lladdr ?? '-'} (state 0x${state.toString(16)})`);
    }
    for (const f of await h.rtnl.neigh.list({ family: 'bridge', index: vxIndex })) {
      if (((f.flags ?? 0) & NTF.SELF) === 0 || f.dst === undefined || f.lladdr === undefined) continue;
      k.fdb.set(f.lladdr, [...(k.fdb.get(f.lladdr) ?? []), f.dst]);
    }
  }
  const a = await readAllowlist(h.nft(), desired.network.port, desired.network.vni);
  k.allow = a.allowed;
  k.guarded = a.guarded;
  return k;
}

/** The changes from `k` to `plan`. */
interface Diff {
  routesPut: { dst: string; gateway: string; existed: boolean }[];
  routesDel: string[];
  neighsPut: { ip: string; mac: string; existed: boolean }[];
  neighsDel: string[];
  fdbPut: { mac: string; dst: string; existed: boolean }[];
  /** [mac, dst] of entries to remove (a mac with a dst not desired, or not desired at all) */
  fdbDel: [string, string][];
  allowAdd: string[];
  allowDel: string[];
  drift: OverlayDrift[];
}

function diff(plan: OverlayPlan, k: KernelState, vxlan: string): Diff {
  const d: Diff = { routesPut: [], routesDel: [], neighsPut: [], neighsDel: [], fdbPut: [], fdbDel: [], allowAdd: [], allowDel: [], drift: [] };
  for (const [dst, r] of plan.routes) {
    const want = `${routeText(r.gateway, RTNH_F.ONLINK)} dev ${vxlan} proto ${NSBOX_ROUTE_PROTOCOL}`;
    const have = k.routes.get(dst);
    const haveText = have === undefined ? undefined : `${have} dev ${vxlan} proto ${NSBOX_ROUTE_PROTOCOL}`;
    if (haveText !== want) {
      d.routesPut.push({ dst, gateway: r.gateway, existed: have !== undefined });
      d.drift.push({ key: `route ${dst}`, want, ...(haveText === undefined ? {} : { have: haveText }) });
    }
  }
  for (const [dst, have] of k.routes) {
    if (!plan.routes.has(dst)) {
      d.routesDel.push(dst);
      d.drift.push({ key: `route ${dst}`, have: `${have} dev ${vxlan} proto ${NSBOX_ROUTE_PROTOCOL}` });
    }
  }
  for (const [ip, mac] of plan.neighs) {
    const have = k.neighs.get(ip);
    if (have !== mac) {
      d.neighsPut.push({ ip, mac, existed: have !== undefined });
      d.drift.push({ key: `neigh ${ip}`, want: mac, ...(have === undefined ? {} : { have }) });
    }
  }
  for (const [ip, have] of k.neighs) {
    // only permanent entries are ours; the kernel's own (incomplete, stale …) age out
    if (!plan.neighs.has(ip) && !have.includes('(state')) {
      d.neighsDel.push(ip);
      d.drift.push({ key: `neigh ${ip}`, have });
    }
  }
  for (const [mac, dst] of plan.fdb) {
    const have = k.fdb.get(mac);
    if (have === undefined || have.length !== 1 || have[0] !== dst) {
      d.fdbPut.push({ mac, dst, existed: have !== undefined });
      for (const other of have ?? []) if (other !== dst) d.fdbDel.push([mac, other]);
      d.drift.push({ key: `fdb ${mac}`, want: `dst ${dst}`, ...(have === undefined ? {} : { have: `dst ${have.join(',')}` }) });
    }
  }
  for (const [mac, have] of k.fdb) {
    if (!plan.fdb.has(mac)) {
      for (const dst of have) d.fdbDel.push([mac, dst]);
      d.drift.push({ key: `fdb ${mac}`, have: `dst ${have.join(',')}` });
    }
  }
  for (const a of plan.allow) {
    if (!k.allow.has(a)) {
      d.allowAdd.push(a);
      d.drift.push({ key: `allow ${a}`, want: 'allowed' });
    }
  }
  for (const a of k.allow) {
    if (!plan.allow.has(a)) {
      d.allowDel.push(a);
      d.drift.push({ key: `allow ${a}`, have: 'allowed' });
    }
  }
  return d;
}

export async function reconcile(h: HostHandles, desired: OverlayDesired): Promise<ReconcileCounts> {
  const plan = planOverlay(desired);
  const dev: EnsuredDevices = await ensureDevices(h, desired.network, desired.local);
  const k = await readKernel(h, dev.vxIndex, desired);
  const d = diff(plan, k, dev.vxlan);
  const vx = dev.vxIndex;
  const { rtnl } = h;

  const route = (dst: string, gateway?: string): RouteOptions => ({ dst, oif: vx, protocol: NSBOX_ROUTE_PROTOCOL, ...(gateway === undefined ? {} : { gateway, onlink: true }) });
  const neigh = (ip: string, mac?: string): NeighborOptions => ({ index: vx, dst: ip, ...(mac === undefined ? {} : { lladdr: mac }) });
  const fdb = (mac: string, dst: string): NeighborOptions => ({ index: vx, family: 'bridge', self: true, lladdr: mac, dst });

  // removals that make room first: routes, then the entries they used
  if (d.routesDel.length > 0) await rtnl.route.delMany(d.routesDel.map((dst) => route(dst)));
  if (d.neighsDel.length > 0) await rtnl.neigh.delMany(d.neighsDel.map((ip) => neigh(ip)));
  if (d.fdbDel.length > 0) await rtnl.neigh.delMany(d.fdbDel.map(([mac, dst]) => fdb(mac, dst)));
  // then FDB and neighbours, and the routes last
  if (d.fdbPut.length > 0) await rtnl.neigh.replaceMany(d.fdbPut.map((e) => fdb(e.mac, e.dst)));
  if (d.neighsPut.length > 0) await rtnl.neigh.replaceMany(d.neighsPut.map((e) => neigh(e.ip, e.mac)));
  if (d.routesPut.length > 0) await rtnl.route.replaceMany(d.routesPut.map((e) => route(e.dst, e.gateway)));
  if (d.allowAdd.length > 0 || d.allowDel.length > 0 || !k.guarded) {
    await writeAllowlist(h.nft(), desired.network.port, desired.network.vni, d.allowAdd, d.allowDel);
  }

  const puts = [...d.routesPut, ...d.neighsPut, ...d.fdbPut];
  const fdbRemoved = new Set(d.fdbDel.filter(([mac]) => !plan.fdb.has(mac)).map(([mac]) => mac)).size;
  return {
    added: puts.filter((p) => !p.existed).length + d.allowAdd.length,
    replaced: puts.filter((p) => p.existed).length,
    removed: d.routesDel.length + d.neighsDel.length + fdbRemoved + d.allowDel.length,
  };
}

export async function observe(h: HostHandles, desired: OverlayDesired): Promise<OverlayDrift[]> {
  const plan = planOverlay(desired);
  const names = overlayDeviceNames(desired.network.name);
  const drift: OverlayDrift[] = [];
  const vx = await h.rtnl.link.find({ name: names.vxlan });
  const br = await h.rtnl.link.find({ name: names.bridge });
  if (vx === undefined) drift.push({ key: `device ${names.vxlan}`, want: `vxlan id ${desired.network.vni} dstport ${desired.network.port}` });
  if (br === undefined) drift.push({ key: `device ${names.bridge}`, want: 'bridge' });
  const mtu = overlayMtu(desired.network, await underlayLink(h.rtnl, desired.local.underlay));
  for (const l of [vx, br]) if (l !== undefined && l.mtu !== mtu) drift.push({ key: `device ${l.name ?? '?'}`, want: `mtu ${mtu}`, have: `mtu ${String(l.mtu)}` });
  const k = await readKernel(h, vx?.index, desired);
  drift.push(...diff(plan, k, names.vxlan).drift);
  if (!k.guarded) drift.push({ key: `guard udp/${desired.network.port} vni ${desired.network.vni}`, want: 'guarded' });
  return drift;
}
