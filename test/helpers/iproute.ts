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
  noprefixroute?: boolean;
  broadcast?: string;
}

export function ipAddrs(ns: string | undefined, dev: string): IpAddrInfo[] {
  const [entry] = ipJson<{ addr_info: IpAddrInfo[] }[]>(ns, 'addr', 'show', 'dev', dev);
  return entry?.addr_info ?? [];
}
