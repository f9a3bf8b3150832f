/**
 * Layer: store.
 *
 * Settings of the host nsbox changed (sysctls such as net.ipv4.ip_forward), each with the value
 * it had before nsbox first changed it: so that nsbox says so once, and a user can see (and
 * restore) what the host was like.
 */
import type { Db } from './db.js';

export interface HostSetting {
  key: string;
  /** The value before nsbox first changed it. */
  previous: string;
  /** The value nsbox set. */
  value: string;
  changedAt: string;
}

interface Row {
  key: string;
  previous: string;
  value: string;
  changed_at: string;
}

export class HostSettings {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Record a change; the first previous value of a key is kept. True when the key is new. */
  record(key: string, previous: string, value: string): boolean {
    return this.#db.transaction(() => {
      const now = new Date().toISOString();
      const inserted = this.#db.prepare('INSERT INTO host_settings (key, previous, value, changed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(key, previous, value, now).changes === 1;
      if (!inserted) this.#db.prepare('UPDATE host_settings SET value = ?, changed_at = ? WHERE key = ?').run(value, now, key);
      return inserted;
    }).immediate();
  }

  list(): HostSetting[] {
    return (this.#db.prepare('SELECT * FROM host_settings ORDER BY key').all() as Row[])
      .map((r) => ({ key: r.key, previous: r.previous, value: r.value, changedAt: r.changed_at }));
  }
}
