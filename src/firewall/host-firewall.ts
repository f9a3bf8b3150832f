/**
 * Layer: firewall.
 *
 * The firewall as the store says it should be: bridge networks and published ports read from
 * the state database and turned into the nsbox table's elements, with the host sysctls they
 * need. The network layer calls networkUp/networkDown when a bridge network is made or removed;
 * the managed layer publishes and unpublishes ports and reconciles (gc, restore). Macvlan
 * networks have no part here: the host cannot reach its own macvlan children.
 */
import type { Db, NetworkRecord, PortRecord } from '../store/index.js';
import { HostSettings, NetworkRecords, PortRecords } from '../store/index.js';
import { Conntrack, type ConntrackCapabilities } from '../netlink/conntrack/ops/index.js';
import type { NftCapabilities } from '../netlink/nftables/ops/index.js';
import { Firewall, type FirewallState, type ReconcileReport } from './firewall.js';
import { rootTag, type FirewallNetwork, type FirewallPort } from './elements.js';
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { bridgeNetfilter, checkForward, type ForwardReport } from './coexistence.js';
import { enableIPv4Forwarding, enableIPv6Forwarding, enableRouteLocalnet, type HostChange } from './sysctl.js';

/** A bridge network's record as the firewall sees it; undefined for any other kind. */
export function firewallNetwork(rec: NetworkRecord): FirewallNetwork | undefined {
  if (rec.driver !== 'bridge' || rec.config.bridge === undefined) return undefined;
  return {
    name: rec.name, bridge: rec.config.bridge, subnets: rec.config.subnets.map((s) => s.subnet),
    masquerade: rec.config.masquerade ?? true, internal: rec.config.internal,
  };
}

/** A port's record as the firewall sees it. */
export function firewallPort(p: PortRecord): FirewallPort {
  return {
    family: p.family, protocol: p.protocol, hostIp: p.hostIp === '' ? undefined : p.hostIp, hostPort: p.hostPort,
    address: p.address, port: p.port, sandbox: p.sandbox,
  };
}

export class HostFirewall {
  readonly #networks: NetworkRecords;
  readonly #ports: PortRecords;
  readonly #settings: HostSettings;
  #firewall: Firewall | undefined;
  #conntrack: Conntrack | undefined;

  /** The state root's tag in its elements' comments (elements.ts `rootTag`); none for a database in memory. */
  readonly #tag: string | undefined;

  constructor(db: Db) {
    this.#tag = db.memory ? undefined : rootTag(realpathSync(dirname(db.name)));
    this.#networks = new NetworkRecords(db);
    this.#ports = new PortRecords(db);
    this.#settings = new HostSettings(db);
  }

  get #fw(): Firewall {
    this.#firewall ??= Firewall.open({ tag: this.#tag });
    return this.#firewall;
  }

  get #ct(): Conntrack {
    this.#conntrack ??= Conntrack.open();
    return this.#conntrack;
  }

  close(): void {
    this.#firewall?.close();
    this.#firewall = undefined;
    this.#conntrack?.close();
    this.#conntrack = undefined;
  }

  /** What the table should hold: every bridge network, and every published port not being removed. */
  state(): FirewallState {
    return {
      networks: this.#networks.list().flatMap((n) => firewallNetwork(n) ?? []),
      ports: this.#ports.list().filter((p) => p.state !== 'removing').map(firewallPort),
    };
  }

  /**
   * A bridge network is up: its elements in, route_localnet on its bridge, and forwarding on
   * (IPv6 too when it has an IPv6 subnet) unless it is internal. Returns the host-wide changes.
   */
  async networkUp(rec: NetworkRecord): Promise<HostChange[]> {
    const network = firewallNetwork(rec);
    if (network === undefined) return [];
    await this.#fw.addNetwork(network, () => this.state());
    return this.hostKnobs(rec);
  }

  /**
   * The host knobs a bridge network needs, set where they are not (idempotent): route_localnet
   * on its bridge, forwarding unless it is internal. Also after a reboot, when its bridge is
   * made again (`restore`) and the kernel's knobs are back at their defaults.
   */
  hostKnobs(rec: NetworkRecord): HostChange[] {
    const network = firewallNetwork(rec);
    if (network === undefined) return [];
    enableRouteLocalnet(network.bridge);
    if (network.internal) return [];
    const changes = enableIPv4Forwarding(this.#settings);
    if (network.subnets.some((s) => s.includes(':'))) changes.push(...enableIPv6Forwarding(this.#settings));
    return changes;
  }

  /** A bridge network is gone: its elements out. */
  async networkDown(rec: NetworkRecord): Promise<void> {
    const network = firewallNetwork(rec);
    if (network !== undefined) await this.#fw.removeNetwork(network);
  }

  /**
   * Published ports in (all or none; a taken key is NSBOX_ERR_IN_USE). Then the UDP flows that
   * went to their host ports before go: a conntrack entry made before the mapping keeps
   * steering the same datagrams to the host (TCP opens a new flow per connection).
   */
  async publish(ports: readonly PortRecord[]): Promise<void> {
    await this.#fw.publish(ports.map(firewallPort), () => this.state());
    for (const group of byFlow(ports.filter((p) => p.protocol === 'udp'))) {
      await this.#ct.deleteWhere({ family: group.family, proto: 'udp', origDstPort: group.hostPorts });
    }
  }

  /** Published ports out (already gone is fine), and the flows they carried with them. */
  async unpublish(ports: readonly PortRecord[]): Promise<void> {
    await this.#fw.unpublish(ports.map(firewallPort));
    for (const group of byFlow(ports)) {
      await this.#ct.deleteWhere({ family: group.family, proto: group.protocol, origDstPort: group.hostPorts, addresses: group.addresses });
    }
  }

  /**
   * The forward chains of other firewalls that drop (or may drop) traffic of bridge networks:
   * those of `records`, or every bridge network in the store.
   */
  async checkForward(records?: readonly NetworkRecord[]): Promise<ForwardReport> {
    const networks = (records ?? this.#networks.list()).flatMap((n) => firewallNetwork(n) ?? []);
    return checkForward(await this.#fw.forwardTables(), networks, bridgeNetfilter());
  }

  /** What the kernel's nf_tables can do for the table. */
  nftCapabilities(): Promise<NftCapabilities> {
    return this.#fw.capabilities();
  }

  /** What the kernel's conntrack can do for published ports (filtered dumps and flushes). */
  conntrackCapabilities(): Promise<ConntrackCapabilities> {
    return this.#ct.probe();
  }

  /** Make the table hold exactly what the store says (with `dryRun`, only say what that would change). */
  reconcile(options: { dryRun?: boolean } = {}): Promise<ReconcileReport> {
    return this.#fw.reconcile(() => this.state(), options);
  }
}

/**
 * Ports grouped by family and protocol, for one conntrack cleanup each instead of one per port
 * (every conntrack dump walks the kernel's whole table: ~2.4 ms each, measured).
 */
function byFlow(ports: readonly PortRecord[]): { family: 4 | 6; protocol: 'tcp' | 'udp'; hostPorts: number[]; addresses: string[] }[] {
  const groups = new Map<string, { family: 4 | 6; protocol: 'tcp' | 'udp'; hostPorts: Set<number>; addresses: Set<string> }>();
  for (const p of ports) {
    const key = `${p.family}/${p.protocol}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, g = { family: p.family, protocol: p.protocol, hostPorts: new Set(), addresses: new Set() });
    g.hostPorts.add(p.hostPort);
    g.addresses.add(p.address);
  }
  return [...groups.values()].map((g) => ({ ...g, hostPorts: [...g.hostPorts], addresses: [...g.addresses] }));
}
