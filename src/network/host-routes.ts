/**
 * Layer: network.
 *
 * The host's routes as a new bridge network sees them: the subnets it must not overlap, and
 * the free /16 a network given no IPv4 subnet gets.
 */
import { ConfigError } from '../errors.js';
import { cidrText, subnetsOverlap, type Cidr } from '../net/cidr.js';
import type { Rtnl } from '../netlink/route/ops/index.js';
import { AF, RTN } from '../netlink/route/schema/constants.js';

/** A route in the host that a network's subnet must not overlap. */
export interface HostRoute {
  subnet: Cidr;
  /** The link it leaves by ('?' when the route names none). */
  dev: string;
}

/** Longer prefixes (/31, /32; /127, /128) point at a peer, not at a LAN, and are not counted. */
const LONGEST_COUNTED = { 4: 30, 6: 126 } as const;

/** The first /16 tried, 10.88.0.0/16 (as podman), and the last one, 10.254.0.0/16. */
const FIRST_FREE_OCTET = 88;
const LAST_FREE_OCTET = 254;

/**
 * Unicast routes to a network, in every table, except those on `ours()` (nsbox's own bridges,
 * whose subnets the records already hold). `ours` is asked after the kernel is read: a network
 * is recorded before its bridge is made, so a bridge another process is making right now is
 * always among them, never mistaken for a foreign route.
 */
export async function foreignRoutes(host: Rtnl, ours: () => ReadonlySet<string>): Promise<HostRoute[]> {
  const links = new Map((await host.link.list()).map((l) => [l.index, l.name] as const));
  const routes = await host.route.list({ table: 'all' });
  const mine = ours();
  const out: HostRoute[] = [];
  for (const r of routes) {
    if (r.dst === undefined || r.dstLen === 0 || r.type !== RTN.UNICAST) continue;
    const dev = links.get(r.oif ?? 0) ?? '?';
    if (mine.has(dev)) continue; // any other link counts: a unicast route on lo (10.88.0.0/16 dev lo) takes the subnet too
    const family = r.family === AF.INET ? 4 : 6;
    if (r.dstLen > LONGEST_COUNTED[family]) continue;
    out.push({ subnet: { address: r.dst, prefixLen: r.dstLen, family }, dev });
  }
  return out;
}

/** The first /16 from 10.88.0.0/16 to 10.254.0.0/16 that overlaps nothing in `taken`. */
export function pickFreeSubnet(taken: readonly Cidr[]): string {
  for (let octet = FIRST_FREE_OCTET; octet <= LAST_FREE_OCTET; octet++) {
    const candidate: Cidr = { address: `10.${octet}.0.0`, prefixLen: 16, family: 4 };
    if (!taken.some((t) => subnetsOverlap(t, candidate))) return cidrText(candidate);
  }
  throw new ConfigError('no free /16 left in 10.88.0.0/8 for a network; give --subnet', 'subnet');
}
