/**
 * Layer: lab.
 *
 * A link end of a running lab set down (a cable cut) and up again. Setting an interface down
 * makes the kernel drop what lives on it: every IPv4 and IPv6 route through it (the lab's
 * static routes among them) and its IPv6 addresses. `snapshotEnd` reads them first (main
 * table, routes the kernel did not make itself; addresses but IPv6 link-local ones, which come
 * back on their own); `restoreEnd` sets the end up and puts back whatever of them is missing.
 * An end set up does not pass traffic at once: the kernel's link watch turns the carrier on
 * and swaps in the real qdisc (until then every packet is dropped) up to a second later, when
 * the operational state becomes UP; `waitOperational` waits for that. An end that stayed up
 * while its peer was down kept what it learned meanwhile: its neighbour entries for the far end
 * failed, and the kernel answers from a FAILED entry with "no route to host" for a while after
 * the link is back (seen: about 2 s); `forgetFailedNeighbours` drops them so that the next
 * packet resolves afresh.
 */
import { Rtnl } from '../netlink/route/ops/index.js';
import { AF, IFF, NUD, RTPROT } from '../netlink/route/schema/constants.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { NetlinkError } from '../errors.js';
import type { SavedRoute } from './fault-record.js';

const isUp = (flags: number): boolean => (flags & IFF.UP) !== 0;
const isLinkLocal6 = (cidr: string): boolean => /^fe[89ab][0-9a-f]:/i.test(cidr);

/** The routes and addresses on `iface` in `netns` that the kernel removes when it goes down. */
export async function snapshotEnd(netns: string, iface: string): Promise<{ routes: SavedRoute[]; addresses: string[] }> {
  return Rtnl.with({ netns }, async (rtnl) => {
    const link = await rtnl.link.get({ name: iface });
    const addresses = (await rtnl.addr.list({ index: link.index })).map((a) => a.cidr).filter((c) => !isLinkLocal6(c));
    const routes = (await rtnl.route.list({ oif: link.index }))
      .filter((r) => r.protocol !== RTPROT.KERNEL && (r.type ?? 1) === 1)
      .map((r): SavedRoute => ({
        destination: r.destination, family: r.family === AF.INET6 ? 6 : 4, gateway: r.gateway, metric: r.priority,
        protocol: r.protocol, scope: r.scope, prefsrc: r.prefsrc,
      }));
    return { routes, addresses };
  });
}

export async function setEnd(netns: string, iface: string, up: boolean): Promise<void> {
  await Rtnl.with({ netns }, async (rtnl) => {
    const link = await rtnl.link.get({ name: iface });
    if (isUp(link.flags) !== up) await rtnl.link.set({ index: link.index }, { up });
  });
}

const exists = (err: unknown): boolean => err instanceof NetlinkError && err.code === 'EEXIST';

/** Set the end up and add back the saved addresses and routes it is missing; what was added. */
export async function restoreEnd(netns: string, iface: string, saved: { routes: readonly SavedRoute[]; addresses: readonly string[] }): Promise<{ routes: string[]; addresses: string[] }> {
  return Rtnl.with({ netns }, async (rtnl) => {
    const link = await rtnl.link.get({ name: iface });
    if (!isUp(link.flags)) await rtnl.link.set({ index: link.index }, { up: true });
    const added = { routes: [] as string[], addresses: [] as string[] };
    const have = new Set((await rtnl.addr.list({ index: link.index })).map((a) => a.cidr));
    for (const cidr of saved.addresses) {
      if (have.has(cidr)) continue;
      try {
        await rtnl.addr.add({ index: link.index, address: cidr, nodad: cidr.includes(':') });
        added.addresses.push(cidr);
      } catch (err) {
        if (!exists(err)) throw err;
      }
    }
    const routes = await rtnl.route.list({ oif: link.index });
    for (const r of saved.routes) {
      if (routes.some((x) => x.destination === r.destination && x.gateway === r.gateway && x.priority === r.metric)) continue;
      try {
        await rtnl.route.add({
          dst: r.destination, family: r.family, oif: link.index,
          ...(r.gateway === undefined ? {} : { gateway: r.gateway }), ...(r.metric === undefined ? {} : { metric: r.metric }),
          ...(r.protocol === undefined ? {} : { protocol: r.protocol }), ...(r.scope === undefined ? {} : { scope: r.scope }),
          ...(r.prefsrc === undefined ? {} : { prefsrc: r.prefsrc }),
        });
        added.routes.push(`${r.destination}${r.gateway === undefined ? '' : ` via ${r.gateway}`}`);
      } catch (err) {
        if (!exists(err)) throw err;
      }
    }
    return added;
  });
}

/** IF_OPER_UP (RFC 2863 "up"), set by the kernel's link watch once the link passes traffic. */
const IF_OPER_UP = 6;

/** Wait until the end is operationally up (at most `timeoutMs`); whether it is. */
export async function waitOperational(netns: string, iface: string, timeoutMs = 3000): Promise<boolean> {
  return Rtnl.with({ netns }, async (rtnl) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await rtnl.link.get({ name: iface })).operstate === IF_OPER_UP) return true;
      if (Date.now() > deadline) return false;
      await sleep(20);
    }
  });
}

/** Delete the FAILED and INCOMPLETE neighbour entries of `iface` in `netns` (left by a cut link); how many. */
export async function forgetFailedNeighbours(netns: string, iface: string): Promise<number> {
  return Rtnl.with({ netns }, async (rtnl) => {
    const link = await rtnl.link.get({ name: iface });
    const failed = (await rtnl.neigh.list({ index: link.index }))
      .filter((n) => n.dst !== undefined && ((n.state ?? 0) & (NUD.FAILED | NUD.INCOMPLETE)) !== 0);
    if (failed.length === 0) return 0;
    return (await rtnl.neigh.delMany(failed.map((n) => ({ index: n.index, dst: n.dst! })))).deleted;
  });
}
