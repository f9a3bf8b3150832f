/**
 * Layer: store.
 *
 * Published ports: one row per (family, protocol, host address, host port), the key the kernel's
 * DNAT maps use too, so the store refuses a duplicate before the kernel has to. A row is
 * recorded 'adding' before its element is written, marked 'active' after, and 'removing' while
 * it is taken out; a process killed in between leaves a state that gc settles. A port on every
 * host address ('' here) and one on a specific address of the same family overlap: that is
 * refused inside the same transaction.
 */
import type { Db } from './db.js';

export type PortState = 'adding' | 'active' | 'removing';

export interface PortRecord {
  family: 4 | 6;
  protocol: 'tcp' | 'udp';
  /** A host address, or '' for every address of the family. */
  hostIp: string;
  hostPort: number;
  /** The sandbox (its name) and the network its address is on. */
  sandbox: string;
  network: string;
  /** The sandbox's address the port goes to, and the port there. */
  address: string;
  port: number;
  state: PortState;
}

interface Row {
  family: 4 | 6;
  protocol: 'tcp' | 'udp';
  host_ip: string;
  host_port: number;
  sandbox: string;
  network: string;
  address: string;
  port: number;
  state: PortState;
}

const fromRow = (r: Row): PortRecord => ({
  family: r.family, protocol: r.protocol, hostIp: r.host_ip, hostPort: r.host_port, sandbox: r.sandbox, network: r.network,
  address: r.address, port: r.port, state: r.state,
});

/** The store's key of a port: what makes two rows the same published port. */
export type PortKey = Pick<PortRecord, 'family' | 'protocol' | 'hostIp' | 'hostPort'>;

/** Thrown inside a transaction to roll it back (better-sqlite3 commits unless the function throws). */
const ROLLBACK = Symbol('rollback');

const KEY_WHERE = 'family = ? AND protocol = ? AND host_ip = ? AND host_port = ?';
const keyArgs = (k: PortKey): [number, string, string, number] => [k.family, k.protocol, k.hostIp, k.hostPort];

export class PortRecords {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Record ports in state 'adding', all or none. Returns the first one that is taken (by the
   * same key, or by an overlapping wildcard/specific address of its family) without recording
   * anything, or undefined when all were recorded.
   */
  insert(ports: readonly Omit<PortRecord, 'state'>[]): PortRecord | undefined {
    let taken: PortRecord | undefined;
    try {
      this.#db.transaction(() => {
        const clash = this.#db.prepare(
          `SELECT * FROM ports WHERE family = ? AND protocol = ? AND host_port = ? AND (host_ip = ? OR host_ip = '' OR ? = '') LIMIT 1`,
        );
        const insert = this.#db.prepare(
          `INSERT INTO ports (family, protocol, host_ip, host_port, sandbox, network, address, port, state, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'adding', ?)`,
        );
        const now = new Date().toISOString();
        for (const p of ports) {
          const row = clash.get(p.family, p.protocol, p.hostPort, p.hostIp, p.hostIp) as Row | undefined;
          if (row !== undefined) {
            taken = fromRow(row);
            throw ROLLBACK; // the rows inserted before it go too
          }
          insert.run(p.family, p.protocol, p.hostIp, p.hostPort, p.sandbox, p.network, p.address, p.port, now);
        }
      }).immediate();
    } catch (err) {
      if (err !== ROLLBACK) throw err;
    }
    return taken;
  }

  get(key: PortKey): PortRecord | undefined {
    const row = this.#db.prepare(`SELECT * FROM ports WHERE ${KEY_WHERE}`).get(...keyArgs(key)) as Row | undefined;
    return row && fromRow(row);
  }

  /** Every port, or a sandbox's, in host-port order. */
  list(sandbox?: string): PortRecord[] {
    const rows = sandbox === undefined
      ? this.#db.prepare('SELECT * FROM ports ORDER BY host_port, protocol, family, host_ip').all()
      : this.#db.prepare('SELECT * FROM ports WHERE sandbox = ? ORDER BY host_port, protocol, family, host_ip').all(sandbox);
    return (rows as Row[]).map(fromRow);
  }

  /** Set the state of these ports (those still recorded). */
  setState(keys: readonly PortKey[], state: PortState): void {
    this.#db.transaction(() => {
      const update = this.#db.prepare(`UPDATE ports SET state = ? WHERE ${KEY_WHERE}`);
      for (const k of keys) update.run(state, ...keyArgs(k));
    }).immediate();
  }

  /** Delete these ports; returns how many were recorded. */
  delete(keys: readonly PortKey[]): number {
    return this.#db.transaction(() => {
      const del = this.#db.prepare(`DELETE FROM ports WHERE ${KEY_WHERE}`);
      let n = 0;
      for (const k of keys) n += del.run(...keyArgs(k)).changes;
      return n;
    }).immediate();
  }
}
