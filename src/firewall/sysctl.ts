/**
 * Layer: firewall.
 *
 * The host's sysctls that NAT and published ports need, written in this process's network
 * namespace (the host's): IPv4 forwarding; IPv6 forwarding, after raising accept_ra from 1 to 2
 * on every interface that takes router advertisements (forwarding=1 would make the kernel
 * ignore them, and the host would lose its SLAAC routes); and route_localnet on a network's
 * bridge only (published ports reached at 127.0.0.1), never on "all". Every change to a host-wide
 * knob is recorded with its previous value (store/host-settings.ts), so nsbox says it once.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { NsboxError } from '../errors.js';
import type { HostSettings } from '../store/index.js';

const PROC = '/proc/sys/net';

function read(path: string): string {
  return readFileSync(`${PROC}/${path}`, 'utf8').trim();
}

function write(path: string, value: string): void {
  try {
    writeFileSync(`${PROC}/${path}`, `${value}\n`);
  } catch (err) {
    throw new NsboxError(`cannot set net/${path} to ${value}: ${(err as Error).message}`, 'NSBOX_ERR_SYSCTL', { cause: err });
  }
}

/** A host knob nsbox changed: its name (sysctl form), and what it was. */
export interface HostChange {
  key: string;
  previous: string;
  value: string;
  /** True the first time nsbox changed this knob (say so to the user once). */
  first: boolean;
}

/** Set a host knob if it differs, recording the change; undefined when it already had the value. */
function ensure(settings: HostSettings, path: string, value: string): HostChange | undefined {
  const previous = read(path);
  if (previous === value) return undefined;
  write(path, value);
  const key = `net.${path.replaceAll('/', '.')}`;
  return { key, previous, value, first: settings.record(key, previous, value) };
}

/** IPv4 forwarding on (NAT needs it); the change, if one was made. */
export function enableIPv4Forwarding(settings: HostSettings): HostChange[] {
  const change = ensure(settings, 'ipv4/ip_forward', '1');
  return change === undefined ? [] : [change];
}

/**
 * IPv6 forwarding on, safely: every interface whose accept_ra is 1 first gets 2 (keep taking
 * router advertisements while forwarding), then all.forwarding=1.
 */
export function enableIPv6Forwarding(settings: HostSettings): HostChange[] {
  const changes: HostChange[] = [];
  if (read('ipv6/conf/all/forwarding') === '1') return changes;
  for (const name of readdirSync(`${PROC}/ipv6/conf`)) {
    if (name === 'all' || name === 'default' || name === 'lo') continue; // lo never hears a router
    if (read(`ipv6/conf/${name}/accept_ra`) !== '1') continue;
    const change = ensure(settings, `ipv6/conf/${name}/accept_ra`, '2');
    if (change !== undefined) changes.push(change);
  }
  const forwarding = ensure(settings, 'ipv6/conf/all/forwarding', '1');
  if (forwarding !== undefined) changes.push(forwarding);
  return changes;
}

/** route_localnet=1 on a network's bridge: 127.0.0.1 reaches its published ports. The bridge is nsbox's: not recorded. */
export function enableRouteLocalnet(bridge: string): void {
  if (read(`ipv4/conf/${bridge}/route_localnet`) !== '1') write(`ipv4/conf/${bridge}/route_localnet`, '1');
}
