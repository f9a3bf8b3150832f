/**
 * Layer: store.
 *
 * Network records and address leases. Allocation is one IMMEDIATE transaction: read what is
 * taken, pick, insert — so concurrent processes never hand out the same address, and the
 * (network, address) primary key would refuse it even if they tried.
 */
import type { Db } from './db.js';

export interface SubnetRecord {
  /** 'ip/prefix' (canonical). */
  subnet: string;
  gateway: string;
}

export interface NetworkConfig {
  subnets: SubnetRecord[];
  mtu: number;
  internal: boolean;
  /** bridge: sandboxes' traffic to the outside is masqueraded (absent in records made before: true). */
  masquerade?: boolean;
  /** bridge: the host bridge, and whether nsbox created it (and so deletes it). */
  bridge?: string;
  managedBridge?: boolean;
  /** macvlan: the parent link and mode. */
  parent?: string;
  macvlanMode?: string;
  /**
   * bridge: the addresses come from this CNI IPAM plugin (nsbox-cni delegates to it), not from
   * nsbox's leases: the subnets are learned from its answers, and only nsbox-cni attaches.
   */
  ipamPlugin?: string;
  /** overlay: the network as etcd holds it and this host's part of it (docs/overlay.md). */
  overlay?: OverlayConfig;
  /**
   * Set while `network create` makes the host side (the record is inserted first); a record
   * still holding it after its creator died is finished or undone by gc.
   */
  creating?: true;
}

/** An overlay network on this host: its definition in etcd, and this host's block. */
export interface OverlayConfig {
  /** The whole network's subnet (L2: the sandboxes' prefix; L3: the blocks' parent). */
  subnet: string;
  vni: number;
  blockPrefixLength: number;
  mode: 'l3' | 'l2';
  /** VXLAN UDP port. */
  port: number;
  /** The MTU given at create (else derived from the underlay). */
  mtu?: number;
  /** This host's block: its addresses are leased from it. */
  block: string;
  /** This host in etcd, and its underlay address. */
  hostId: string;
  underlay: string;
}

export interface NetworkRecord {
  name: string;
  driver: 'bridge' | 'macvlan' | 'overlay';
  createdAt: string;
  config: NetworkConfig;
}

export interface Lease {
  network: string;
  address: string;
  /** Who holds it: the sandbox key. */
  owner: string;
  /** The interface it is on, inside the sandbox. */
  ifname: string;
}

interface NetworkRow {
  name: string;
  driver: 'bridge' | 'macvlan' | 'overlay';
  created_at: string;
  config: string;
}

const fromRow = (r: NetworkRow): NetworkRecord => ({ name: r.name, driver: r.driver, createdAt: r.created_at, config: JSON.parse(r.config) as NetworkConfig });

export class NetworkRecords {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Insert a network; false if the name is taken. `check` runs inside the transaction, on the other networks. */
  insert(rec: Omit<NetworkRecord, 'createdAt'>, check?: (others: NetworkRecord[]) => void): boolean {
    return this.#db.transaction(() => {
      const others = this.list();
      if (others.some((o) => o.name === rec.name)) return false; // taken: not a clash with itself
      check?.(others);
      const info = this.#db.prepare('INSERT INTO networks (name, driver, created_at, config) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(rec.name, rec.driver, new Date().toISOString(), JSON.stringify(rec.config));
      return info.changes === 1;
    }).immediate();
  }

  get(name: string): NetworkRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM networks WHERE name = ?').get(name) as NetworkRow | undefined;
    return row && fromRow(row);
  }

  list(): NetworkRecord[] {
    return (this.#db.prepare('SELECT * FROM networks ORDER BY created_at, name').all() as NetworkRow[]).map(fromRow);
  }

  /**
   * Change a network's config in one transaction: `change` edits a copy (or throws), given the
   * other networks. Returns the record as written, or undefined when there is no such network.
   */
  update(name: string, change: (config: NetworkConfig, others: NetworkRecord[]) => void): NetworkRecord | undefined {
    return this.#db.transaction(() => {
      const all = this.list();
      const rec = all.find((r) => r.name === name);
      if (rec === undefined) return undefined;
      const config = structuredClone(rec.config);
      change(config, all.filter((r) => r.name !== name));
      this.#db.prepare('UPDATE networks SET config = ? WHERE name = ?').run(JSON.stringify(config), name);
      return { ...rec, config };
    }).immediate();
  }

  /** Delete a network with no leases; returns 'in-use' if it has some. */
  delete(name: string): 'deleted' | 'missing' | 'in-use' {
    return this.#db.transaction(() => {
      const used = this.#db.prepare('SELECT count(*) AS n FROM leases WHERE network = ?').get(name) as { n: number };
      if (used.n > 0) return 'in-use';
      return this.#db.prepare('DELETE FROM networks WHERE name = ?').run(name).changes === 1 ? 'deleted' : 'missing';
    }).immediate();
  }

  /**
   * Lease addresses atomically: `pick(taken)` returns the addresses to take (or throws),
   * given every address of the network already leased.
   */
  lease(network: string, owner: string, ifname: string, pick: (taken: Set<string>) => string[]): string[] {
    return this.#db.transaction(() => {
      const taken = new Set((this.#db.prepare('SELECT address FROM leases WHERE network = ?').all(network) as { address: string }[]).map((r) => r.address));
      const chosen = pick(taken);
      const insert = this.#db.prepare('INSERT INTO leases (network, address, owner, ifname, created_at) VALUES (?, ?, ?, ?, ?)');
      const now = new Date().toISOString();
      for (const address of chosen) insert.run(network, address, owner, ifname, now);
      return chosen;
    }).immediate();
  }

  leasesOf(owner: string, network?: string): Lease[] {
    const rows = network === undefined
      ? this.#db.prepare('SELECT network, address, owner, ifname FROM leases WHERE owner = ? ORDER BY created_at').all(owner)
      : this.#db.prepare('SELECT network, address, owner, ifname FROM leases WHERE owner = ? AND network = ? ORDER BY created_at').all(owner, network);
    return rows as Lease[];
  }

  leasesIn(network: string): Lease[] {
    return this.#db.prepare('SELECT network, address, owner, ifname FROM leases WHERE network = ? ORDER BY created_at').all(network) as Lease[];
  }

  allLeases(): Lease[] {
    return this.#db.prepare('SELECT network, address, owner, ifname FROM leases ORDER BY network, created_at').all() as Lease[];
  }

  /** Release an owner's leases (on one network, or all); returns how many. */
  release(owner: string, network?: string): number {
    const info = network === undefined
      ? this.#db.prepare('DELETE FROM leases WHERE owner = ?').run(owner)
      : this.#db.prepare('DELETE FROM leases WHERE owner = ? AND network = ?').run(owner, network);
    return info.changes;
  }
}
