/**
 * Layer: sandbox.
 *
 * osl route_linux.go: the default gateway (IPv4/IPv6), static routes through a next hop,
 * and default routes bound to an interface (L3 drivers with no next hop).
 */
import { NO_STATS, type RouteOptions } from '../netlink/route/ops/index.js';
import { cidrText, isUnspecified, parseCidr, parseIp } from '../net/cidr.js';
import { SandboxError } from '../errors.js';
import { stateOf } from './interface.js';
import { wrap } from './wrap.js';
import type { SandboxCore } from './core.js';

/** A route through a next hop (osl types.StaticRoute with RouteType NEXTHOP). */
export interface StaticRoute {
  /** 'ip/prefix'. */
  destination: string;
  nextHop: string;
}

/** The interface of the directly connected route the kernel would use to reach `ip`. */
async function directRouteIndex(core: SandboxCore, ip: string, what: string): Promise<number> {
  let route;
  try {
    route = await core.rtnl.route.get({ dst: ip });
  } catch (err) {
    throw wrap(`route for the ${what} ${ip} could not be found`, err);
  }
  if (route.gateway !== undefined || !route.oif) {
    throw new SandboxError(`direct route for the ${what} ${ip} could not be found`, 'NSBOX_ERR_NO_ROUTE');
  }
  return route.oif;
}

/**
 * osl programGateway: add or delete the default route via `gw`, out of the interface of the
 * directly connected route to it. An add is first tried as one request: without an oif the
 * kernel itself takes the interface of the direct route, and refuses a gateway that has
 * none. When that fails, osl's way runs: look the direct route up (its errors say why) and
 * add the route out of its interface — which an IPv6 link-local gateway always needs.
 */
async function programGateway(core: SandboxCore, gw: string, add: boolean): Promise<void> {
  if (add) {
    try {
      await core.rtnl.route.add({ gateway: gw, scope: 'global' });
    } catch {
      const oif = await directRouteIndex(core, gw, 'gateway');
      await core.rtnl.route.add({ gateway: gw, oif, scope: 'global' });
    }
    return;
  }
  const oif = await directRouteIndex(core, gw, 'gateway');
  await core.rtnl.route.del({ gateway: gw, oif, scope: 'global' });
}

export async function setGateway(core: SandboxCore, gw: string | undefined, family: 4 | 6): Promise<void> {
  if (gw === undefined || gw === '') return;
  const ip = parseIp(gw, 'gateway');
  if (ip.family !== family) throw new TypeError(`gateway ${gw} is not an IPv${family} address`);
  await programGateway(core, ip.address, true);
  if (family === 4) core.gateway = ip.address;
  else core.gatewayIPv6 = ip.address;
}

export async function unsetGateway(core: SandboxCore, family: 4 | 6): Promise<void> {
  const gw = family === 4 ? core.gateway : core.gatewayIPv6;
  if (gw === undefined) return;
  await programGateway(core, gw, false);
  if (family === 4) core.gateway = undefined;
  else core.gatewayIPv6 = undefined;
}

/** The route through `r.nextHop` as the kernel would install it (osl: out of the first route to it). */
async function nextHopRoute(core: SandboxCore, r: StaticRoute, notFound: string): Promise<RouteOptions> {
  const dst = parseCidr(r.destination, 'route destination');
  const nh = parseIp(r.nextHop, 'next hop');
  let oif: number;
  try {
    oif = (await core.rtnl.route.get({ dst: nh.address })).oif ?? 0;
  } catch (err) {
    throw wrap(notFound.replace('%s', nh.address), err);
  }
  return { dst: cidrText(dst), gateway: nh.address, oif, scope: 'global' };
}

export async function addStaticRoute(core: SandboxCore, r: StaticRoute): Promise<void> {
  await core.rtnl.route.add(await nextHopRoute(core, r, 'route for the next hop %s could not be found'));
  core.staticRoutes.push(r);
}

/** Removes the route and forgets `r` by identity (the object given to addStaticRoute). */
export async function removeStaticRoute(core: SandboxCore, r: StaticRoute): Promise<void> {
  await core.rtnl.route.del(await nextHopRoute(core, r, 'route for the next hop could not be found'));
  const i = core.staticRoutes.indexOf(r);
  if (i >= 0) {
    core.staticRoutes[i] = core.staticRoutes[core.staticRoutes.length - 1]!;
    core.staticRoutes.pop();
  }
}

function defaultRouteOf(core: SandboxCore, srcName: string, family: 4 | 6): { dstName: string; route: string } {
  const iface = core.ifaces.find((i) => stateOf(i).srcName === srcName);
  if (iface === undefined) throw new SandboxError('no interface', 'NSBOX_ERR_NOT_FOUND');
  const st = stateOf(iface);
  const r = st.routes.find((c) => c.family === family && isUnspecified(c.address));
  if (r === undefined) throw new SandboxError('no default route', 'NSBOX_ERR_NOT_FOUND');
  return { dstName: st.dstName, route: cidrText(r) };
}

/** osl SetDefaultRouteIPv4/IPv6: a scope-link default route out of the interface `srcName`. */
export async function setDefaultRoute(core: SandboxCore, srcName: string, family: 4 | 6): Promise<void> {
  try {
    const { dstName, route } = defaultRouteOf(core, srcName, family);
    const link = await core.rtnl.link.find({ name: dstName }, NO_STATS);
    if (link === undefined) throw new SandboxError(`no link src:${srcName} dst:${dstName}`, 'NSBOX_ERR_NOT_FOUND');
    await core.rtnl.route.add({ dst: route, oif: link.index, scope: 'link' });
  } catch (err) {
    throw wrap(`setting IPv${family} default route to interface with srcName '${srcName}'`, err);
  }
  if (family === 4) core.defRoute4SrcName = srcName;
  else core.defRoute6SrcName = srcName;
}

/** osl UnsetDefaultRouteIPv4/IPv6. Nothing recorded, or the interface gone: nothing to do. */
export async function unsetDefaultRoute(core: SandboxCore, family: 4 | 6): Promise<void> {
  const srcName = family === 4 ? core.defRoute4SrcName : core.defRoute6SrcName;
  if (srcName === undefined || !core.ifaces.some((i) => stateOf(i).srcName === srcName)) return;
  try {
    const { dstName, route } = defaultRouteOf(core, srcName, family);
    const link = await core.rtnl.link.find({ name: dstName }, NO_STATS);
    if (link === undefined) throw new SandboxError('no link', 'NSBOX_ERR_NOT_FOUND');
    await core.rtnl.route.del({ dst: route, oif: link.index, scope: 'link' });
  } catch (err) {
    throw wrap(`removing IPv${family} default route to interface with srcName '${srcName}'`, err);
  }
  if (family === 4) core.defRoute4SrcName = undefined;
  else core.defRoute6SrcName = undefined;
}
