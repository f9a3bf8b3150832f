/**
 * Layer: overlay/dataplane — the desired kernel entries, pure.
 *
 * Checks a desired state (a clear ConfigError naming the field, before anything is written) and
 * turns it into the entries one host holds on its vxlan (docs/overlay.md, "Data plane"):
 *
 * - L3 (flannel, research B2.4): per remote host with blocks, its VTEP address (the network
 *   address of its first block) as a permanent neighbour → its VTEP MAC, an FDB entry VTEP MAC →
 *   its underlay address, and per block a route onlink via the VTEP address (proto 110);
 * - L2 (libnetwork, research B2.3): per remote endpoint a neighbour IP → MAC (answered by the
 *   vxlan's `proxy`) and an FDB entry MAC → the underlay of the host it is on;
 * - both: the allowlist, the underlay addresses VXLAN of this VNI may come from.
 *
 * Entries of this host (same host id or underlay) are skipped; so is a peer's block that
 * overlaps this host's (it would route this host's sandboxes away). When two endpoints claim one
 * IP or one MAC the later one in the list wins (the caller lists them oldest first: a move).
 */
import { ConfigError } from '../../errors.js';
import { cidrText, networkOf, parseIp, parseNetwork, subnetContains, subnetsOverlap, addressRange, bigIntToIp, type Cidr } from '../../net/cidr.js';
import type { OverlayDesired, OverlayNetworkSpec, OverlayLocal } from './types.js';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export interface RoutePlan {
  dst: string;
  gateway: string;
}

/** What one host's kernel should hold for one overlay network, keyed as the kernel reports it. */
export interface OverlayPlan {
  /** L3: destination CIDR → route via gateway. */
  routes: Map<string, RoutePlan>;
  /** neighbour IP → MAC (on the vxlan). */
  neighs: Map<string, string>;
  /** FDB MAC → underlay IPv4 (self, permanent, on the vxlan). */
  fdb: Map<string, string>;
  /** underlay IPv4 sources VXLAN of this network is accepted from. */
  allow: Set<string>;
}

function mac(text: unknown, field: string): string {
  const m = typeof text === 'string' ? text.toLowerCase() : '';
  if (!MAC_RE.test(m)) throw new ConfigError(`${field}: ${JSON.stringify(text)} is not a MAC address (aa:bb:cc:dd:ee:ff)`, field);
  if ((parseInt(m.slice(0, 2), 16) & 1) === 1) throw new ConfigError(`${field}: ${m} is a multicast MAC; a VTEP or endpoint needs a unicast one`, field);
  return m;
}

function ipv4(text: unknown, field: string): string {
  try {
    const ip = parseIp(String(text), field);
    if (ip.family !== 4) throw new Error('IPv6 is not supported on the overlay yet');
    return ip.address;
  } catch (err) {
    throw new ConfigError(`${field}: ${JSON.stringify(text)} is not an IPv4 address (${(err as Error).message})`, field, { cause: err });
  }
}

function net4(text: unknown, field: string): Cidr {
  let c: Cidr;
  try {
    c = parseNetwork(String(text), field, { prefixRequired: true });
  } catch (err) {
    throw new ConfigError(`${field}: ${(err as Error).message}`, field, { cause: err });
  }
  if (c.family !== 4) throw new ConfigError(`${field}: ${String(text)} is IPv6; the overlay is IPv4 only for now`, field);
  return c;
}

/** Check a network's spec: ConfigError naming the field. */
export function checkSpec(spec: OverlayNetworkSpec): Cidr {
  if (spec === null || typeof spec !== 'object') throw new ConfigError('an overlay network spec must be an object', 'network');
  if (typeof spec.name !== 'string' || spec.name.length === 0) throw new ConfigError('network.name: a non-empty string is needed', 'name');
  if (!Number.isInteger(spec.vni) || spec.vni < 1 || spec.vni > 0xffffff) throw new ConfigError(`network.vni: ${String(spec.vni)} is not a VNI (1 to 16777215)`, 'vni');
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) throw new ConfigError(`network.port: ${String(spec.port)} is not a UDP port (1 to 65535)`, 'port');
  if (spec.mode !== 'l3' && spec.mode !== 'l2') throw new ConfigError(`network.mode: ${JSON.stringify(spec.mode)} is not l3 or l2`, 'mode');
  if (spec.mtu !== undefined && (!Number.isInteger(spec.mtu) || spec.mtu < 576 || spec.mtu > 65535)) {
    throw new ConfigError(`network.mtu: ${String(spec.mtu)} is not an MTU (576 to 65535)`, 'mtu');
  }
  const subnet = net4(spec.subnet, 'network.subnet');
  if (!Number.isInteger(spec.blockPrefixLength) || spec.blockPrefixLength < subnet.prefixLen || spec.blockPrefixLength > 30) {
    throw new ConfigError(`network.blockPrefixLength: ${String(spec.blockPrefixLength)} must be from the subnet's /${subnet.prefixLen} to 30`, 'blockPrefixLength');
  }
  return subnet;
}

/** A block of `subnet` of the network's block size; ConfigError naming `field` otherwise. */
function block(text: unknown, subnet: Cidr, spec: OverlayNetworkSpec, field: string): Cidr {
  const b = net4(text, field);
  if (b.prefixLen !== spec.blockPrefixLength || !subnetContains(subnet, b.address)) {
    throw new ConfigError(`${field}: ${cidrText(b)} is not a /${spec.blockPrefixLength} block of ${cidrText(subnet)}`, field);
  }
  return b;
}

/** Check this host's part: its underlay address and block. */
export function checkLocal(spec: OverlayNetworkSpec, local: OverlayLocal): { subnet: Cidr; block: Cidr; underlay: string } {
  const subnet = checkSpec(spec);
  if (local === null || typeof local !== 'object') throw new ConfigError('local: an object with hostId, underlay and block is needed', 'local');
  if (typeof local.hostId !== 'string' || local.hostId.length === 0) throw new ConfigError('local.hostId: a non-empty string is needed', 'hostId');
  return { subnet, block: block(local.block, subnet, spec, 'local.block'), underlay: ipv4(local.underlay, 'local.underlay') };
}

/** The n-th address of a prefix (0: its network address). */
export function nthAddress(c: Cidr, n: number): string {
  return bigIntToIp(addressRange(c).first + BigInt(n), c.family);
}

/** Check `desired` and compute the entries it means for this host. */
export function planOverlay(desired: OverlayDesired): OverlayPlan {
  if (desired === null || typeof desired !== 'object') throw new ConfigError('the desired state must be an object', 'desired');
  const { network: spec } = desired;
  const { subnet, block: localBlock, underlay: localUnderlay } = checkLocal(spec, desired.local);
  if (!Array.isArray(desired.peers)) throw new ConfigError('peers: an array is needed', 'peers');
  const endpoints = desired.endpoints ?? [];
  if (!Array.isArray(endpoints)) throw new ConfigError('endpoints: an array is needed', 'endpoints');
  const isLocal = (hostId: string, underlay: string): boolean => hostId === desired.local.hostId || underlay === localUnderlay;
  const plan: OverlayPlan = { routes: new Map(), neighs: new Map(), fdb: new Map(), allow: new Set() };

  desired.peers.forEach((p, i) => {
    const f = `peers[${i}]`;
    if (p === null || typeof p !== 'object' || typeof p.hostId !== 'string' || p.hostId.length === 0) throw new ConfigError(`${f}.hostId: a non-empty string is needed`, 'hostId');
    const underlay = ipv4(p.underlay, `${f}.underlay`);
    const vtepMac = mac(p.vtepMac, `${f}.vtepMac`);
    if (!Array.isArray(p.blocks)) throw new ConfigError(`${f}.blocks: an array is needed`, 'blocks');
    const blocks = p.blocks.map((b, j) => block(b, subnet, spec, `${f}.blocks[${j}]`));
    if (isLocal(p.hostId, underlay)) return;
    plan.allow.add(underlay);
    if (spec.mode !== 'l3') return;
    const own = blocks.filter((b) => !subnetsOverlap(b, localBlock));
    if (own.length === 0) return;
    const vtepIp = networkOf(own[0]!).address;
    plan.neighs.set(vtepIp, vtepMac);
    plan.fdb.set(vtepMac, underlay);
    for (const b of own) plan.routes.set(cidrText(b), { dst: cidrText(b), gateway: vtepIp });
  });

  if (spec.mode === 'l2') {
    // per endpoint, with 32-bit numbers: subnetContains' BigInts were most of a 1000-endpoint plan
    const shift = 32 - subnet.prefixLen;
    const v4 = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    const net = shift === 32 ? 0 : Math.floor(v4(subnet.address) / 2 ** shift);
    const inSubnet = (a: string): boolean => shift === 32 || Math.floor(v4(a) / 2 ** shift) === net;
    const byMac = new Map<string, string>();
    endpoints.forEach((e, i) => {
      const f = `endpoints[${i}]`;
      if (e === null || typeof e !== 'object') throw new ConfigError(`${f}: an object is needed`, 'endpoints');
      const ip = ipv4(e.ip, `${f}.ip`);
      const m = mac(e.mac, `${f}.mac`);
      const underlay = ipv4(e.underlay, `${f}.underlay`);
      if (!inSubnet(ip)) throw new ConfigError(`${f}.ip: ${ip} is not in the network's subnet ${cidrText(subnet)}`, 'ip');
      if (isLocal(String(e.hostId), underlay)) {
        // a sandbox of this host (perhaps one that moved here): no entries on the vxlan
        const old = byMac.get(m);
        if (old !== undefined) plan.neighs.delete(old);
        byMac.delete(m);
        plan.neighs.delete(ip);
        plan.fdb.delete(m);
        return;
      }
      const oldIp = byMac.get(m);
      if (oldIp !== undefined && oldIp !== ip) plan.neighs.delete(oldIp);
      plan.neighs.set(ip, m);
      byMac.set(m, ip);
      plan.fdb.set(m, underlay);
      plan.allow.add(underlay);
    });
    // an IP taken over by a later MAC leaves the earlier MAC's FDB entry without a neighbour: keep only MACs still named
    const named = new Set(plan.neighs.values());
    for (const m of [...plan.fdb.keys()]) if (!named.has(m)) plan.fdb.delete(m);
  }
  return plan;
}

/** The block's gateway: its first usable address ('10.244.1.0/24' → 10.244.1.1). */
export function blockGateway(block: Cidr): string {
  return nthAddress(block, 1);
}

