/**
 * Layer: store.
 *
 * The embedded state database: one SQLite file (mode 0600) in WAL mode with a busy timeout,
 * so several nsbox processes can read and write at once; every change runs in an IMMEDIATE
 * transaction. The schema is versioned with PRAGMA user_version and migrated forward on open.
 */
import type Database from 'better-sqlite3';
import { chmodSync, closeSync, constants, existsSync, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NsboxError } from '../errors.js';
import { phase } from '../trace.js';
import { loadSqlite, type LoadedSqlite } from './sqlite-load.js';

export type Db = Database.Database;

/** better-sqlite3, loaded on the first open (sqlite-load.ts). */
let sqlite: LoadedSqlite | undefined;

/** Each entry moves the schema from version i to i + 1. Never edit a released entry. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE sandboxes (
     name        TEXT PRIMARY KEY,
     key         TEXT NOT NULL UNIQUE,
     state       TEXT NOT NULL CHECK (state IN ('creating', 'ready', 'removing')),
     created_at  TEXT NOT NULL,
     labels      TEXT NOT NULL DEFAULT '{}',
     config      TEXT NOT NULL DEFAULT '{}'
   ) STRICT;`,
  `CREATE TABLE networks (
     name        TEXT PRIMARY KEY,
     driver      TEXT NOT NULL CHECK (driver IN ('bridge', 'macvlan')),
     created_at  TEXT NOT NULL,
     config      TEXT NOT NULL
   ) STRICT;
   CREATE TABLE leases (
     network     TEXT NOT NULL REFERENCES networks (name),
     address     TEXT NOT NULL,
     owner       TEXT NOT NULL,
     ifname      TEXT NOT NULL,
     created_at  TEXT NOT NULL,
     PRIMARY KEY (network, address)
   ) STRICT;
   CREATE INDEX leases_by_owner ON leases (owner);`,
  `CREATE TABLE ports (
     family      INTEGER NOT NULL CHECK (family IN (4, 6)),
     protocol    TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp')),
     host_ip     TEXT NOT NULL DEFAULT '',
     host_port   INTEGER NOT NULL CHECK (host_port BETWEEN 1 AND 65535),
     sandbox     TEXT NOT NULL,
     network     TEXT NOT NULL,
     address     TEXT NOT NULL,
     port        INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
     state       TEXT NOT NULL CHECK (state IN ('adding', 'active', 'removing')),
     created_at  TEXT NOT NULL,
     PRIMARY KEY (family, protocol, host_ip, host_port)
   ) STRICT;
   CREATE INDEX ports_by_sandbox ON ports (sandbox);
   CREATE TABLE host_settings (
     key         TEXT PRIMARY KEY,
     previous    TEXT NOT NULL,
     value       TEXT NOT NULL,
     changed_at  TEXT NOT NULL
   ) STRICT;`,
  // The clash lookup before publishing (protocol, family and host port; any address): without it
  // each lookup scanned every row of the protocol, and 1,000 ports cost ~40 ms (benchmarks.md).
  `CREATE INDEX ports_by_host_port ON ports (family, protocol, host_port);`,
  // Labs (src/lab/): the validated file of each lab that was brought up, and its active faults.
  `CREATE TABLE labs (
     name        TEXT PRIMARY KEY,
     state       TEXT NOT NULL CHECK (state IN ('applying', 'up', 'removing')),
     file        TEXT,
     spec        TEXT NOT NULL,
     digest      TEXT NOT NULL,
     created_at  TEXT NOT NULL,
     updated_at  TEXT NOT NULL
   ) STRICT;
   CREATE TABLE lab_faults (
     lab         TEXT NOT NULL REFERENCES labs (name) ON DELETE CASCADE,
     name        TEXT NOT NULL,
     spec        TEXT NOT NULL,
     applied_at  TEXT NOT NULL,
     heal_at     TEXT,
     PRIMARY KEY (lab, name)
   ) STRICT;`,
  // Overlay networks (docs/overlay.md): the driver's CHECK gains 'overlay'. SQLite cannot change a
  // CHECK in place: the table is made again (its documented 12 steps; migrate() turns foreign
  // keys off around it and checks them before committing).
  `CREATE TABLE networks_next (
     name        TEXT PRIMARY KEY,
     driver      TEXT NOT NULL CHECK (driver IN ('bridge', 'macvlan', 'overlay')),
     created_at  TEXT NOT NULL,
     config      TEXT NOT NULL
   ) STRICT;
   INSERT INTO networks_next (name, driver, created_at, config) SELECT name, driver, created_at, config FROM networks;
   DROP TABLE networks;
   ALTER TABLE networks_next RENAME TO networks;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** How long a statement waits for another process's write transaction before it fails (SQLITE_BUSY). */
export const BUSY_TIMEOUT_MS = 10_000;

/** Processes holding a POSIX lock (SQLite's) on one of `files`, from /proc/locks: "pid 123 (nsbox)". */
function lockHolders(files: readonly string[]): string[] {
  const inodes = new Set<number>();
  for (const f of files) {
    try {
      inodes.add(statSync(f).ino);
    } catch {
      // not there (no -shm yet)
    }
  }
  let text: string;
  try {
    text = readFileSync('/proc/locks', 'utf8');
  } catch {
    return [];
  }
  const pids = new Set<string>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // 1: POSIX  ADVISORY  WRITE 1234 00:2a:5678 0 EOF
    const inode = Number(f[5]?.split(':')[2]);
    if (f[1] === 'POSIX' && inodes.has(inode) && f[4] !== String(process.pid)) pids.add(f[4]!);
  }
  return [...pids].map((pid) => {
    let comm = '';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      comm = ` (${comm}: ${readlinkSync(`/proc/${pid}/exe`)})`;
    } catch {
      comm = comm === '' ? '' : ` (${comm})`;
    }
    return `pid ${pid}${comm}`;
  });
}

/**
 * A SQLite error of the state database `file` as an error saying what is wrong and what to do
 * (NSBOX_ERR_STORE; NSBOX_ERR_BUSY for a lock held too long), or undefined for any other error.
 * nsbox never resets or rewrites a damaged database: the file is left for the user to look at.
 */
export function explainStoreError(err: unknown, file: string): NsboxError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  const what = `${code}: ${(err as Error).message}`;
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) {
    return new NsboxError(`the state database ${file} is damaged (${what}); nsbox left it as it is: move it aside ` +
      `(mv ${file} ${file}.damaged, with its -wal and -shm) to start with an empty one, then \`nsbox gc\` removes what the lost records held, or restore it from a backup`, 'NSBOX_ERR_STORE', { cause: err });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    const holders = lockHolders([file, `${file}-wal`, `${file}-shm`]);
    // Not "for N s": SQLite also refuses at once, where waiting could deadlock (switchToWal).
    return new NsboxError(`the state database ${file} is locked by another process (${holders.length > 0 ? `held by ${holders.join(', ')}` : 'its holder not found in /proc/locks'}; ${what}): ` +
      'wait for it to finish and run the command again, or stop it if it is stuck; nothing was changed', 'NSBOX_ERR_BUSY', { cause: err });
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_FULL') || code.startsWith('SQLITE_PERM')) {
    return new NsboxError(`the state database ${file} cannot be used (${what}): check that its directory is writable by this user and has space`, 'NSBOX_ERR_STORE', { cause: err });
  }
  return undefined;
}

export interface OpenDbOptions {
  /** How long to wait for another process's lock (default BUSY_TIMEOUT_MS). */
  busyTimeoutMs?: number;
}

/**
 * Whether the file is an SQLite database already in WAL mode (its header's read and write
 * versions are 2: https://sqlite.org/fileformat2.html#database_header); created here, mode
 * 0600, before SQLite does, when missing. The journal mode is kept in the file, so a database
 * in WAL mode is opened without setting it again (a write lock and ~1 ms of every command).
 */
function prepareFile(file: string): boolean {
  // Never through a symlink (or onto a device, a directory): SQLite would write its pages, and
  // nsbox its modes, wherever one planted in the root points.
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    let st;
    try {
      st = lstatSync(f);
    } catch {
      continue;
    }
    if (!st.isFile()) {
      throw new NsboxError(`the state database's file ${f} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}, which nsbox never makes or follows: remove it (after checking what it is)`, 'NSBOX_ERR_STORE');
    }
  }
  const fd = openSync(file, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    if ((fstatSync(fd).mode & 0o777) !== 0o600) fchmodSync(fd, 0o600);
    const header = Buffer.alloc(20);
    return readSync(fd, header, 0, 20, 0) === 20 && header.toString('latin1', 0, 16) === 'SQLite format 3\0' && header[18] === 2 && header[19] === 2;
  } finally {
    closeSync(fd);
  }
}

/** The database's file name in its directory (its WAL and shm files start with it). */
export const DB_FILE_NAME = 'nsbox.db';

/** Open (creating if needed) the state database in `dir`. */
export function openDb(dir: string, options: OpenDbOptions = {}): Db {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, DB_FILE_NAME);
  const wal = prepareFile(file);
  sqlite ??= loadSqlite();
  phase('store: better-sqlite3 loaded');
  const timeout = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  let db: Db;
  try {
    db = new sqlite.Database(file, { timeout, nativeBinding: sqlite.nativeBinding });
  } catch (err) {
    throw explainStoreError(err, file) ?? err;
  }
  try {
    if (!wal) switchToWal(db, timeout);
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db); // its fast path: one read of user_version
  } catch (err) {
    db.close(); // a refused database (e.g. a newer schema) is not held open
    throw explainStoreError(err, file) ?? err;
  }
  if (!wal) {
    // SQLite makes them with the database file's mode (0600); they were there before it was
    // in WAL mode only if someone else made them.
    for (const suffix of ['-wal', '-shm']) {
      try {
        chmodSync(file + suffix, 0o600);
      } catch {
        // created lazily by SQLite
      }
    }
  }
  phase('store: opened (WAL, schema checked)');
  return db;
}

/**
 * Put the database in WAL mode. SQLite answers SQLITE_BUSY at once, without waiting, when
 * another connection holds the write lock while this one holds its read lock (the switch reads
 * the header, then writes it): refusing to wait avoids a deadlock. Many nsbox processes opening
 * a new database at once all switch it: each retries until `timeoutMs` has passed (the switch
 * itself takes ~1 ms; once another has made it, it is a no-op).
 */
function switchToWal(db: Db, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const left = deadline - Date.now();
      if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY') || left <= 0) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(pause, left)); // only a database not yet in WAL mode waits here
    }
  }
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new NsboxError(`the state database ${db.name} has schema version ${current}, newer than this nsbox (${SCHEMA_VERSION}); upgrade nsbox`, 'NSBOX_ERR_STORE');
  }
  if (current === SCHEMA_VERSION) return;
  // A database with data is copied before it changes: ROOT/nsbox.db.v<N>.bak, a consistent
  // copy (VACUUM INTO), kept; a migration that goes wrong never costs the user their state.
  if (current > 0) {
    const backup = `${db.name}.v${current}.bak`;
    if (!existsSync(backup)) {
      db.exec(`VACUUM INTO '${backup.replace(/'/g, "''")}'`);
      chmodSync(backup, 0o600);
    }
  }
  // A table made again (a CHECK changed) must not cascade into the tables referring to it:
  // foreign keys are off while migrating (a no-op inside a transaction, so set before it) and
  // checked before the commit.
  db.pragma('foreign_keys = OFF');
  try {
    db.transaction(() => {
      const now = db.pragma('user_version', { simple: true }) as number; // another process may have migrated meanwhile
      for (let v = now; v < SCHEMA_VERSION; v++) {
        db.exec(MIGRATIONS[v]!);
        db.pragma(`user_version = ${v + 1}`);
      }
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length > 0) throw new NsboxError(`migrating ${db.name}: ${broken.length} rows break a foreign key`, 'NSBOX_ERR_STORE');
    }).immediate();
  } finally {
    db.pragma('foreign_keys = ON');
  }
}
