/**
 * Layer: network.
 *
 * Networks: the facade over the drivers (driver.ts; bridge and macvlan). It keeps what every
 * kind of network shares: records, subnets and gateways, address leases (one store
 * transaction, so concurrent processes never share an address), MACs derived from the IPv4
 * address, the sandbox's interface and its default route (the first network a sandbox joins
 * gives it). The driver makes the links.
 */
import { ConfigError, NetlinkError, NsboxError } from '../errors.js';
import { cidrText, networkOf, subnetContains, subnetsOverlap } from '../net/cidr.js';
import { ipVersion } from '../net/ip.js';
import { Rtnl } from '../netlink/route/ops/index.js';
import { basePath, generateIfaceName, type Interface, type Sandbox } from '../sandbox/index.js';
import { HostFirewall, type ForwardFinding, type HostChange } from '../firewall/index.js';
import { NetworkRecords, openDb, type Db, type Lease, type NetworkConfig, type NetworkRecord } from '../store/index.js';
import { checkCreateOptions, withGateways, type NetworkCreateOptions } from './create-options.js';
import type { DriverContext } from './driver.js';
import { deleteLink, deleteLinksUnlisted, waitLinksGone } from './link-deletion.js';
import { driverOf } from './drivers.js';
import { checkAssignable, macFromIPv4, nextFree, parseSubnet, randomMac, type Subnet } from './ipam.js';
import { checkName } from './names.js';
import { staticAddressProblem } from './overlay.js';
import { dirname, join } from 'node:path';
import { withFileLock } from '../sandbox/index.js';

export const DEFAULT_NETWORK = 'nsbox0';

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
  /** Give the sandbox its default route through the gateways when it has none (default: unless the network is internal). */
  defaultRoute?: boolean;
  /** The interface's MAC (default: derived from its IPv4 address, else random). */
  mac?: string;
  /** bridge: the hairpin flag of the host veth (default on). */
  hairpin?: boolean;
  /**
   * For a network whose addresses come from an IPAM plugin (and only for one): called once the
   * interface is inside the sandbox and up (a DHCP client needs it), before any address is put
   * on it; returns the addresses to use. Their subnets join the network's when it has none of
   * their family yet (its bridge then holds their gateways); they are recorded as leases.
   */
  assign?: (link: { ifname: string; mac: string }) => Promise<AssignedAddresses>;
}

/** An address an IPAM plugin gave, with its subnet's prefix length and gateway. */
export interface AssignedAddress {
  address: string;
  prefixLen: number;
  gateway: string;
}

/** What `AttachOptions.assign` returns: at most one address per family. */
export interface AssignedAddresses {
  ipv4?: AssignedAddress;
  ipv6?: AssignedAddress;
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

/**
 * The sandbox's default route through `gw`, as its gateway. In a namespace someone else made
 * (a runtime's, with another plugin's or another network's default route already) the route
 * goes beside the one there, as `ip route append` adds it and the reference CNI bridge plugin
 * does; it dies with the interface. True when a route was added.
 */
async function setDefaultRoute(sandbox: Sandbox, gw: string, family: 4 | 6): Promise<boolean> {
  try {
    if (family === 4) await sandbox.setGateway(gw);
    else await sandbox.setGatewayIPv6(gw);
  } catch (err) {
    if (!(err instanceof NetlinkError && err.code === 'EEXIST') && !(err instanceof Error && err.cause instanceof NetlinkError && err.cause.code === 'EEXIST')) throw err;
    await sandbox.netlink.route.append({ gateway: gw, scope: 'global' });
  }
  return true;
}

function withInfo(rec: NetworkRecord): NetworkInfo {
  return { ...rec, gateway: subnetOf(rec.config, 4)?.gateway, gateway6: subnetOf(rec.config, 6)?.gateway };
}

export class Networks {
  readonly #records: NetworkRecords;
  readonly #database: Db;
  /** The database when this handle opened it (and so closes it). */
  readonly #ownDb: Db | undefined;
  #host: Rtnl | undefined;
  #firewall: HostFirewall | undefined;
  readonly #hostChanges: HostChange[] = [];
  readonly #forwardFindings: ForwardFinding[] = [];
  /** What the drivers are lent: the host's rtnetlink, the scope, the records. */
  readonly #context: DriverContext;
  /** ROOT/locks, beside the database (undefined for a database in memory: one process, nothing to serialise). */
  readonly #lockDir: string | undefined;

  /** The crash tests' pause hook (managed/test-hooks.ts), when the managed layer lends it. */
  readonly #pause: ((point: string) => Promise<void>) | undefined;

  /** Networks over an open state database (the CLI shares its own). */
  constructor(db: Db, options: { scope?: string; ownsDb?: boolean; pause?: (point: string) => Promise<void> } = {}) {
    this.#pause = options.pause;
    this.#records = new NetworkRecords(db);
    this.#database = db;
    this.#lockDir = db.memory ? undefined : join(dirname(db.name), 'locks');
    this.#ownDb = options.ownsDb ? db : undefined;
    this.#context = { host: () => this.#hostRtnl, scope: options.scope ?? basePath(), networks: () => this.#records.list() };
  }

  /** Open the state database in `root` (created if needed). */
  static open(options: { root: string }): Networks {
    return new Networks(openDb(options.root), { ownsDb: true });
  }

  close(): void {
    this.#host?.close();
    this.#host = undefined;
    this.#firewall?.close();
    this.#firewall = undefined;
    this.#ownDb?.close();
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

  /**
   * Hold the network's lock (ROOT/locks/_net.NAME.lock; no sandbox name starts with `_`) while
   * `fn` runs, across processes. A network's record is inserted before its host side is made:
   * under this lock a create makes both, a removal takes both away, and a connect reads the
   * record and leases its address, so none of them sees the other half done (a removal racing
   * a create once tore the bridge down under it).
   */
  async #locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.#lockDir === undefined) return fn();
    const res = await withFileLock(join(this.#lockDir, `_net.${name}.lock`), fn);
    if (!res.locked) throw new Error('unreachable: a waiting lock always locks');
    return res.value;
  }

  /** `nsbox network create`. */
  async create(name: string, options: NetworkCreateOptions = {}): Promise<NetworkInfo> {
    checkName('network', name);
    return this.#locked(name, () => this.#create(name, options));
  }

  async #create(name: string, options: NetworkCreateOptions): Promise<NetworkInfo> {
    const driver = driverOf(options.driver ?? 'bridge');
    const checked = checkCreateOptions(options);
    const plan = await driver.validate({ name, options, subnets: checked.subnets }, this.#context);
    const subnets = withGateways(plan.subnets, options);
    const config: NetworkConfig = {
      subnets: subnets.map((s) => ({ subnet: s.subnet.cidr, gateway: s.gateway })),
      mtu: options.mtu === undefined ? plan.mtu ?? checked.mtu : checked.mtu, internal: options.internal === true, ...plan.config,
      ...(driver.name === 'bridge' ? { masquerade: options.masquerade !== false } : {}),
      ...(options.ipamPlugin !== undefined ? { ipamPlugin: options.ipamPlugin } : {}),
    };
    const inserted = this.#records.insert({ name, driver: driver.name, config: { ...config, creating: true } }, (others) => {
      for (const other of others) {
        const conflict = driver.conflict(plan.config, other);
        if (conflict) throw conflict;
        for (const o of other.config.subnets) {
          const clash = subnets.find((s) => subnetsOverlap(s.subnet, parseSubnet(o.subnet)));
          if (clash) throw new ConfigError(`subnet ${clash.subnet.cidr} overlaps ${o.subnet} of network ${other.name}`, 'subnet');
        }
      }
    });
    if (!inserted) throw new NsboxError(`a network named ${name} already exists`, 'NSBOX_ERR_EXISTS');
    await this.#pause?.('network-create:recorded');
    const rec = await this.#makeHostSide(this.#records.get(name)!);
    // Another firewall's forward chain that drops this network's traffic: said, never changed.
    // Only advice, so a failure to read other tables does not fail the create.
    if (rec.driver === 'bridge') {
      try {
        this.#forwardFindings.push(...(await this.firewall.checkForward([rec])).findings.filter((f) => f.dropped.length > 0));
      } catch {
        // `nsbox doctor` reports what could not be read
      }
    }
    return withInfo(rec);
  }

  /**
   * A record marked `creating` made real: its host side and firewall elements, then the mark
   * cleared; on a failure, undone (record, elements, host side) and the error thrown. Under
   * the network's lock.
   */
  async #makeHostSide(rec: NetworkRecord): Promise<NetworkRecord> {
    const driver = driverOf(rec.driver);
    try {
      await driver.setUp(rec, this.#context);
      this.#hostChanges.push(...await this.firewall.networkUp(rec));
    } catch (err) {
      this.#records.delete(rec.name);
      await this.firewall.networkDown(rec).catch(() => undefined);
      await driver.tearDown(rec, this.#context);
      throw err;
    }
    return this.#records.update(rec.name, (config) => { delete config.creating; }) ?? rec;
  }

  /**
   * Networks whose `network create` died after inserting the record (marked `creating`; one
   * still running holds the lock, and is waited for): each finished, or undone when its host
   * side cannot be made. For gc; what was done, by name.
   */
  async finishInterrupted(options: { dryRun?: boolean } = {}): Promise<{ name: string; finished: boolean; error?: string }[]> {
    const out: { name: string; finished: boolean; error?: string }[] = [];
    for (const listed of this.#records.list().filter((r) => r.config.creating === true)) {
      if (options.dryRun) {
        out.push({ name: listed.name, finished: true });
        continue;
      }
      await this.#locked(listed.name, async () => {
        const rec = this.#records.get(listed.name);
        if (rec?.config.creating !== true) return; // finished by its creator meanwhile, or gone
        try {
          await this.#makeHostSide(rec);
          out.push({ name: rec.name, finished: true });
        } catch (err) {
          out.push({ name: rec.name, finished: false, error: (err as Error).message });
        }
      });
    }
    return out;
  }

  /** The record, finished first when its create was interrupted. Under the network's lock. */
  async #readyLocked(rec: NetworkRecord): Promise<NetworkRecord> {
    return rec.config.creating === true ? this.#makeHostSide(rec) : rec;
  }

  /** The host's firewall (nf_tables) and forwarding, kept as these networks and their ports say. */
  get firewall(): HostFirewall {
    this.#firewall ??= new HostFirewall(this.#database);
    return this.#firewall;
  }

  /** Host-wide settings this handle changed so far (e.g. IPv4 forwarding turned on), for the caller to say once. */
  takeHostChanges(): HostChange[] {
    return this.#hostChanges.splice(0);
  }

  /** Forward chains of other firewalls found dropping traffic of the networks this handle created, for the caller to say. */
  takeForwardFindings(): ForwardFinding[] {
    return this.#forwardFindings.splice(0);
  }

  /**
   * Make sure a network's host side exists as its record says (a bridge network's bridge, up
   * and holding the gateways, with the host knobs it needs); idempotent. True if this call made
   * it (after a reboot).
   */
  async ensureHostSide(network: NetworkRecord): Promise<boolean> {
    const made = await driverOf(network.driver).setUp(network, this.#context);
    // A bridge made again (after a reboot) has its knobs at the kernel's defaults, and so has the host.
    if (made) this.#hostChanges.push(...this.firewall.hostKnobs(network));
    return made;
  }

  /** The default network nsbox0, created on first use (10.88.0.0/16 or the next free /16). */
  async ensureDefault(): Promise<NetworkInfo> {
    const existing = this.get(DEFAULT_NETWORK);
    if (existing?.config.creating === true) return withInfo(await this.#locked(DEFAULT_NETWORK, async () => this.#readyLocked(this.#require(DEFAULT_NETWORK))));
    if (existing !== undefined) {
      await this.ensureHostSide(existing);
      return existing;
    }
    try {
      return await this.create(DEFAULT_NETWORK, {});
    } catch (err) {
      // Another process created it meanwhile (its name taken, or its bridge in the way): use it.
      const raced = this.get(DEFAULT_NETWORK);
      if (raced !== undefined) return raced;
      throw err;
    }
  }

  /** `nsbox network rm`: refuses while sandboxes hold addresses on it. */
  async remove(name: string): Promise<void> {
    checkName('network', name);
    return this.#locked(name, () => this.#remove(name));
  }

  async #remove(name: string): Promise<void> {
    const rec = this.#require(name);
    const outcome = this.#records.delete(name);
    if (outcome === 'in-use') {
      const owners = [...new Set(this.#records.leasesIn(name).map((l) => l.owner))];
      throw new NsboxError(`network ${name} is in use by ${owners.length} sandbox(es): ${owners.join(', ')}; disconnect them first`, 'NSBOX_ERR_IN_USE');
    }
    await this.firewall.networkDown(rec);
    await driverOf(rec.driver).tearDown(rec, this.#context);
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
          const problem = fam === 4 && rec.config.overlay !== undefined ? staticAddressProblem(rec.config.overlay, wanted) : undefined;
          if (problem !== undefined) throw new ConfigError(`${problem} of network ${rec.name}`, 'ip');
        } else {
          // an overlay network leases from this host's block (L2: the sandboxes take the whole subnet's prefix)
          const from = fam === 4 && rec.config.overlay !== undefined ? parseSubnet(rec.config.overlay.block) : s.subnet;
          address = nextFree(from, s.gateway, taken);
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
    const owner = o.owner ?? sandbox.key;
    const ifname = o.ifname ?? generateIfaceName('eth', sandbox.interfaces().map((i) => i.dstName));
    this.#require(network); // an unknown (or invalid) name is refused before a lock file is made for it
    // Under the network's lock: a network being created is waited for, and one being removed
    // is either gone or sees this lease and refuses.
    let { rec, ipv4, ipv6 } = await this.#locked(network, async () => {
      const found = await this.#readyLocked(this.#require(network));
      const plugin = found.config.ipamPlugin;
      if (plugin !== undefined && o.assign === undefined) {
        throw new ConfigError(`network ${network} takes its addresses from the CNI IPAM plugin ${plugin}: only nsbox-cni attaches to it`, 'network');
      }
      if (plugin === undefined && o.assign !== undefined) throw new ConfigError(`network ${network} leases its own addresses: it takes none from an IPAM plugin`, 'network');
      if (this.#records.leasesOf(owner, network).length > 0) {
        throw new NsboxError(`sandbox ${owner} is already connected to network ${network}`, 'NSBOX_ERR_EXISTS');
      }
      return { rec: found, ...(plugin === undefined ? this.#leaseAddresses(found, owner, ifname, o) : { ipv4: undefined, ipv6: undefined }) };
    });
    const mac = o.mac ?? (ipv4 !== undefined ? macFromIPv4(ipv4) : randomMac());
    const driver = driverOf(rec.driver);
    let hostIf: string | undefined;
    let sysctls: string[] | undefined;
    let made = false;
    try {
      ({ hostIf, sysctls } = await driver.attach(rec, { netnsFd: sandbox.netnsFd, owner, ifname, mac, hairpin: o.hairpin }, this.#context));
      made = true;
      if (o.assign !== undefined) {
        await sandbox.netlink.link.set({ name: ifname }, { up: true });
        const assigned = await o.assign({ ifname, mac });
        rec = await this.#adoptSubnets(rec, assigned);
        ({ ipv4, ipv6 } = this.#leaseAssigned(rec, owner, ifname, assigned));
      }
      const v4 = subnetOf(rec.config, 4);
      const v6 = subnetOf(rec.config, 6);
      const iface = await sandbox.addInterface(ifname, 'eth', {
        createdInContainer: true, dstName: ifname, mac,
        ipv4: ipv4 && v4 ? cidrText({ address: ipv4, prefixLen: v4.subnet.prefixLen }) : undefined,
        ipv6: ipv6 && v6 ? cidrText({ address: ipv6, prefixLen: v6.subnet.prefixLen }) : undefined,
        advertiseAddrNMsgs: o.advertiseAddrNMsgs, sysctls,
      });
      let gateway = false;
      if (!rec.config.internal && o.defaultRoute !== false) {
        if (v4 && ipv4 && sandbox.gateway === undefined) gateway = await setDefaultRoute(sandbox, v4.gateway, 4);
        if (v6 && ipv6 && sandbox.gatewayIPv6 === undefined) gateway = await setDefaultRoute(sandbox, v6.gateway, 6) || gateway;
      }
      return { network, interface: iface, ifname, ipv4, ipv6, mac, hostIf, gateway };
    } catch (err) {
      if (made) {
        const iface = sandbox.interfaces().find((i) => i.dstName === ifname);
        if (iface) await sandbox.removeInterface(iface, { delete: true }).catch(() => undefined);
        else await deleteLink(sandbox.netlink, ifname).catch(() => undefined);
        await driver.detach(rec, owner, this.#context).catch(() => undefined);
      }
      this.#records.release(owner, network);
      throw err;
    }
  }

  /**
   * The subnets of addresses an IPAM plugin gave, joined to the network where it has none of
   * their family (checked against the other networks in the same transaction, so two
   * processes agree), then its bridge holds their gateways and the firewall knows them. A
   * subnet or gateway that differs from the network's for its family is refused.
   */
  async #adoptSubnets(rec: NetworkRecord, assigned: AssignedAddresses): Promise<NetworkRecord> {
    const wanted = ([[4, assigned.ipv4], [6, assigned.ipv6]] as const).flatMap(([family, a]) => {
      if (a === undefined) return [];
      if (ipVersion(a.address) !== family) throw new ConfigError(`the IPAM plugin gave ${a.address} as an IPv${family} address`, 'ipam');
      const subnet = parseSubnet(cidrText(networkOf({ address: a.address, prefixLen: a.prefixLen, family })));
      checkAssignable(subnet, a.gateway, a.address);
      return [{ subnet, gateway: a.gateway }];
    });
    if (wanted.length === 0) throw new ConfigError(`the IPAM plugin ${rec.config.ipamPlugin} gave no address`, 'ipam');
    const missing = wanted.filter((w) => subnetOf(rec.config, w.subnet.family) === undefined);
    for (const w of wanted) {
      const have = subnetOf(rec.config, w.subnet.family);
      if (have !== undefined && (have.subnet.cidr !== w.subnet.cidr || have.gateway !== w.gateway)) {
        throw new ConfigError(`the IPAM plugin gave an address in ${w.subnet.cidr} (gateway ${w.gateway}), but network ${rec.name} has ${have.subnet.cidr} (gateway ${have.gateway}) for IPv${w.subnet.family}: an nsbox network has one subnet per family`, 'ipam');
      }
    }
    if (missing.length === 0) return rec;
    const updated = this.#records.update(rec.name, (config, others) => {
      for (const w of missing) {
        const now = config.subnets.find((s) => parseSubnet(s.subnet).family === w.subnet.family);
        if (now !== undefined) {
          if (now.subnet !== w.subnet.cidr || now.gateway !== w.gateway) throw new ConfigError(`network ${rec.name} took ${now.subnet} for IPv${w.subnet.family} meanwhile; the IPAM plugin gave ${w.subnet.cidr}`, 'ipam');
          continue;
        }
        for (const other of others) {
          const clash = other.config.subnets.find((o) => subnetsOverlap(w.subnet, parseSubnet(o.subnet)));
          if (clash) throw new ConfigError(`the IPAM plugin's subnet ${w.subnet.cidr} overlaps ${clash.subnet} of network ${other.name}`, 'ipam');
        }
        config.subnets.push({ subnet: w.subnet.cidr, gateway: w.gateway });
      }
    });
    if (updated === undefined) throw new NsboxError(`network ${rec.name} was removed meanwhile`, 'NSBOX_ERR_NOT_FOUND');
    await driverOf(updated.driver).setUp(updated, this.#context);
    this.#hostChanges.push(...await this.firewall.networkUp(updated));
    return updated;
  }

  /** Leases for the addresses an IPAM plugin gave (an address leased already is refused: two attachments never share one). */
  #leaseAssigned(rec: NetworkRecord, owner: string, ifname: string, assigned: AssignedAddresses): { ipv4?: string; ipv6?: string } {
    const addresses = [assigned.ipv4?.address, assigned.ipv6?.address].filter((a): a is string => a !== undefined);
    this.#records.lease(rec.name, owner, ifname, (taken) => {
      const dup = addresses.find((a) => taken.has(a));
      if (dup !== undefined) throw new NsboxError(`the IPAM plugin ${rec.config.ipamPlugin} gave ${dup}, which another attachment on network ${rec.name} holds`, 'NSBOX_ERR_IN_USE');
      return addresses;
    });
    return { ipv4: assigned.ipv4?.address, ipv6: assigned.ipv6?.address };
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
    else await deleteLink(sandbox.netlink, ifname);
    await this.releaseOutside(network, owner);
  }

  /**
   * What an attachment holds outside its sandbox, dropped: the driver's host-side links (a
   * bridge's host veth end) and the leases. For an owner whose sandbox is gone or whose
   * connect was interrupted; already gone is success.
   */
  async releaseOutside(network: string, owner: string): Promise<void> {
    const rec = this.#records.get(network);
    if (rec !== undefined) await driverOf(rec.driver).detach(rec, owner, this.#context).catch(() => undefined);
    this.#records.release(owner, network);
  }

  /** The links an owner's attachment to `network` has outside its sandbox (none for a network that is gone). */
  hostLinksOf(owner: string, network: string): string[] {
    const rec = this.#records.get(network);
    return rec === undefined ? [] : driverOf(rec.driver).hostLinks(rec, owner);
  }

  /**
   * After sandboxes' namespaces were destroyed, wait until the kernel has removed the host
   * ends of their veths (it does so asynchronously, in one batch for many): teardown by
   * namespace without paying the per-link deletion wait, and without reporting "done" early.
   */
  async waitForHostLinksGone(names: readonly string[], timeoutMs = 5000): Promise<string[]> {
    return waitLinksGone(this.#hostRtnl, names, timeoutMs, 2);
  }

  /**
   * Delete host links (a sandbox's host veth ends, which take their peers with them) and return
   * once the kernel has taken them out of the host's namespace, not after its answer
   * (link-deletion.ts). Already gone is success. Returns what failed: a deletion the kernel
   * refused, or a link still there after `timeoutMs`.
   */
  async deleteHostLinks(names: readonly string[], timeoutMs = 5000): Promise<string[]> {
    return (await deleteLinksUnlisted(this.#hostRtnl, names, timeoutMs)).map((e) => `host link ${e}`);
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
