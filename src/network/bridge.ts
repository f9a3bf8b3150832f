/**
 * Layer: network.
 *
 * The bridge driver: a host bridge holding the gateway addresses (made, or adopted when it
 * exists), and per sandbox a veth whose sandbox end is born inside the namespace and whose
 * host end is a port of the bridge. A network given no IPv4 subnet gets a free /16 (unless its
 * addresses come from an IPAM plugin), and no subnet may overlap a host route.
 */
import { NetlinkError, ConfigError } from '../errors.js';
import { cidrText, subnetsOverlap } from '../net/cidr.js';
import { checkLinkName } from '../netlink/route/ops/index.js';
import { IFF } from '../netlink/route/schema/constants.js';
import type { NetworkRecord } from '../store/index.js';
import { asConfigError } from './config-error.js';
import { addBridgePort, bridgePortHostLinks, removeBridgePort } from './bridge-port.js';
import type { CreateRequest, DriverConfig, DriverContext, DriverPlan, LinkRequest, NetworkDriver } from './driver.js';
import { deleteLink } from './link-deletion.js';
import { foreignRoutes, pickFreeSubnet } from './host-routes.js';
import { parseSubnet, randomMac } from './ipam.js';
import { bridgeTag, defaultBridgeName } from './names.js';

async function validate({ name, options, subnets }: CreateRequest, ctx: DriverContext): Promise<DriverPlan> {
  const bridge = options.bridgeName ?? defaultBridgeName(name);
  asConfigError('bridge', () => checkLinkName(bridge, 'bridge name'));
  const routes = await foreignRoutes(ctx.host(), () => new Set(ctx.networks().flatMap((n) => n.config.bridge ?? [])));
  const others = ctx.networks();
  const all = [...subnets];
  if (!all.some((s) => s.family === 4) && options.ipamPlugin === undefined) {
    const taken = [...routes.map((r) => r.subnet), ...others.flatMap((n) => n.config.subnets.map((s) => parseSubnet(s.subnet)))];
    all.unshift(parseSubnet(pickFreeSubnet(taken)));
  }
  for (const r of routes) {
    const clash = all.find((s) => subnetsOverlap(s, r.subnet));
    if (clash) throw new ConfigError(`subnet ${clash.cidr} overlaps the host route ${cidrText(r.subnet)} on ${r.dev}`, 'subnet');
  }
  const existing = await ctx.host().link.find({ name: bridge });
  if (existing !== undefined && existing.info?.kind !== 'bridge') throw new ConfigError(`${bridge} exists in the host and is not a bridge`, 'bridge');
  // An existing bridge is nsbox's to delete only if nsbox made it for this network (its tag).
  const managedBridge = existing === undefined || existing.alias === bridgeTag(ctx.scope, name);
  return { subnets: all, config: { bridge, managedBridge } };
}

function conflict(config: DriverConfig, other: NetworkRecord): ConfigError | undefined {
  if (config.bridge !== undefined && other.config.bridge === config.bridge) return new ConfigError(`bridge ${config.bridge} is already used by network ${other.name}`, 'bridge');
  return undefined;
}

/** The bridge's IPv6 link-local address, on every managed bridge of a network with IPv6. */
const BRIDGE_LINK_LOCAL = 'fe80::1/64';

/** The bridge exists, is tagged if nsbox manages it, is up and holds the gateways. */
async function setUp(network: NetworkRecord, ctx: DriverContext): Promise<boolean> {
  const name = network.config.bridge;
  if (name === undefined) return false;
  const host = ctx.host();
  let made = false;
  let br = await host.link.find({ name });
  if (br === undefined) {
    try {
      // A MAC of its own (the kernel then marks it set): a bridge without one takes the lowest
      // of its ports' and changes it as containers come and go, leaving results and the
      // containers' neighbour entries for the gateway stale. No link-local address of the
      // kernel's making either (see below).
      await host.link.add({ name, kind: 'bridge', mtu: network.config.mtu, up: true, address: randomMac(), addrGenMode: 'none' });
      made = true;
    } catch (err) {
      if (!(err instanceof NetlinkError && err.code === 'EEXIST')) throw err; // else another process made it meanwhile
    }
    br = await host.link.get({ name });
  }
  const tag = bridgeTag(ctx.scope, network.name);
  if (network.config.managedBridge && br.alias !== tag) await host.link.set({ index: br.index }, { alias: tag });
  if (!(br.flags & IFF.UP)) await host.link.set({ index: br.index }, { up: true });
  for (const s of network.config.subnets) {
    const { family, prefixLen } = parseSubnet(s.subnet);
    await host.addr.replace({ index: br.index, address: cidrText({ address: s.gateway, prefixLen }), nodad: family === 6 });
  }
  // The host resolves a sandbox's IPv6 address (a forwarded or DNATed packet for it) with a
  // neighbour solicitation sent from the bridge's link-local address. One the kernel makes is
  // tentative (DAD) for 1-2 s after the first port comes up, and no solicitation leaves until it
  // is not: a connection to a port published on a fresh network waited that long, or timed out.
  // A fixed fe80::1 without DAD (as moby's bridge has) is usable at once.
  if (network.config.managedBridge && network.config.subnets.some((s) => parseSubnet(s.subnet).family === 6)) {
    await host.addr.replace({ index: br.index, address: BRIDGE_LINK_LOCAL, nodad: true });
  }
  return made;
}

/** A veth: the sandbox end born inside, the host end a port of the bridge. */
async function attach(network: NetworkRecord, link: LinkRequest, ctx: DriverContext): Promise<{ hostIf: string }> {
  await setUp(network, ctx);
  const host = ctx.host();
  const br = await host.link.get({ name: network.config.bridge! });
  const hostIf = await addBridgePort(host, br.index, network, link);
  // Hairpin: with br_netfilter, a sandbox reaching its own published port gets the DNAT'ed
  // frame back through the port it came in on.
  if (link.hairpin !== false) await host.link.set({ name: hostIf }, { bridgePort: { hairpin: true } });
  return { hostIf };
}

async function tearDown(network: NetworkRecord, ctx: DriverContext): Promise<void> {
  if (network.config.managedBridge && network.config.bridge !== undefined) await deleteLink(ctx.host(), network.config.bridge);
}

export const bridgeDriver: NetworkDriver = { name: 'bridge', validate, conflict, setUp, attach, hostLinks: bridgePortHostLinks, detach: removeBridgePort, tearDown };
