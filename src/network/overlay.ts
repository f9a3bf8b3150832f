/**
 * Layer: network.
 *
 * The overlay driver (docs/overlay.md): a network shared by hosts over VXLAN, whose definition
 * and address blocks live in etcd (src/overlay/, which claims this host's block before it
 * creates the record with `overlay` in its options). Here only this host's side: the devices
 * (the vxlan device and the local bridge, made by the overlay data plane,
 * src/overlay/dataplane/) and per sandbox a veth whose host end is a port of that bridge, as
 * the bridge driver does. L3 mode: the record's subnet is this host's block, its gateway on
 * the local bridge, other blocks routed through the vxlan device. L2 mode: the record's subnet
 * is the whole network's (one broadcast domain), addresses leased from this host's block (a
 * static one may be any of the subnet: an endpoint moving between hosts), the sandbox's MAC
 * pinned to its bridge port.
 * The MTU is the underlay link's less the VXLAN overhead (50 bytes over IPv4) unless given.
 */
import { ConfigError } from '../errors.js';
import { basePath } from '../sandbox/index.js';
import { addressRange, parseNetwork, subnetContains } from '../net/cidr.js';
import { NUD } from '../netlink/route/ops/neigh.js';
import type { NetworkRecord, OverlayConfig } from '../store/index.js';
import { ensureOverlayDevices, removeOverlayDevices, type OverlayLocal, type OverlayNetworkSpec } from '../overlay/dataplane/index.js';
import { addBridgePort, bridgePortHostLinks, removeBridgePort } from './bridge-port.js';
import { type CreateRequest, type DriverConfig, type DriverContext, type DriverPlan, type LinkRequest, type NetworkDriver } from './driver.js';
import { parseSubnet } from './ipam.js';

/** VXLAN over IPv4: outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
export const VXLAN_OVERHEAD_V4 = 50;

/** The data plane's view of a network record. */
export function overlaySpec(name: string, o: OverlayConfig, mtu?: number): OverlayNetworkSpec {
  return { name, vni: o.vni, subnet: o.subnet, blockPrefixLength: o.blockPrefixLength, mode: o.mode, mtu: mtu ?? o.mtu, port: o.port };
}

/** The scope this root's overlay devices are tagged with: its namespace directory, as its bridges' (bridgeTag). */
export function overlayOwner(): string {
  return basePath();
}

/** This host's part of a network record, as the data plane takes it. */
export function overlayLocal(o: OverlayConfig): OverlayLocal {
  return { hostId: o.hostId, underlay: o.underlay, block: o.block, owner: overlayOwner() };
}

function requireOverlay(network: NetworkRecord): OverlayConfig {
  const o = network.config.overlay;
  if (o === undefined) throw new ConfigError(`network ${network.name} has no overlay settings`, 'driver');
  return o;
}

async function validate({ options }: CreateRequest, ctx: DriverContext): Promise<DriverPlan> {
  const o = options.overlay;
  if (o === undefined) throw new ConfigError('an overlay network is created against etcd: nsbox network create NET --driver overlay --etcd URL [--subnet CIDR]', 'driver');
  const subnet = parseSubnet(o.subnet);
  const block = parseSubnet(o.block);
  if (subnet.family !== 4) throw new ConfigError(`overlay subnet ${o.subnet}: IPv4 only`, 'subnet');
  if (!subnetContains(subnet, block.address) || block.prefixLen < subnet.prefixLen) throw new ConfigError(`block ${o.block} is not inside ${o.subnet}`, 'subnet');
  // the underlay address must be this host's: the vxlan device's `local` and `dev`
  const addrs = await ctx.host().addr.list({ family: 4 });
  const held = addrs.find((a) => (a.local ?? a.address) === o.underlay);
  if (held === undefined) throw new ConfigError(`underlay address ${o.underlay} is not on any link of this host (give --underlay ADDR)`, 'underlay');
  let mtu = options.mtu ?? o.mtu;
  if (mtu === undefined) {
    const link = await ctx.host().link.get({ index: held.index });
    mtu = (link.mtu ?? 1500) - VXLAN_OVERHEAD_V4;
  }
  return { subnets: [o.mode === 'l3' ? block : subnet], config: { overlay: o }, mtu };
}

function conflict(config: DriverConfig, other: NetworkRecord): ConfigError | undefined {
  const mine = config.overlay;
  const theirs = other.config.overlay;
  if (mine !== undefined && theirs !== undefined && mine.vni === theirs.vni) return new ConfigError(`VNI ${mine.vni} is already used by overlay network ${other.name}`, 'vni');
  return undefined;
}

async function setUp(network: NetworkRecord, ctx: DriverContext): Promise<boolean> {
  const o = requireOverlay(network);
  await ensureOverlayDevices(overlaySpec(network.name, o, network.config.mtu), overlayLocal(o), { rtnl: ctx.host() });
  return false;
}

/** A veth: the sandbox end born inside, the host end a port of the network's local bridge. */
async function attach(network: NetworkRecord, link: LinkRequest, ctx: DriverContext): Promise<{ hostIf: string; sysctls?: string[] }> {
  const o = requireOverlay(network);
  const devices = await ensureOverlayDevices(overlaySpec(network.name, o, network.config.mtu), overlayLocal(o), { rtnl: ctx.host() });
  const host = ctx.host();
  const br = await host.link.get({ name: devices.bridge });
  const hostIf = await addBridgePort(host, br.index, network, link);
  if (o.mode === 'l2') {
    // the sandbox's MAC pinned to its port (static, sticky): it replaces an entry the bridge
    // learned on the vxlan port while this address lived on another host (an endpoint moved
    // here), which would send its traffic back to the vxlan port (dropped) until the entry aged
    // out (300 s), and frames from the old place (make before break) cannot move it back there
    // (learning moves a static entry that is not sticky); the entry goes with the port
    const port = await host.link.get({ name: hostIf });
    await host.neigh.replace({ family: 'bridge', index: port.index!, lladdr: link.mac, master: true, sticky: true, state: NUD.NOARP });
    return { hostIf, sysctls: l2NeighbourSysctls(link.ifname) };
  }
  return { hostIf };
}

/**
 * L2: the sandbox asks again every 100 ms (not every second) for an address nobody answered,
 * 30 times (3 s in all, as the defaults). Its ARP is answered by the vxlan device from the
 * agent's neighbour entries (proxy), and nothing crosses the underlay, so an endpoint asked
 * for before its entries reached this host (a few ms after its connect elsewhere) is reached
 * within 100 ms of them, not at the next retry a second later (bench/overlay-converge).
 */
function l2NeighbourSysctls(ifname: string): string[] {
  return [`net.ipv4.neigh.${ifname}.retrans_time_ms=100`, `net.ipv4.neigh.${ifname}.mcast_solicit=30`];
}

async function tearDown(network: NetworkRecord, ctx: DriverContext): Promise<void> {
  const o = network.config.overlay;
  if (o !== undefined) await removeOverlayDevices(overlaySpec(network.name, o, network.config.mtu), { rtnl: ctx.host() });
}

/** Whether `address` may be leased on an overlay network: inside this host's block. */
export function inBlock(o: OverlayConfig, address: string): boolean {
  return subnetContains(parseNetwork(o.block, 'block', { prefixRequired: true }), address);
}

/**
 * Why a static address (--ip) may not be taken on this host, or undefined. L3: it must be in
 * this host's block (the others are routed to their hosts). L2 (one broadcast domain): anywhere
 * in the subnet but a block's network address or gateway (another host's bridge): an endpoint
 * moving between hosts keeps its address (and so its MAC); the agent publishes it only while no
 * other host's record holds it (agent-loop.ts), so a duplicate is reported, never fought over.
 */
export function staticAddressProblem(o: OverlayConfig, address: string): string | undefined {
  if (o.mode === 'l3') return inBlock(o, address) ? undefined : `address ${address} is outside this host's block ${o.block}`;
  const offset = addressRange(parseNetwork(`${address}/32`, 'ip', { prefixRequired: true })).first & ((1n << BigInt(32 - o.blockPrefixLength)) - 1n);
  return offset < 2n ? `address ${address} is the network address or gateway of a block of /${o.blockPrefixLength} (a host's bridge)` : undefined;
}

export const overlayDriver: NetworkDriver = { name: 'overlay', validate, conflict, setUp, attach, hostLinks: bridgePortHostLinks, detach: removeBridgePort, tearDown };
