/**
 * Layer: network.
 *
 * Networks with IPAM: a bridge (a host bridge holding the gateway address, a veth per
 * sandbox whose sandbox end is born inside) or macvlan (a link on a parent interface, made
 * directly inside the sandbox). Addresses are leased in the store atomically; MACs derive
 * from the IPv4 address. The first network a sandbox joins gives it its default route.
 */
import { ipVersion } from '../net/ip.js';
import { cidrText, subnetContains, subnetsOverlap, type Cidr } from '../net/cidr.js';
import { ConfigError, NetlinkError, NsboxError } from '../errors.js';
import { Rtnl, checkLinkName, type Link } from '../netlink/route/ops/index.js';
import { AF, IFF, RTN } from '../netlink/route/schema/constants.js';
import { basePath, generateIfaceName, type Interface, type Sandbox } from '../sandbox/index.js';
import { NetworkRecords, openDb, type Db, type Lease, type NetworkConfig, type NetworkRecord } from '../store/index.js';
import { checkAssignable, checkGateway, defaultGateway, macFromIPv4, nextFree, parseSubnet, randomMac, type Subnet } from './ipam.js';
import { bridgeTag, checkName, defaultBridgeName, hostVethName, vethTag } from './names.js';

export const DEFAULT_NETWORK = 'nsbox0';
const DEFAULT_MTU = 1500;
const MACVLAN_MODES = ['bridge', 'private', 'vepa', 'passthru', 'source'] as const;
export type MacvlanMode = (typeof MACVLAN_MODES)[number];

export interface NetworkCreateOptions {
  driver?: 'bridge' | 'macvlan';
  /** One IPv4 and/or one IPv6 subnet; a bridge network without one gets a free /16. */
  subnets?: readonly string[];
  /** IPv4 gateway (default: the subnet's first address). */
  gateway?: string;
  /** IPv6 gateway (default: the IPv6 subnet's first address). */
  gateway6?: string;
  /** Require an IPv6 subnet. */
  ipv6?: boolean;
  bridgeName?: string;
  /** macvlan: the host link the sandboxes' links hang off. */
  parent?: string;
  macvlanMode?: MacvlanMode;
  mtu?: number;
  /** No default route in the sandboxes (no way out through the gateway). */
  internal?: boolean;
}

export interface NetworkInfo extends NetworkRecord {
  /** The IPv4 gateway, if the network has an IPv4 subnet. */
  gateway: string | undefined;
  /** The IPv6 gateway, if the network has an IPv6 subnet. */
  gateway6: string | undefined;
}

export interface AttachOptions {
  /** A static IPv4 (must be in the subnet and free). */
  ip?: string;
  /** A static IPv6. */
  ip6?: string;
  /** The name inside the sandbox (default eth + the lowest free index). */
  ifname?: string;
  /** Who holds the leases (default: the sandbox's key). */
  owner?: string;
  /** Unsolicited ARP/NA messages after the link comes up (0..3, default 3). */
  advertiseAddrNMsgs?: number;
}

export interface Attachment {
  network: string;
  interface: Interface;
  ifname: string;
  ipv4: string | undefined;
  ipv6: string | undefined;
  mac: string;
  /** The host end of the veth (bridge networks). */
  hostIf: string | undefined;
  /** Whether this attachment set the sandbox's default route. */
  gateway: boolean;
}

function subnetOf(cfg: NetworkConfig, family: 4 | 6): { subnet: Subnet; gateway: string } | undefined {
  for (const s of cfg.subnets) {
    const parsed = parseSubnet(s.subnet);
    if (parsed.family === family) return { subnet: parsed, gateway: s.gateway };
  }
  return undefined;
}

function withInfo(rec: NetworkRecord): NetworkInfo {
  return { ...rec, gateway: subnetOf(rec.config, 4)?.gateway, gateway6: subnetOf(rec.config, 6)?.gateway };
}

export class Networks {
  readonly #records: NetworkRecords;
  readonly #db: Db | undefined;
  readonly #scope: string;
  #host: Rtnl | undefined;

  /** Networks over an open state database (the CLI shares its own). */
  constructor(db: Db, options: { scope?: string; ownsDb?: boolean } = {}) {
    this.#records = new NetworkRecords(db);
    this.#db = options.ownsDb ? db : undefined;
    this.#scope = options.scope ?? basePath();
  }

  /** Open the state database in `root` (created if needed). */
  static open(options: { root: string }): Networks {
    return new Networks(openDb(options.root), { ownsDb: true });
  }

  close(): void {
    this.#host?.close();
    this.#host = undefined;
    this.#db?.close();
  }

  get #hostRtnl(): Rtnl {
    if (this.#host === undefined || this.#host.closed) this.#host = Rtnl.open();
    return this.#host;
  }

  list(): NetworkInfo[] {
    return this.#records.list().map(withInfo);
  }

  get(name: string): NetworkInfo | undefined {
    const rec = this.#records.get(name);
    return rec && withInfo(rec);
  }

  #require(name: string): NetworkRecord {
    const rec = this.#records.get(name);
    if (rec === undefined) throw new NsboxError(`no network named ${JSON.stringify(name)}`, 'NSBOX_ERR_NOT_FOUND');
    return rec;
  }

  /** Host routes that are not nsbox's own bridges' (what a new subnet must not overlap). */
  async #foreignRoutes(): Promise<{ subnet: Cidr; dev: string }[]> {
    const host = this.#hostRtnl;
    const ours = new Set(this.#records.list().map((n) => n.config.bridge).filter(Boolean));
    const links = new Map((await host.link.list()).map((l) => [l.index, l.name] as const));
    const out: { subnet: Cidr; dev: string }[] = [];
    for (const r of await host.route.list({ table: 'all' })) {
      if (r.dst === undefined || r.dstLen === 0 || r.type !== RTN.UNICAST) continue;
      const dev = links.get(r.oif ?? 0) ?? '?';
      if (ours.has(dev)) continue; // a unicast route on lo (e.g. 10.88.0.0/16 dev lo) takes the subnet too
      const family = r.family === AF.INET ? 4 : 6;
      if (r.dstLen > (family === 4 ? 30 : 126)) continue; // a route to a peer (/31, /32; /127, /128), not to a LAN
      out.push({ subnet: { address: r.dst, prefixLen: r.dstLen, family }, dev });
    }
    return out;
  }

  /** The first free /16 in 10.88.0.0 – 10.254.0.0. */
  async #pickFreeSubnet(): Promise<string> {
    const taken = [...(await this.#foreignRoutes()).map((r) => r.subnet), ...this.#records.list().flatMap((n) => n.config.subnets.map((s) => parseSubnet(s.subnet)))];
    for (let b = 88; b <= 254; b++) {
      const candidate = parseSubnet(`10.${b}.0.0/16`);
      if (!taken.some((t) => subnetsOverlap(t, candidate))) return candidate.cidr;
    }
    throw new ConfigError('no free /16 left in 10.88.0.0/8 for a network; give --subnet', 'subnet');
  }

  /** `nsbox network create`. */
  async create(name: string, options: NetworkCreateOptions = {}): Promise<NetworkInfo> {
    checkName('network', name);
    const driver = options.driver ?? 'bridge';
    if (driver !== 'bridge' && driver !== 'macvlan') throw new ConfigError(`unknown driver ${JSON.stringify(driver)}: bridge or macvlan`, 'driver');
    const mtu = options.mtu ?? DEFAULT_MTU;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new ConfigError(`invalid MTU ${String(options.mtu)}: 68 to 65535`, 'mtu');
    let subnetTexts = [...(options.subnets ?? [])];
    const parsed = subnetTexts.map(parseSubnet);
    if (parsed.filter((s) => s.family === 4).length > 1 || parsed.filter((s) => s.family === 6).length > 1) {
      throw new ConfigError('give at most one IPv4 and one IPv6 subnet', 'subnet');
    }
    if (options.ipv6 && !parsed.some((s) => s.family === 6)) throw new ConfigError('--ipv6 needs an IPv6 --subnet (e.g. fd00:89::/64)', 'subnet');
    if (!options.ipv6 && parsed.some((s) => s.family === 6)) throw new ConfigError('an IPv6 subnet needs --ipv6', 'subnet');
    if (driver === 'macvlan') {
      if (options.parent === undefined) throw new ConfigError('a macvlan network needs --parent (the host interface)', 'parent');
      if (parsed.length === 0) throw new ConfigError('a macvlan network needs --subnet (the parent\'s LAN)', 'subnet');
      if (options.macvlanMode !== undefined && !MACVLAN_MODES.includes(options.macvlanMode)) {
        throw new ConfigError(`invalid macvlan mode ${JSON.stringify(options.macvlanMode)}: ${MACVLAN_MODES.join(', ')}`, 'mode');
      }
    }
    if (!parsed.some((s) => s.family === 4) && driver === 'bridge') {
      subnetTexts = [await this.#pickFreeSubnet(), ...subnetTexts];
    }
    const subnets = subnetTexts.map(parseSubnet).map((s) => {
      const given = s.family === 4 ? options.gateway : options.gateway6;
      if (given !== undefined && ipVersion(given) !== s.family) throw new ConfigError(`invalid gateway ${JSON.stringify(given)} for ${s.cidr}`, 'gateway');
      const gateway = given ?? defaultGateway(s);
      checkGateway(s, gateway);
      return { subnet: s.cidr, gateway, parsed: s };
    });
    if (options.gateway !== undefined && !subnets.some((s) => s.parsed.family === 4)) throw new ConfigError('--gateway needs an IPv4 subnet', 'gateway');
    let parentLink: Link | undefined;
    if (driver === 'macvlan') {
      parentLink = await this.#hostRtnl.link.find({ name: options.parent! });
      if (parentLink === undefined) throw new ConfigError(`parent interface ${options.parent} not found in the host`, 'parent');
    } else {
      for (const r of await this.#foreignRoutes()) {
        const clash = subnets.find((s) => subnetsOverlap(s.parsed, r.subnet));
        if (clash) throw new ConfigError(`subnet ${clash.subnet} overlaps the host route ${cidrText(r.subnet)} on ${r.dev}`, 'subnet');
      }
    }
    const bridge = driver === 'bridge' ? options.bridgeName ?? defaultBridgeName(name) : undefined;
    if (bridge !== undefined) {
      try {
        checkLinkName(bridge, 'bridge name');
      } catch (err) {
        throw new ConfigError((err as Error).message, 'bridge');
      }
    }
    const existingBridge = bridge === undefined ? undefined : await this.#hostRtnl.link.find({ name: bridge });
    if (existingBridge !== undefined && existingBridge.info?.kind !== 'bridge') {
      throw new ConfigError(`${bridge} exists in the host and is not a bridge`, 'bridge');
    }
    const config: NetworkConfig = {
      subnets: subnets.map((s) => ({ subnet: s.subnet, gateway: s.gateway })),
      mtu, internal: options.internal === true,
      ...(driver === 'bridge'
        ? { bridge, managedBridge: existingBridge === undefined || existingBridge.alias === bridgeTag(this.#scope, name) }
        : { parent: options.parent, macvlanMode: options.macvlanMode ?? 'bridge' }),
    };
    const inserted = this.#records.insert({ name, driver, config }, (others) => {
      for (const other of others) {
        if (driver === 'bridge' && other.config.bridge === bridge) throw new ConfigError(`bridge ${bridge} is already used by network ${other.name}`, 'bridge');
        for (const o of other.config.subnets) {
          const clash = subnets.find((s) => subnetsOverlap(s.parsed, parseSubnet(o.subnet)));
          if (clash) throw new ConfigError(`subnet ${clash.subnet} overlaps ${o.subnet} of network ${other.name}`, 'subnet');
        }
      }
    });
    if (!inserted) throw new NsboxError(`a network named ${name} already exists`, 'NSBOX_ERR_EXISTS');
    const rec = this.#records.get(name)!;
    try {
      await this.ensureBridge(rec);
    } catch (err) {
      this.#records.delete(name);
      if (config.managedBridge && bridge !== undefined) await this.#deleteLink(bridge);
      throw err;
    }
    return withInfo(rec);
  }

  /** Make sure a bridge network's bridge exists, is up and holds the gateways (idempotent). */
  async ensureBridge(rec: NetworkRecord): Promise<boolean> {
    if (rec.driver !== 'bridge' || rec.config.bridge === undefined) return false;
    const host = this.#hostRtnl;
    let created = false;
    let br = await host.link.find({ name: rec.config.bridge });
    if (br === undefined) {
      try {
        await host.link.add({ name: rec.config.bridge, kind: 'bridge', mtu: rec.config.mtu, up: true });
        created = true;
      } catch (err) {
        if (!(err instanceof NetlinkError && err.code === 'EEXIST')) throw err; // else another process made it meanwhile
      }
      br = await host.link.get({ name: rec.config.bridge });
    }
    if (rec.config.managedBridge && br.alias !== bridgeTag(this.#scope, rec.name)) {
      await host.link.set({ index: br.index }, { alias: bridgeTag(this.#scope, rec.name) });
    }
    if (!(br.flags & IFF.UP)) await host.link.set({ index: br.index }, { up: true });
    for (const s of rec.config.subnets) {
      const p = parseSubnet(s.subnet);
      await host.addr.replace({ index: br.index, address: cidrText({ address: s.gateway, prefixLen: p.prefixLen }), nodad: p.family === 6 });
    }
    return created;
  }

  /** The default network nsbox0, created on first use (10.88.0.0/16 or the next free /16). */
  async ensureDefault(): Promise<NetworkInfo> {
    const existing = this.get(DEFAULT_NETWORK);
    if (existing !== undefined) {
      await this.ensureBridge(existing);
      return existing;
    }
    try {
      return await this.create(DEFAULT_NETWORK, {});
    } catch (err) {
      const raced = this.get(DEFAULT_NETWORK); // another process created it meanwhile
      if (raced !== undefined && err instanceof NsboxError && err.code === 'NSBOX_ERR_EXISTS') return raced;
      throw err;
    }
  }

  /** `nsbox network rm`: refuses while sandboxes hold addresses on it. */
  async remove(name: string): Promise<void> {
    const rec = this.#require(name);
    const outcome = this.#records.delete(name);
    if (outcome === 'in-use') {
      const owners = [...new Set(this.#records.leasesIn(name).map((l) => l.owner))];
      throw new NsboxError(`network ${name} is in use by ${owners.length} sandbox(es): ${owners.join(', ')}; disconnect them first`, 'NSBOX_ERR_IN_USE');
    }
    if (rec.config.managedBridge && rec.config.bridge !== undefined) await this.#deleteLink(rec.config.bridge);
  }

  async #deleteLink(name: string, rtnl: Rtnl = this.#hostRtnl): Promise<void> {
    try {
      await rtnl.link.del({ name });
    } catch (err) {
      if (!(err instanceof NetlinkError && err.code === 'ENODEV')) throw err;
    }
  }

  #leaseAddresses(rec: NetworkRecord, owner: string, ifname: string, o: AttachOptions): { ipv4?: string; ipv6?: string } {
    const v4 = subnetOf(rec.config, 4);
    const v6 = subnetOf(rec.config, 6);
    if (o.ip !== undefined && v4 === undefined) throw new ConfigError(`network ${rec.name} has no IPv4 subnet for --ip ${o.ip}`, 'ip');
    if (o.ip6 !== undefined && v6 === undefined) throw new ConfigError(`network ${rec.name} has no IPv6 subnet for --ip6 ${o.ip6}`, 'ip6');
    const picked: { ipv4?: string; ipv6?: string } = {};
    this.#records.lease(rec.name, owner, ifname, (taken) => {
      const out: string[] = [];
      for (const [fam, s, wanted] of [[4, v4, o.ip], [6, v6, o.ip6]] as const) {
        if (s === undefined) continue;
        let address: string | undefined;
        if (wanted !== undefined) {
          if (ipVersion(wanted) !== fam) throw new ConfigError(`invalid IPv${fam} address ${JSON.stringify(wanted)}`, 'ip');
          checkAssignable(s.subnet, s.gateway, wanted);
          address = wanted;
          if (taken.has(address)) throw new NsboxError(`address ${address} is already in use on network ${rec.name}`, 'NSBOX_ERR_IN_USE');
        } else {
          address = nextFree(s.subnet, s.gateway, taken);
          if (address === undefined) throw new NsboxError(`network ${rec.name} has no free address left in ${s.subnet.cidr}`, 'NSBOX_ERR_EXHAUSTED');
        }
        out.push(address);
        if (fam === 4) picked.ipv4 = address;
        else picked.ipv6 = address;
      }
      return out;
    });
    return picked;
  }

  /** `nsbox connect NET SANDBOX`: give the sandbox an interface on the network. */
  async attach(sandbox: Sandbox, network: string, o: AttachOptions = {}): Promise<Attachment> {
    const rec = this.#require(network);
    const owner = o.owner ?? sandbox.key;
    if (this.#records.leasesOf(owner, network).length > 0) {
      throw new NsboxError(`sandbox ${owner} is already connected to network ${network}`, 'NSBOX_ERR_EXISTS');
    }
    const ifname = o.ifname ?? generateIfaceName('eth', sandbox.interfaces().map((i) => i.dstName));
    const { ipv4, ipv6 } = this.#leaseAddresses(rec, owner, ifname, o);
    const v4 = subnetOf(rec.config, 4);
    const v6 = subnetOf(rec.config, 6);
    const mac = ipv4 !== undefined ? macFromIPv4(ipv4) : randomMac();
    const host = this.#hostRtnl;
    let hostIf: string | undefined;
    let created = false;
    try {
      if (rec.driver === 'bridge') {
        await this.ensureBridge(rec);
        const br = await host.link.get({ name: rec.config.bridge! });
        hostIf = hostVethName(owner, network);
        // The host end never makes IPv6 link-local addresses: no DAD, MLD or router
        // solicitations flooding the bridge, whose cost grows with the number of ports.
        await host.link.add({
          name: hostIf, kind: 'veth', mtu: rec.config.mtu, master: br.index, up: true, addrGenMode: 'none', alias: vethTag(owner), numTxQueues: 1, numRxQueues: 1,
          peer: { name: ifname, netnsFd: sandbox.netnsFd, mtu: rec.config.mtu, address: mac },
        });
        created = true;
      } else {
        const parent = await host.link.find({ name: rec.config.parent! });
        if (parent === undefined) throw new ConfigError(`parent interface ${rec.config.parent} of network ${network} not found in the host`, 'parent');
        await host.link.add({
          name: ifname, kind: 'macvlan', mode: (rec.config.macvlanMode ?? 'bridge') as MacvlanMode, link: parent.index,
          netnsFd: sandbox.netnsFd, mtu: rec.config.mtu, address: mac,
        });
        created = true;
      }
      const iface = await sandbox.addInterface(ifname, 'eth', {
        createdInContainer: true, dstName: ifname, mac,
        ipv4: ipv4 && v4 ? cidrText({ address: ipv4, prefixLen: v4.subnet.prefixLen }) : undefined,
        ipv6: ipv6 && v6 ? cidrText({ address: ipv6, prefixLen: v6.subnet.prefixLen }) : undefined,
        advertiseAddrNMsgs: o.advertiseAddrNMsgs,
      });
      let gateway = false;
      if (!rec.config.internal) {
        if (v4 && ipv4 && sandbox.gateway === undefined) {
          await sandbox.setGateway(v4.gateway);
          gateway = true;
        }
        if (v6 && ipv6 && sandbox.gatewayIPv6 === undefined) {
          await sandbox.setGatewayIPv6(v6.gateway);
          gateway = true;
        }
      }
      return { network, interface: iface, ifname, ipv4, ipv6, mac, hostIf, gateway };
    } catch (err) {
      if (created) {
        const iface = sandbox.interfaces().find((i) => i.dstName === ifname);
        if (iface) await sandbox.removeInterface(iface, { delete: true }).catch(() => undefined);
        else await this.#deleteLink(ifname, sandbox.netlink).catch(() => undefined);
        if (hostIf) await this.#deleteLink(hostIf).catch(() => undefined);
      }
      this.#records.release(owner, network);
      throw err;
    }
  }

  /** `nsbox disconnect NET SANDBOX`: remove its interface and release its addresses. Not connected: nothing to do. */
  async detach(sandbox: Sandbox, network: string, o: { owner?: string } = {}): Promise<void> {
    const owner = o.owner ?? sandbox.key;
    const leases = this.#records.leasesOf(owner, network);
    if (leases.length === 0) return;
    const ifname = leases[0]!.ifname;
    const rec = this.#records.get(network);
    const gw4 = rec && subnetOf(rec.config, 4)?.gateway;
    const gw6 = rec && subnetOf(rec.config, 6)?.gateway;
    if (gw4 !== undefined && sandbox.gateway === gw4) await sandbox.unsetGateway().catch(() => undefined);
    if (gw6 !== undefined && sandbox.gatewayIPv6 === gw6) await sandbox.unsetGatewayIPv6().catch(() => undefined);
    const iface = sandbox.interfaces().find((i) => i.dstName === ifname);
    if (iface !== undefined) await sandbox.removeInterface(iface, { delete: true });
    else await this.#deleteLink(ifname, sandbox.netlink);
    if (rec?.driver === 'bridge') await this.#deleteLink(hostVethName(owner, network)).catch(() => undefined);
    this.#records.release(owner, network);
  }

  /**
   * After a sandbox's namespace was destroyed, wait until the kernel has removed the host
   * ends of its veths (it does so asynchronously, in one batch per namespace): teardown by
   * namespace without paying the per-link deletion wait, and without reporting "done" early.
   */
  async waitForHostLinksGone(names: readonly string[], timeoutMs = 5000): Promise<string[]> {
    let left = [...names];
    const deadline = Date.now() + timeoutMs;
    while (left.length > 0) {
      const present = await Promise.all(left.map((n) => this.#hostRtnl.link.find({ name: n })));
      left = left.filter((_, i) => present[i] !== undefined);
      if (left.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    return left;
  }

  /** Every address leased on a network. */
  leasesIn(network: string): Lease[] {
    return this.#records.leasesIn(network);
  }

  /** The addresses an owner (a sandbox key) holds, on one network or all. */
  leasesOf(owner: string, network?: string): Lease[] {
    return this.#records.leasesOf(owner, network);
  }

  /** Every lease of every network. */
  allLeases(): Lease[] {
    return this.#records.allLeases();
  }

  /** Release an owner's addresses (on one network, or all); returns how many. */
  release(owner: string, network?: string): number {
    return this.#records.release(owner, network);
  }

  /** Whether an address lies in one of a network's subnets. */
  contains(network: string, address: string): boolean {
    const rec = this.#require(network);
    return rec.config.subnets.some((s) => subnetContains(parseSubnet(s.subnet), address));
  }
}
