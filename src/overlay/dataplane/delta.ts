/**
 * Layer: overlay/dataplane — the incremental path.
 *
 * Between two desired states of one network (the one last brought about, the one now), write
 * only the entries that differ: no dump of the kernel, no device check. What the agent does on a
 * watch event; a full reconcile (reconcile.ts) stays the periodic safety net and the answer to
 * anything unexpected: a network whose spec or local part changed, a vxlan that is not there,
 * or a write the kernel refuses is reported as `undefined`/thrown, and the caller reconciles in
 * full. The write order is reconcile's: removals first (routes, then neighbours and FDB), then
 * FDB, neighbours and routes last; writes are replaces, removals of entries already gone are
 * fine (delMany counts them as gone), so applying a delta twice changes nothing more.
 */
import { NSBOX_ROUTE_PROTOCOL } from '../../netlink/route/ops/route.js';
import type { NeighborOptions, RouteOptions } from '../../netlink/route/ops/index.js';
import { writeAllowlist } from './allowlist.js';
import type { HostHandles } from './host.js';
import { isOverlayTag, overlayDeviceNames } from './names.js';
import { planOverlay } from './plan.js';
import type { OverlayDesired, ReconcileCounts } from './types.js';

const sameBase = (a: OverlayDesired, b: OverlayDesired): boolean => JSON.stringify([a.network, a.local]) === JSON.stringify([b.network, b.local]);

function changed<V>(before: Map<string, V>, after: Map<string, V>, same: (x: V, y: V) => boolean): { put: [string, V][]; del: [string, V][] } {
  const put: [string, V][] = [];
  const del: [string, V][] = [];
  for (const [k, v] of after) {
    const old = before.get(k);
    if (old === undefined || !same(old, v)) put.push([k, v]);
  }
  for (const [k, v] of before) if (!after.has(k)) del.push([k, v]);
  return { put, del };
}

/** Apply what differs from `prev` to `next`; undefined when a full reconcile is needed instead. */
export async function applyDelta(h: HostHandles, prev: OverlayDesired, next: OverlayDesired): Promise<ReconcileCounts | undefined> {
  if (!sameBase(prev, next)) return undefined;
  const a = planOverlay(prev);
  const b = planOverlay(next);
  const routes = changed(a.routes, b.routes, (x, y) => x.gateway === y.gateway);
  const neighs = changed(a.neighs, b.neighs, (x, y) => x === y);
  const fdb = changed(a.fdb, b.fdb, (x, y) => x === y);
  const allowAdd = [...b.allow].filter((x) => !a.allow.has(x));
  const allowDel = [...a.allow].filter((x) => !b.allow.has(x));
  const counts = { added: routes.put.length + neighs.put.length + fdb.put.length + allowAdd.length, replaced: 0, removed: routes.del.length + neighs.del.length + fdb.del.length + allowDel.length };
  if (counts.added + counts.removed === 0) return counts;

  const vxName = overlayDeviceNames(next.network.name).vxlan;
  const vx = await h.rtnl.link.find({ name: vxName });
  if (vx?.index === undefined || !isOverlayTag(vx.alias, next.network.name) || vx.info?.kind !== 'vxlan' || vx.info.id !== next.network.vni) return undefined;
  const idx = vx.index;
  const { rtnl } = h;
  const route = (dst: string, gateway?: string): RouteOptions => ({ dst, oif: idx, protocol: NSBOX_ROUTE_PROTOCOL, ...(gateway === undefined ? {} : { gateway, onlink: true }) });
  const neigh = (ip: string, mac?: string): NeighborOptions => ({ index: idx, dst: ip, ...(mac === undefined ? {} : { lladdr: mac }) });
  const fdbEntry = (mac: string, dst: string): NeighborOptions => ({ index: idx, family: 'bridge', self: true, lladdr: mac, dst });
  if (routes.del.length > 0) await rtnl.route.delMany(routes.del.map(([dst]) => route(dst)));
  if (neighs.del.length > 0) await rtnl.neigh.delMany(neighs.del.map(([ip]) => neigh(ip)));
  // an FDB entry whose MAC stays (moved to another host) is replaced below, not removed
  if (fdb.del.length > 0) await rtnl.neigh.delMany(fdb.del.map(([mac, dst]) => fdbEntry(mac, dst)));
  if (fdb.put.length > 0) await rtnl.neigh.replaceMany(fdb.put.map(([mac, dst]) => fdbEntry(mac, dst)));
  if (neighs.put.length > 0) await rtnl.neigh.replaceMany(neighs.put.map(([ip, mac]) => neigh(ip, mac)));
  if (routes.put.length > 0) await rtnl.route.replaceMany(routes.put.map(([dst, r]) => route(dst, r.gateway)));
  if (allowAdd.length > 0 || allowDel.length > 0) await writeAllowlist(h.nft(), next.network.port, next.network.vni, allowAdd, allowDel);
  return counts;
}
