/**
 * Layer: store.
 *
 * Lab records (src/lab/): per lab, the validated file it was brought up from (as JSON, with a
 * digest to tell a changed file), where that file was, and its state: `applying` from the
 * start of an `up` until it finished (a record left `applying` is an interrupted `up`, which
 * the next `up` resumes or `gc` removes), `up`, or `removing` while `down` runs. And the lab's
 * active faults: each with what it did (so that healing undoes exactly that) and, for a fault
 * given a duration, when it heals itself. Every write is one IMMEDIATE transaction.
 */
import type { Db } from './db.js';

export type LabState = 'applying' | 'up' | 'removing';

export interface LabRecord {
  name: string;
  state: LabState;
  /** The file's path, when it came from one. */
  file: string | undefined;
  /** The validated lab (src/lab/model.ts LabSpec), as stored. */
  spec: unknown;
  /** sha256 of the spec's JSON: the same file gives the same digest. */
  digest: string;
  createdAt: string;
  updatedAt: string;
}

export interface LabFaultRecord {
  lab: string;
  /** A named fault of the file, or a name given to an ad-hoc one (e.g. `partition:1`). */
  name: string;
  /** What it did, as its applier recorded it (healing undoes exactly this). */
  spec: unknown;
  appliedAt: string;
  /** When it heals itself (ISO time), for a fault applied for a duration. */
  healAt: string | undefined;
}

interface LabRow {
  name: string;
  state: LabState;
  file: string | null;
  spec: string;
  digest: string;
  created_at: string;
  updated_at: string;
}

interface FaultRow {
  lab: string;
  name: string;
  spec: string;
  applied_at: string;
  heal_at: string | null;
}

const labFromRow = (r: LabRow): LabRecord => ({
  name: r.name, state: r.state, file: r.file ?? undefined, spec: JSON.parse(r.spec) as unknown,
  digest: r.digest, createdAt: r.created_at, updatedAt: r.updated_at,
});

const faultFromRow = (r: FaultRow): LabFaultRecord => ({
  lab: r.lab, name: r.name, spec: JSON.parse(r.spec) as unknown, appliedAt: r.applied_at, healAt: r.heal_at ?? undefined,
});

export class LabRecords {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(name: string): LabRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM labs WHERE name = ?').get(name) as LabRow | undefined;
    return row === undefined ? undefined : labFromRow(row);
  }

  list(): LabRecord[] {
    return (this.#db.prepare('SELECT * FROM labs ORDER BY name').all() as LabRow[]).map(labFromRow);
  }

  /**
   * Record that an `up` of `name` starts (state `applying`) with this spec: a new row, or the
   * existing one with its spec, digest and file replaced (its faults stay).
   */
  beginApply(name: string, spec: unknown, digest: string, file: string | undefined): LabRecord {
    const now = new Date().toISOString();
    this.#db.prepare(`INSERT INTO labs (name, state, file, spec, digest, created_at, updated_at) VALUES (?, 'applying', ?, ?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET state = 'applying', file = excluded.file, spec = excluded.spec, digest = excluded.digest, updated_at = excluded.updated_at`)
      .run(name, file ?? null, JSON.stringify(spec), digest, now, now);
    return this.get(name)!;
  }

  /** Set the lab's state; false when there is no such lab. */
  setState(name: string, state: LabState): boolean {
    return this.#db.prepare('UPDATE labs SET state = ?, updated_at = ? WHERE name = ?').run(state, new Date().toISOString(), name).changes === 1;
  }

  /** Forget the lab and its faults; false when there was none. */
  remove(name: string): boolean {
    return this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM lab_faults WHERE lab = ?').run(name);
      return this.#db.prepare('DELETE FROM labs WHERE name = ?').run(name).changes === 1;
    }).immediate();
  }

  faults(lab: string): LabFaultRecord[] {
    return (this.#db.prepare('SELECT * FROM lab_faults WHERE lab = ? ORDER BY applied_at, name').all(lab) as FaultRow[]).map(faultFromRow);
  }

  /** Every active fault with a time to heal, of every lab, soonest first. */
  timedFaults(): LabFaultRecord[] {
    return (this.#db.prepare('SELECT * FROM lab_faults WHERE heal_at IS NOT NULL ORDER BY heal_at').all() as FaultRow[]).map(faultFromRow);
  }

  /** Record an active fault (replacing one of the same name). */
  putFault(lab: string, name: string, spec: unknown, healAt: string | undefined): LabFaultRecord {
    const now = new Date().toISOString();
    this.#db.prepare(`INSERT INTO lab_faults (lab, name, spec, applied_at, heal_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (lab, name) DO UPDATE SET spec = excluded.spec, applied_at = excluded.applied_at, heal_at = excluded.heal_at`)
      .run(lab, name, JSON.stringify(spec), now, healAt ?? null);
    return { lab, name, spec, appliedAt: now, healAt };
  }

  /** Forget an active fault; false when it was not active. */
  removeFault(lab: string, name: string): boolean {
    return this.#db.prepare('DELETE FROM lab_faults WHERE lab = ? AND name = ?').run(lab, name).changes === 1;
  }
}
