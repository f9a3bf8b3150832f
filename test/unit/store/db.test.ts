/**
 * Unit (no root): src/store/db.ts openDb on a temporary directory. The file is private, in WAL
 * mode and at SCHEMA_VERSION; a database of any older released version (0 to SCHEMA_VERSION - 1)
 * is migrated to exactly the schema a fresh one gets, keeping its rows; a newer one is refused
 * with NSBOX_ERR_STORE and left as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { chmodSync, existsSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NsboxError } from '../../../src/errors.js';
import { SCHEMA_VERSION, openDb, type Db } from '../../../src/store/index.js';
import { openTestDb, tempStoreDir } from '../../helpers/store.js';

/**
 * The migrations as released: entry i moves the schema from version i to i + 1. A copy, on
 * purpose: released entries must never change (the test below holds openDb to them), and a
 * new migration needs its entry here.
 */
const RELEASED: readonly string[] = [
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
  // Overlay networks: the driver's CHECK gains 'overlay' (the table made again).
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

const file = (dir: string): string => join(dir, 'nsbox.db');

/** Every table and index with its SQL, whitespace folded. */
function schemaOf(db: Db): string[] {
  return (db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as { type: string; name: string; sql: string }[])
    .map((r) => `${r.type} ${r.name}: ${r.sql.replace(/\s+/g, ' ')}`);
}

/** A database at `version` made with the released migrations, as an older nsbox left it. */
function databaseAt(dir: string, version: number): void {
  const db = new Database(file(dir));
  db.pragma('journal_mode = WAL');
  for (const sql of RELEASED.slice(0, version)) db.exec(sql);
  db.pragma(`user_version = ${version}`);
  db.close();
}

/** The fds of this process open on `path`. */
function fdsOn(path: string): string[] {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  });
}

void test('openDb makes the directory 0700 and the database 0600 (its -wal and -shm too), in WAL mode, at SCHEMA_VERSION', (t) => {
  const dir = join(tempStoreDir(t), 'state');
  const umask = process.umask(0); // what the files would get without nsbox's own modes
  let db: Db;
  try {
    db = openTestDb(t, dir);
  } finally {
    process.umask(umask);
  }
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  for (const name of ['nsbox.db', 'nsbox.db-wal', 'nsbox.db-shm']) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(readFileSync(file(dir)).subarray(18, 20).toString('hex'), '0202', 'WAL is recorded in the file header');
});

void test('the second open reads WAL from the header and skips setting it; a database taken out of WAL (or a 0644 file) is put back in WAL, 0600, with its -wal and -shm private', (t) => {
  const dir = join(tempStoreDir(t), 'state');
  openDb(dir).close();
  const again = openDb(dir); // the fast path: the header says WAL
  assert.equal(again.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(again.pragma('synchronous', { simple: true }), 1, 'synchronous = NORMAL is per connection: set on every open');
  assert.equal(again.pragma('foreign_keys', { simple: true }), 1, 'foreign_keys is per connection: set on every open');
  again.close();
  const other = new Database(file(dir));
  other.pragma('journal_mode = DELETE');
  other.close();
  assert.equal(readFileSync(file(dir)).subarray(18, 20).toString('hex'), '0101', 'out of WAL');
  chmodSync(file(dir), 0o644);
  const umask = process.umask(0);
  let db: Db;
  try {
    db = openTestDb(t, dir);
  } finally {
    process.umask(umask);
  }
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  for (const name of ['nsbox.db', 'nsbox.db-wal', 'nsbox.db-shm']) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
  assert.equal(readFileSync(file(dir)).subarray(18, 20).toString('hex'), '0202');
});

void test('a fresh database has exactly the schema of the released migrations; every migration is in RELEASED', (t) => {
  assert.equal(RELEASED.length, SCHEMA_VERSION, 'a new migration needs its copy in RELEASED (and a released one must never change)');
  const fresh = openTestDb(t, tempStoreDir(t));
  const released = tempStoreDir(t);
  databaseAt(released, SCHEMA_VERSION);
  const db = new Database(file(released), { readonly: true });
  t.after(() => db.close());
  assert.deepEqual(schemaOf(fresh), schemaOf(db));
  assert.ok(schemaOf(fresh).length >= 4, 'sandboxes, networks, leases and the index');
});

void test('migrates from 0: an empty file becomes a database at SCHEMA_VERSION', (t) => {
  const reference = schemaOf(openTestDb(t, tempStoreDir(t)));
  const empty = tempStoreDir(t);
  writeFileSync(file(empty), '');
  const db = openTestDb(t, empty);
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.deepEqual(schemaOf(db), reference);
});

void test('migrates from every intermediate version to the schema a fresh database gets, keeping the rows', (t) => {
  const reference = schemaOf(openTestDb(t, tempStoreDir(t)));
  for (let version = 1; version < SCHEMA_VERSION; version++) {
    const dir = tempStoreDir(t);
    databaseAt(dir, version);
    const old = new Database(file(dir));
    old.prepare("INSERT INTO sandboxes (name, key, state, created_at) VALUES ('kept', '/k', 'ready', '2020-01-01T00:00:00.000Z')").run();
    old.close();
    const db = openTestDb(t, dir);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION, `from ${version}`);
    assert.deepEqual(schemaOf(db), reference, `from ${version}`);
    assert.deepEqual(db.prepare('SELECT name, key, state, labels, config FROM sandboxes').all(),
      [{ name: 'kept', key: '/k', state: 'ready', labels: '{}', config: '{}' }], `from ${version}: the rows survive`);
  }
});

void test('the overlay migration keeps networks and the leases referring to them, and then takes overlay networks', (t) => {
  const dir = tempStoreDir(t);
  databaseAt(dir, 5);
  const old = new Database(file(dir));
  old.pragma('foreign_keys = ON');
  old.prepare("INSERT INTO networks (name, driver, created_at, config) VALUES ('n', 'bridge', 'x', '{}')").run();
  old.prepare("INSERT INTO leases (network, address, owner, ifname, created_at) VALUES ('n', '10.0.0.2', '/k', 'eth0', 'x')").run();
  old.close();
  const db = openTestDb(t, dir);
  assert.deepEqual(db.prepare('SELECT network, address FROM leases').all(), [{ network: 'n', address: '10.0.0.2' }]);
  assert.deepEqual(db.prepare('SELECT name FROM networks').all(), [{ name: 'n' }]);
  db.prepare("INSERT INTO networks (name, driver, created_at, config) VALUES ('o', 'overlay', 'x', '{}')").run();
  assert.throws(() => db.prepare("INSERT INTO leases (network, address, owner, ifname, created_at) VALUES ('nope', '10.0.0.3', '/k', 'eth0', 'x')").run(), /FOREIGN KEY/);
});

void test('a database with a newer schema is refused with NSBOX_ERR_STORE and left as it was, with nothing held open', (t) => {
  const dir = tempStoreDir(t);
  openDb(dir).close();
  const newer = new Database(file(dir));
  newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  newer.close();
  const bytes = readFileSync(file(dir));
  const files = readdirSync(dir).sort();
  const mode = statSync(file(dir)).mode;
  assert.throws(() => openDb(dir), (err: unknown) => {
    assert.ok(err instanceof NsboxError);
    assert.equal(err.code, 'NSBOX_ERR_STORE');
    assert.equal(err.message,
      `the state database ${file(dir)} has schema version ${SCHEMA_VERSION + 1}, newer than this nsbox (${SCHEMA_VERSION}); upgrade nsbox`);
    return true;
  });
  assert.ok(readFileSync(file(dir)).equals(bytes), 'the file is unchanged');
  assert.equal(statSync(file(dir)).mode, mode);
  assert.deepEqual(fdsOn(file(dir)), [], 'the refused connection is closed');
  assert.deepEqual(readdirSync(dir).sort(), files, 'no -wal or -shm left behind');
  assert.equal(existsSync(`${file(dir)}-wal`), false);
});
