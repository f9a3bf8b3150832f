/**
 * Test helper: iproute2 as the oracle. Runs `ip -j …` (optionally `ip -n NAME …`) and parses
 * its JSON, so tests check what the kernel holds without going through nsbox's own code.
 */
import { execFileSync, spawnSync } from 'node:child_process';

/** Run `ip [-n ns] args…` and return stdout; throws with stderr on failure. */
export function ip(ns: string | undefined, ...args: string[]): string {
  const argv = ns === undefined ? args : ['-n', ns, ...args];
  return execFileSync('ip', argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Run `ip [-n ns] args…` and report success/failure without throwing. */
export function ipTry(ns: string | undefined, ...args: string[]): { ok: boolean; stderr: string } {
  const argv = ns === undefined ? args : ['-n', ns, ...args];
  const res = spawnSync('ip', argv, { encoding: 'utf8' });
  return { ok: res.status === 0, stderr: res.stderr };
}

/** `ip -j [-d] [-n ns] args…` parsed. */
export function ipJson<T = Record<string, unknown>[]>(ns: string | undefined, ...args: string[]): T {
  const out = ip(ns, '-j', ...args).trim();
  return (out === '' ? [] : JSON.parse(out)) as T;
}

export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  address?: string;
  master?: string;
  link?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string };
  stats64?: { rx: Record<string, number>; tx: Record<string, number> };
  group?: string;
  txqlen?: number;
  ifalias?: string;
}

/**
 * A veth pair `name`/`peer` in namespace `ns`, both up, `name` holding `ipv4` and `ipv6`
 * (nodad). No link-local addresses (addrgenmode none): nothing appears later, when DAD would
 * end. Returns both ifindexes.
 */
export function wiredVeth(ns: string, name: string, peer: string, ipv4: string, ipv6: string): { index: number; peerIndex: number } {
  ip(ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', peer);
  ip(ns, 'link', 'set', name, 'addrgenmode', 'none');
  ip(ns, 'link', 'set', peer, 'addrgenmode', 'none');
  ip(ns, 'addr', 'add', ipv4, 'dev', name);
  ip(ns, 'addr', 'add', ipv6, 'dev', name, 'nodad');
  ip(ns, 'link', 'set', name, 'up');
  ip(ns, 'link', 'set', peer, 'up');
  const index = (dev: string): number => ipJson<{ ifindex: number }[]>(ns, 'link', 'show', dev)[0]?.ifindex ?? 0;
  return { index: index(name), peerIndex: index(peer) };
}

export function ipLinks(ns: string | undefined): IpLink[] {
  return ipJson<IpLink[]>(ns, '-d', '-s', 'link', 'show');
}

export function ipLink(ns: string | undefined, name: string): IpLink | undefined {
  return ipLinks(ns).find((l) => l.ifname === name);
}

export interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
  label?: string;
  nodad?: boolean;
  tentative?: boolean;
  noprefixroute?: boolean;
  broadcast?: string;
}

export function ipAddrs(ns: string | undefined, dev: string): IpAddrInfo[] {
  const [entry] = ipJson<{ addr_info: IpAddrInfo[] }[]>(ns, 'addr', 'show', 'dev', dev);
  return entry?.addr_info ?? [];
}

export interface IpRoute {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  table?: string;
  prefsrc?: string;
  flags?: string[];
}

/**
 * `ip -j -d [-4|-6] -n ns route show table T` (T: a number, 'main', 'local' or 'all'). With -d,
 * iproute2 prints type, protocol and scope always (without, it leaves out the defaults).
 */
export function ipRoutes(ns: string, table: string | number = 'main', family?: 4 | 6): IpRoute[] {
  const fam = family === undefined ? [] : [`-${family}`];
  return ipJson<IpRoute[]>(ns, '-d', ...fam, 'route', 'show', 'table', String(table));
}

/** `ip -j -n ns route get DST [args…]`: the kernel's lookup as iproute2 reports it. */
export function ipRouteGet(ns: string, dst: string, ...args: string[]): IpRoute & { uid?: number } {
  const [route] = ipJson<(IpRoute & { uid?: number })[]>(ns, 'route', 'get', dst, ...args);
  if (route === undefined) throw new Error(`ip route get ${dst}: no answer`);
  return route;
}

export interface IpNeigh {
  dst: string;
  dev: string;
  lladdr?: string;
  state?: string[];
  router?: null;
}

/** `ip -j -n ns neigh show [args…]` (both families). */
export function ipNeighs(ns: string, ...args: string[]): IpNeigh[] {
  return ipJson<IpNeigh[]>(ns, 'neigh', 'show', ...args);
}

export interface BridgeFdb {
  mac: string;
  ifname: string;
  dst?: string;
  master?: string;
  vlan?: number;
  vni?: number;
  flags: string[];
  state: string;
}

/** `bridge -j -n ns fdb show [args…]` parsed. */
export function bridgeFdb(ns: string, ...args: string[]): BridgeFdb[] {
  const out = execFileSync('bridge', ['-j', '-n', ns, 'fdb', 'show', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  return (out === '' ? [] : JSON.parse(out)) as BridgeFdb[];
}

/** `ip -j -n ns netns list-id`: the ids this namespace gives its peers (with their names). */
export function ipNsids(ns: string): { nsid: number; name?: string }[] {
  return ipJson<{ nsid: number; name?: string }[]>(ns, 'netns', 'list-id');
}

/**
 * `nsenter --net=KEY ip -j args…` parsed: iproute2 inside the namespace bound to any file
 * (a sandbox key), without the /run/netns name that `ip -n` needs.
 */
export function ipIn<T = Record<string, unknown>[]>(key: string, ...args: string[]): T {
  const out = execFileSync('nsenter', [`--net=${key}`, 'ip', '-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  return (out === '' ? [] : JSON.parse(out)) as T;
}

/** Run any command inside the namespace bound to `key` (`nsenter --net=KEY cmd…`); stdout. */
export function runIn(key: string, cmd: string, ...args: string[]): string {
  return execFileSync('nsenter', [`--net=${key}`, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `ip -j -d -s link show` inside the namespace bound to `key`. */
export function ipLinksIn(key: string): IpLink[] {
  return ipIn<IpLink[]>(key, '-d', '-s', 'link', 'show');
}

/** `ip -j addr show dev DEV` inside the namespace bound to `key` ([] if the link is missing). */
export function ipAddrsIn(key: string, dev: string): IpAddrInfo[] {
  const [entry] = ipIn<{ ifname: string; addr_info: IpAddrInfo[] }[]>(key, 'addr', 'show').filter((e) => e.ifname === dev);
  return entry?.addr_info ?? [];
}

/** `ip -j -d [-4|-6] route show table main` inside the namespace bound to `key`. */
export function ipRoutesIn(key: string, family?: 4 | 6): IpRoute[] {
  const fam = family === undefined ? [] : [`-${family}`];
  return ipIn<IpRoute[]>(key, '-d', ...fam, 'route', 'show', 'table', 'main');
}
