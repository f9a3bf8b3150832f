/**
 * Layer: managed.
 *
 * Static routes, gateways and permanent neighbours of a recorded sandbox, recorded so that
 * restore can rebuild them. Input is checked before the kernel is touched.
 */
import { NsboxError } from '../errors.js';
import { cidrText, parseIp, parseNetwork } from '../net/cidr.js';
import { checkEthernetMac } from '../netlink/wire/mac.js';
import type { SandboxRecord } from '../store/index.js';
import { withAdopted } from './adopt.js';
import type { StateRoot } from './root.js';

export interface RouteSpec {
  /** 'network/len', host bits clear. */
  destination: string;
  nextHop: string;
}

/** A route checked and in canonical form: the destination a network, the next hop of its family. */
export function checkRoute(route: RouteSpec, what = { destination: 'route destination', nextHop: 'next hop address' }): RouteSpec {
  const network = parseNetwork(route.destination, what.destination);
  const hop = parseIp(route.nextHop, what.nextHop);
  if (network.family !== hop.family) {
    throw new TypeError(`${what.nextHop} ${route.nextHop} is not in the address family of ${route.destination}`);
  }
  return { destination: cidrText(network), nextHop: route.nextHop };
}

const sameRoute = (a: RouteSpec, b: RouteSpec): boolean => a.destination === b.destination && a.nextHop === b.nextHop;

/** Add a static route through a next hop. */
export async function addRoute(root: StateRoot, name: string, spec: RouteSpec): Promise<RouteSpec> {
  const route = checkRoute(spec);
  return withAdopted(root, name, async ({ sandbox }, rec) => {
    if (rec.config.routes.some((r) => sameRoute(r, route))) {
      throw new NsboxError(`sandbox ${name} already has a route to ${route.destination} via ${route.nextHop}`, 'NSBOX_ERR_EXISTS');
    }
    await sandbox.addStaticRoute(route);
    root.records.update(name, (c) => { c.routes.push(route); });
    return route;
  });
}

/** Remove a recorded static route. */
export async function removeRoute(root: StateRoot, name: string, spec: RouteSpec): Promise<RouteSpec> {
  const route = checkRoute(spec);
  return withAdopted(root, name, async ({ sandbox }, rec) => {
    const recorded = rec.config.routes.find((r) => sameRoute(r, route));
    if (recorded === undefined) throw new NsboxError(`sandbox ${name} has no route to ${route.destination} via ${route.nextHop}`, 'NSBOX_ERR_NOT_FOUND');
    // Already gone from the kernel (its interface went, or a command was killed after the kernel change): only the record is left.
    const inKernel = (await sandbox.netlink.route.list()).some((r) => r.gateway === recorded.nextHop && (r.destination === recorded.destination || (r.destination === 'default' && /\/0$/.test(recorded.destination))));
    if (inKernel) await sandbox.removeStaticRoute(recorded);
    root.records.update(name, (c) => { c.routes = c.routes.filter((r) => !sameRoute(r, route)); });
    return route;
  });
}

export interface Gateways {
  gateway: string | undefined;
  gatewayIPv6: string | undefined;
}

/** Set (or replace) the default gateway of the address's family. */
export async function setGateway(root: StateRoot, name: string, ip: string): Promise<Gateways> {
  const { family } = parseIp(ip, 'gateway');
  return withAdopted(root, name, async ({ sandbox }) => {
    if (family === 4) {
      await sandbox.unsetGateway();
      await sandbox.setGateway(ip);
    } else {
      await sandbox.unsetGatewayIPv6();
      await sandbox.setGatewayIPv6(ip);
    }
    const rec = root.records.update(name, (c) => {
      if (family === 4) c.gateway = ip;
      else c.gatewayIPv6 = ip;
    });
    return { gateway: rec?.config.gateway, gatewayIPv6: rec?.config.gatewayIPv6 };
  });
}

/** Remove the default gateway of one family (4 or 6), or of both. */
export async function unsetGateway(root: StateRoot, name: string, family?: 4 | 6): Promise<Gateways> {
  return withAdopted(root, name, async ({ sandbox }) => {
    if (family !== 6) await sandbox.unsetGateway();
    if (family !== 4) await sandbox.unsetGatewayIPv6();
    const rec = root.records.update(name, (c) => {
      if (family !== 6) c.gateway = undefined;
      if (family !== 4) c.gatewayIPv6 = undefined;
    });
    return { gateway: rec?.config.gateway, gatewayIPv6: rec?.config.gatewayIPv6 };
  });
}

export interface NeighborSpec {
  ip: string;
  mac: string;
  /** The interface (its name inside, or its source name); needed when the sandbox has several. */
  dev?: string;
}

/** The srcName of the interface `dev` names (its name inside or its source name). */
function interfaceOf(rec: SandboxRecord, dev: string | undefined): string {
  const ready = rec.config.interfaces.filter((i) => i.state === 'ready');
  if (dev === undefined) {
    if (ready.length === 1) return ready[0]!.srcName;
    throw new TypeError(`sandbox ${rec.name} has ${ready.length} interfaces: say which one the neighbour is on`);
  }
  const row = ready.find((i) => i.dstName === dev) ?? ready.find((i) => i.srcName === dev);
  if (row === undefined) throw new NsboxError(`sandbox ${rec.name} has no interface ${dev}`, 'NSBOX_ERR_NOT_FOUND');
  return row.srcName;
}

/** A permanent neighbour entry, as recorded: { ip, mac, linkName } (linkName: the interface's source name). */
export interface Neighbor {
  ip: string;
  mac: string;
  linkName: string;
}

function checkNeighbor(spec: NeighborSpec): { ip: string; mac: string } {
  parseIp(spec.ip, 'neighbour address');
  checkEthernetMac(spec.mac);
  return { ip: spec.ip, mac: spec.mac.toLowerCase() };
}

/** Add a permanent neighbour (ARP/NDP) entry. */
export async function addNeighbor(root: StateRoot, name: string, spec: NeighborSpec): Promise<Neighbor> {
  const { ip, mac } = checkNeighbor(spec);
  return withAdopted(root, name, async ({ sandbox }, rec) => {
    const linkName = interfaceOf(rec, spec.dev);
    await sandbox.addNeighbor(ip, mac, { linkName });
    root.records.update(name, (c) => { c.neighbors.push({ ip, mac, linkName }); });
    return { ip, mac, linkName };
  });
}

/** Remove a permanent neighbour entry. */
export async function removeNeighbor(root: StateRoot, name: string, spec: NeighborSpec): Promise<Neighbor> {
  const { ip, mac } = checkNeighbor(spec);
  return withAdopted(root, name, async ({ sandbox }, rec) => {
    const linkName = interfaceOf(rec, spec.dev);
    await sandbox.deleteNeighbor(ip, mac, { linkName });
    root.records.update(name, (c) => { c.neighbors = c.neighbors.filter((n) => !(n.ip === ip && n.mac === mac && n.linkName === linkName)); });
    return { ip, mac, linkName };
  });
}
