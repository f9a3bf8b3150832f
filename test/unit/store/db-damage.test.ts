/**
 * Unit: a damaged state database is never reset, and the error says which file and what to
 * do. Random bytes over the header or the middle, a file cut short: NSBOX_ERR_STORE naming the
 * file, the file left byte for byte as it was (no new database in its place). A database
 * another process holds in a write transaction: NSBOX_ERR_BUSY after the (bounded) busy wait,
 * naming that process and not claiming a wait it did not make. A new database another process
 * holds in a write transaction before it is in WAL mode (another nsbox in its first open):
 * SQLite refuses the switch to WAL at once, and openDb waits and retries instead of failing
 * (20 processes creating their first sandboxes at once once hit it). A migration keeps a copy of the old database first
 * (nsbox.db.v<N>.bak), with its rows. (The newer schema's refusal is in db.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, statSync, truncateSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { NsboxError } from '../../../src/errors.js';
import { explainStoreError, openDb, SCHEMA_VERSION, type Db } from '../../../src/store/index.js';
import { tempStoreDir } from '../../helpers/store.js';

const file = (dir: string): string => join(dir, 'nsbox.db');

/** A database with some rows, closed (checkpointed into the main file). */
function populated(dir: string): void {
  const db = openDb(dir);
  const ins = db.prepare("INSERT INTO sandboxes (name, key, state, created_at) VALUES (?, ?, 'ready', 'now')");
  for (let i = 0; i < 400; i++) ins.run(`s${i}-${'x'.repeat(50)}`, `/k/${i}`);
  db.close();
}

/** Open and read every table; the error explained as the CLI would, or undefined when all reads work. */
function openAndRead(dir: string): unknown {
  let db: Db | undefined;
  try {
    db = openDb(dir);
    for (const t of ['sandboxes', 'networks', 'leases', 'ports', 'labs']) db.prepare(`SELECT * FROM ${t}`).all();
    db.pragma('integrity_check');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') return new Error(`quick_check: ${String(check)}`);
    return undefined;
  } catch (err) {
    return explainStoreError(err, file(dir)) ?? err;
  } finally {
    db?.close();
  }
}

function overwrite(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

function assertDamagedAndKept(dir: string, bytes: Buffer, err: unknown, what: string): void {
  assert.ok(err instanceof NsboxError, `${what}: ${String(err)}`);
  assert.equal(err.code, 'NSBOX_ERR_STORE', what);
  assert.ok(err.message.includes(file(dir)), `${what}: names the file: ${err.message}`);
  assert.match(err.message, /damaged.*move it aside/, what);
  assert.ok(readFileSync(file(dir)).equals(bytes), `${what}: the file is left as it was (never reset)`);
  assert.deepEqual(readdirSync(dir).filter((f) => !/-(wal|shm)$/.test(f)), ['nsbox.db'], `${what}: no other database made`);
}

test('random bytes over the header: NSBOX_ERR_STORE naming the file; the file is left as it was', (t) => {
  const dir = tempStoreDir(t);
  populated(dir);
  overwrite(file(dir), 0, randomBytes(100));
  const bytes = readFileSync(file(dir));
  assertDamagedAndKept(dir, bytes, openAndRead(dir), 'header');
  assertDamagedAndKept(dir, bytes, openAndRead(dir), 'header, again');
});

test('random bytes over the middle, and a file cut short: NSBOX_ERR_STORE naming the file; nothing reset', (t) => {
  for (const damage of ['middle', 'truncated'] as const) {
    const dir = tempStoreDir(t);
    populated(dir);
    const size = statSync(file(dir)).size;
    if (damage === 'middle') {
      // every page after the first gets garbage at its start (b-tree page headers)
      for (let off = 4096; off < size; off += 4096) overwrite(file(dir), off, randomBytes(64));
    } else {
      truncateSync(file(dir), Math.floor(size / 2));
    }
    const bytes = readFileSync(file(dir));
    const err = openAndRead(dir);
    assertDamagedAndKept(dir, bytes, err, damage);
  }
});

test('a database another process holds in a write transaction: NSBOX_ERR_BUSY after the bounded wait, naming the process', async (t) => {
  const dir = tempStoreDir(t);
  populated(dir);
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const holder = spawn(process.execPath, ['-e', `
    const D = require(${JSON.stringify(sqlite)});
    const d = new D(${JSON.stringify(file(dir))});
    d.exec('BEGIN IMMEDIATE');
    d.prepare("INSERT INTO sandboxes (name, key, state, created_at) VALUES ('held', '/held', 'ready', 'now')").run();
    process.stdout.write('held\\n');
    setTimeout(() => {}, 60000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => holder.kill('SIGKILL'));
  await once(holder.stdout, 'data');
  const db = openDb(dir, { busyTimeoutMs: 300 });
  t.after(() => db.close());
  let caught: unknown;
  try {
    db.prepare("INSERT INTO sandboxes (name, key, state, created_at) VALUES ('mine', '/mine', 'ready', 'now')").run();
  } catch (err) {
    caught = explainStoreError(err, file(dir));
  }
  assert.ok(caught instanceof NsboxError, String(caught));
  assert.equal(caught.code, 'NSBOX_ERR_BUSY');
  assert.ok(caught.message.includes(file(dir)), caught.message);
  assert.ok(caught.message.includes(`pid ${holder.pid}`), `names the holder: ${caught.message}`);
  assert.match(caught.message, /wait for it to finish|stop it/);
  assert.match(caught.message, /SQLITE_BUSY/, 'says what SQLite answered');
  assert.doesNotMatch(caught.message, /for \d+ s/, 'claims no length of wait');
  holder.kill('SIGKILL');
  await once(holder, 'exit');
  // once it is gone, the same write goes through and the holder's uncommitted row never was
  db.prepare("INSERT INTO sandboxes (name, key, state, created_at) VALUES ('mine', '/mine', 'ready', 'now')").run();
  assert.deepEqual(db.prepare("SELECT name FROM sandboxes WHERE name IN ('held', 'mine')").all(), [{ name: 'mine' }]);
});

/** A child process holding `dbFile` (made empty first, so not yet in WAL mode) in a write transaction for `ms`. */
async function holdNewDatabase(t: { after: (fn: () => void) => void }, dbFile: string, ms: number): Promise<void> {
  closeSync(openSync(dbFile, 'w', 0o600));
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const holder = spawn(process.execPath, ['-e', `
    const D = require(${JSON.stringify(sqlite)});
    const d = new D(${JSON.stringify(dbFile)});
    d.exec('BEGIN IMMEDIATE');
    process.stdout.write('held\\n');
    setTimeout(() => { d.exec('COMMIT'); d.close(); }, ${ms});`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => holder.kill('SIGKILL'));
  await once(holder.stdout, 'data');
}

test('a new database another process holds in a write transaction: the switch to WAL waits for it instead of failing at once', async (t) => {
  const dir = tempStoreDir(t);
  await holdNewDatabase(t, file(dir), 300);
  const db = openDb(dir, { busyTimeoutMs: 10_000 });
  t.after(() => db.close());
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
});

test('a new database held past the busy timeout: NSBOX_ERR_BUSY once it has passed', async (t) => {
  const dir = tempStoreDir(t);
  await holdNewDatabase(t, file(dir), 60_000);
  const started = Date.now();
  let caught: unknown;
  try {
    openDb(dir, { busyTimeoutMs: 200 }).close();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof NsboxError, String(caught));
  assert.equal(caught.code, 'NSBOX_ERR_BUSY');
  assert.ok(Date.now() - started >= 200, 'waited the timeout, not refused at once');
});

test('a migration keeps a copy of the old database first (nsbox.db.v<N>.bak, private, with its rows)', (t) => {
  const dir = tempStoreDir(t);
  populated(dir);
  const old = new Database(file(dir));
  old.exec('DROP TABLE lab_faults; DROP TABLE labs;');
  old.pragma(`user_version = ${SCHEMA_VERSION - 1}`);
  old.close();
  openDb(dir).close();
  const backup = `${file(dir)}.v${SCHEMA_VERSION - 1}.bak`;
  assert.ok(existsSync(backup), 'the backup');
  assert.equal(statSync(backup).mode & 0o777, 0o600);
  const b = new Database(backup, { readonly: true });
  t.after(() => b.close());
  assert.equal(b.pragma('user_version', { simple: true }), SCHEMA_VERSION - 1);
  assert.equal((b.prepare('SELECT count(*) AS n FROM sandboxes').get() as { n: number }).n, 400);
  // an up-to-date database is not copied again
  openDb(dir).close();
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.bak')), [`nsbox.db.v${SCHEMA_VERSION - 1}.bak`]);
});
