/**
 * Layer: cni-conformance (process edge).
 *
 * The kernel oracle, independent of the plugin under test: iproute2 (`ip -j`) and `nft` read
 * what is really there. Namespaces the "runtime" makes (`ip netns add`), the links,
 * addresses and routes of a namespace, pings from inside one (`ip netns exec … ping`),
 * snapshots of the host (links, addresses, routes, nft ruleset, listed state directories)
 * and their differences. Snapshots are normalized: IPv6 link-local and multicast addresses
 * and routes (derived from random MACs) and nft counters are left out, so that two states
 * compare as text lines.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  return { status: res.status, stdout: res.stdout ?? '', stderr: res.stderr ?? '' };
}

function must(cmd: string, args: string[]): string {
  const res = run(cmd, args);
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${res.stderr.trim() || `exit ${res.status}`}`);
  return res.stdout;
}

export function addNetns(name: string): string {
  must('ip', ['netns', 'add', name]);
  return `/run/netns/${name}`;
}

export function delNetns(name: string): void {
  run('ip', ['netns', 'del', name]);
}

export interface LinkInfo {
  ifname: string;
  kind: string;
  mac: string;
  master: string;
  up: boolean;
  addresses: string[];
}

interface IpLink {
  ifname: string;
  address?: string;
  master?: string;
  flags?: string[];
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string }[];
}

const nsArgs = (ns: string | undefined): string[] => (ns === undefined ? [] : ['-n', ns]);

/** Links of a namespace (undefined: the host) with kind, MAC, master and global addresses. */
export function linksIn(ns?: string): LinkInfo[] {
  const links = JSON.parse(must('ip', [...nsArgs(ns), '-j', '-d', 'link', 'show'])) as IpLink[];
  const addrs = JSON.parse(must('ip', [...nsArgs(ns), '-j', 'addr', 'show'])) as IpLink[];
  return links.map((l) => ({
    ifname: l.ifname,
    kind: l.linkinfo?.info_kind ?? (l.ifname === 'lo' ? 'loopback' : 'device'),
    mac: (l.address ?? '').toLowerCase(),
    master: l.master ?? '',
    up: (l.flags ?? []).includes('UP'),
    addresses: (addrs.find((a) => a.ifname === l.ifname)?.addr_info ?? []).filter((a) => !isLinkLocal(a.local)).map((a) => `${a.local}/${a.prefixlen}`),
  }));
}

function isLinkLocal(address: string): boolean {
  const a = address.toLowerCase();
  return a.startsWith('fe80:') || a.startsWith('ff');
}

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  table?: string;
  type?: string;
  protocol?: string;
  scope?: string;
}

/** Routes of every table, both families: `table dst via dev`. */
export function routesIn(ns?: string): IpRoute[] {
  const out: IpRoute[] = [];
  for (const family of ['-4', '-6']) out.push(...JSON.parse(must('ip', [...nsArgs(ns), family, '-j', 'route', 'show', 'table', 'all'])) as IpRoute[]);
  return out.filter((r) => !isLinkLocal(r.dst) && !(r.dst.startsWith('fe80') || r.dst === 'ff00::/8' || r.dst.startsWith('ff')));
}

export const routeText = (r: IpRoute): string => `${r.type ?? 'unicast'} ${r.dst}${r.gateway === undefined ? '' : ` via ${r.gateway}`}${r.dev === undefined ? '' : ` dev ${r.dev}`} table ${r.table ?? 'main'}`;

/** A host link's /sys/class/net/NAME/addr_assign_type (0 permanent, 1 random, 2 stolen, 3 set), or -1. */
export function addrAssignType(ifname: string): number {
  try {
    return Number(readFileSync(`/sys/class/net/${ifname}/addr_assign_type`, 'utf8').trim());
  } catch {
    return -1;
  }
}

/** Ping `address` once from inside `ns` (a /run/netns name); true when answered. */
export function ping(ns: string, address: string): boolean {
  const v6 = address.includes(':');
  return run('ip', ['netns', 'exec', ns, 'ping', ...(v6 ? ['-6'] : []), '-c', '1', '-W', '2', address]).status === 0;
}

/** Delete an address from a link inside a namespace (tampering for CHECK). */
export function delAddress(ns: string, ifname: string, cidr: string): void {
  must('ip', ['-n', ns, 'addr', 'del', cidr, 'dev', ifname]);
}

export interface Snapshot {
  links: string[];
  addresses: string[];
  routes: string[];
  nft: string[];
  files: string[];
}

function nftLines(ns?: string): string[] {
  const res = ns === undefined ? run('nft', ['list', 'ruleset']) : run('ip', ['netns', 'exec', ns, 'nft', 'list', 'ruleset']);
  if (res.status !== 0) return [`(nft list ruleset failed: ${res.stderr.trim()})`];
  return res.stdout.split('\n').map((l) => l.trim().replace(/counter packets \d+ bytes \d+/g, 'counter')).filter((l) => l !== '' && l !== '}');
}

function listFiles(dir: string, ignore: RegExp, prefix = dir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const rel = path.slice(prefix.length + 1);
    if (ignore.test(rel)) continue;
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      continue;
    }
    if (isDir) out.push(...listFiles(path, ignore, prefix));
    else out.push(`${prefix}/${rel}`);
  }
  return out;
}

/**
 * A normalized snapshot of a namespace (undefined: the host): link names and kinds with
 * their master (veth names are random, but a leaked one must show), global addresses,
 * routes, the nft ruleset, and the files of the state directories given.
 */
export function snapshot(ns: string | undefined, stateDirs: string[] = [], ignore = /^$/, withNft = true): Snapshot {
  const links = linksIn(ns).filter((l) => l.ifname !== 'lo');
  const lo = linksIn(ns).find((l) => l.ifname === 'lo');
  return {
    links: links.map((l) => `${l.ifname} ${l.kind}${l.master === '' ? '' : ` master ${l.master}`}`).sort(),
    addresses: [...links, ...(lo === undefined ? [] : [{ ...lo, addresses: lo.addresses.filter((a) => a !== '127.0.0.1/8' && a !== '::1/128') }])]
      .flatMap((l) => l.addresses.map((a) => `${a} dev ${l.ifname}`)).sort(),
    routes: routesIn(ns).map(routeText).filter((r) => !/ dev lo table local$/.test(r) || !/(127\.|::1)/.test(r)).sort(),
    nft: withNft ? nftLines(ns) : [],
    files: stateDirs.flatMap((d) => listFiles(d, ignore)).sort(),
  };
}

/** What `after` has that `before` has not (+) and the reverse (-), per part; empty when equal. */
export function diff(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const part of ['links', 'addresses', 'routes', 'nft', 'files'] as const) {
    const b = new Map<string, number>();
    for (const l of before[part]) b.set(l, (b.get(l) ?? 0) + 1);
    const a = new Map<string, number>();
    for (const l of after[part]) a.set(l, (a.get(l) ?? 0) + 1);
    for (const [l, n] of a) if (n > (b.get(l) ?? 0)) out.push(`${part} +${l}`);
    for (const [l, n] of b) if (n > (a.get(l) ?? 0)) out.push(`${part} -${l}`);
  }
  return out;
}

/** What is left inside a container namespace besides lo: links, addresses, routes. */
export function netnsContent(ns: string): string[] {
  const s = snapshot(ns, [], /^$/, false);
  return [...s.links.map((l) => `link ${l}`), ...s.addresses.map((a) => `address ${a}`), ...s.routes.filter((r) => !r.includes(' dev lo ')).map((r) => `route ${r}`)];
}
