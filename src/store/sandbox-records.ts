/**
 * Layer: store.
 *
 * Sandbox records: each holds the sandbox's full desired configuration, so `restore
 * --recreate` can rebuild it and `gc` can tell what nsbox made. Every write is one IMMEDIATE
 * transaction; read-modify-write happens inside it, so concurrent processes never lose an
 * update.
 */
import type { Db } from './db.js';

export type SandboxState = 'creating' | 'ready' | 'removing';

/** One interface as configured (the options are addInterface's, as given). */
export interface InterfaceRecord {
  srcName: string;
  dstPrefix: string;
  dstName: string;
  /**
   * 'adding' until the kernel work finished; 'removing' once a disconnect started taking it
   * apart. A crash leaves either for gc to finish (managed/undo.ts).
   */
  state: 'adding' | 'ready' | 'removing';
  options: {
    ipv4?: string;
    ipv6?: string;
    mac?: string;
    master?: string;
    isBridge?: boolean;
    routes?: string[];
    sysctls?: string[];
    createdInContainer?: boolean;
  };
  /** Set for an interface a network gave the sandbox (created inside; deleted, not moved, on removal). */
  network?: string;
  /**
   * How to bring the link back after a reboot: a veth whose peer stayed in the host. For one end
   * of a veth pair between two sandboxes (managed/veth-pair.ts): the other end's sandbox and name.
   */
  link?: { kind: string; peer?: string; peerMaster?: string; mtu?: number; peerSandbox?: string; peerName?: string };
}

export interface SandboxConfig {
  interfaces: InterfaceRecord[];
  routes: { destination: string; nextHop: string }[];
  gateway?: string;
  gatewayIPv6?: string;
  neighbors: { ip: string; mac: string; linkName?: string }[];
  /** DNS servers given with --dns: the sandbox's resolv.conf names them instead of the host's. */
  dns?: string[];
}

export interface SandboxRecord {
  name: string;
  key: string;
  state: SandboxState;
  createdAt: string;
  labels: Record<string, string>;
  config: SandboxConfig;
}

interface Row {
  name: string;
  key: string;
  state: SandboxState;
  created_at: string;
  labels: string;
  config: string;
}

export function emptyConfig(): SandboxConfig {
  return { interfaces: [], routes: [], neighbors: [] };
}

function fromRow(r: Row): SandboxRecord {
  return {
    name: r.name, key: r.key, state: r.state, createdAt: r.created_at,
    labels: JSON.parse(r.labels) as Record<string, string>,
    config: { ...emptyConfig(), ...(JSON.parse(r.config) as Partial<SandboxConfig>) },
  };
}

export class SandboxRecords {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Insert a new record in state 'creating'; false if the name (or key) is taken. */
  insert(rec: Omit<SandboxRecord, 'state' | 'createdAt'>): boolean {
    const info = this.#db.prepare(
      `INSERT INTO sandboxes (name, key, state, created_at, labels, config) VALUES (?, ?, 'creating', ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    ).run(rec.name, rec.key, new Date().toISOString(), JSON.stringify(rec.labels), JSON.stringify(rec.config));
    return info.changes === 1;
  }

  get(name: string): SandboxRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM sandboxes WHERE name = ?').get(name) as Row | undefined;
    return row && fromRow(row);
  }

  list(): SandboxRecord[] {
    return (this.#db.prepare('SELECT * FROM sandboxes ORDER BY created_at, name').all() as Row[]).map(fromRow);
  }

  setState(name: string, state: SandboxState): void {
    this.#db.prepare('UPDATE sandboxes SET state = ? WHERE name = ?').run(state, name);
  }

  /** Read, change and write one record's configuration atomically; returns the new record. */
  update(name: string, change: (config: SandboxConfig) => void): SandboxRecord | undefined {
    return this.#db.transaction(() => {
      const rec = this.get(name);
      if (rec === undefined) return undefined;
      change(rec.config);
      this.#db.prepare('UPDATE sandboxes SET config = ? WHERE name = ?').run(JSON.stringify(rec.config), name);
      return rec;
    }).immediate();
  }

  delete(name: string): boolean {
    return this.#db.prepare('DELETE FROM sandboxes WHERE name = ?').run(name).changes === 1;
  }
}
