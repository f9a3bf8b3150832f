#!/usr/bin/env node
/**
 * Soak: many create/destroy cycles, sampling what could leak (docs/reliability.md "Soak").
 *
 *   npm run soak                                   # full: 10,000 library and 2,000 CLI cycles
 *   node scripts/soak.js --lib 1000 --cli 200 --every 100 [--json FILE]
 *
 * As root; re-runs itself in a throwaway host (scripts/throwaway-host.js) when not in one.
 * Uses the built dist/ (run `npm run build:ts` first).
 *
 * - library: in this process, with the public API (`Networks`, `Sandbox`): a sandbox, a veth on
 *   a bridge network (attach: lease, address, route), detach, destroy. Sampled: this process's
 *   open fds (/proc/self/fd) and RSS.
 * - CLI: `nsbox run -- true` as a child process. Sampled: mounts (/proc/self/mountinfo), entries
 *   under /run and /run/netns, files in ROOT/locks, the database's size (with its WAL) and its
 *   row counts.
 *
 * Prints one row per sample (every 1,000 cycles by default); exits 1 when a figure that must be
 * flat (fds, mounts, /run entries, lock files, rows) grew from the first sample to the last.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInThrowawayHost } from './throwaway-host.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const NSBOX_BIN = join(REPO, 'bin', 'nsbox.js');

function parseArgs(argv) {
  const opts = { lib: 10_000, cli: 2_000, every: 1_000, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--lib') opts.lib = Number(value());
    else if (a === '--cli') opts.cli = Number(value());
    else if (a === '--every') opts.every = Number(value());
    else if (a === '--json') opts.json = value();
    else throw new Error(`unknown option ${a} (options: --lib N --cli N --every N --json FILE)`);
  }
  for (const k of ['lib', 'cli', 'every']) {
    if (!Number.isInteger(opts[k]) || opts[k] < 0) throw new Error(`--${k} must be a whole number, got ${opts[k]}`);
  }
  if (opts.every === 0) throw new Error('--every must be at least 1');
  return opts;
}

function fdCount() {
  return readdirSync('/proc/self/fd').length;
}

function rssKiB() {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? NaN);
}

function mountCount() {
  return readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').length;
}

function entries(dir) {
  return existsSync(dir) ? readdirSync(dir).length : 0;
}

/** Every file under `dir`, recursively (the /run tmpfs of the throwaway host). */
function treeCount(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    n++;
    if (e.isDirectory()) n += treeCount(join(dir, e.name));
  }
  return n;
}

function fileSize(path) {
  return existsSync(path) ? statSync(path).size : 0;
}

async function librarySoak(cycles, every, samples) {
  if (cycles === 0) return;
  const { Networks, Sandbox, generateKey, setBasePath } = await import(join(REPO, 'dist', 'nsbox.mjs'));
  setBasePath('/run/soak-lib');
  const nets = Networks.open({ root: '/run/soak-lib-state' });
  await nets.create('soak', { subnets: ['10.211.0.0/24'] });
  const sample = (cycle) => {
    globalThis.gc?.();
    const mem = process.memoryUsage();
    samples.push({ soak: 'library', cycle, fds: fdCount(), rssKiB: rssKiB(), heapKiB: Math.round(mem.heapUsed / 1024), externalKiB: Math.round(mem.external / 1024) });
    const s = samples.at(-1);
    const mib = (kib) => (kib / 1024).toFixed(1).padStart(7);
    console.log(`library ${String(cycle).padStart(6)}  fds ${String(s.fds).padStart(4)}  rss ${mib(s.rssKiB)} MiB  heap ${mib(s.heapKiB)} MiB  external ${mib(s.externalKiB)} MiB`);
  };
  const cycle = async (i) => {
    const sb = await Sandbox.create(generateKey(`soak${String(i).padStart(12, '0')}`));
    try {
      await nets.attach(sb, 'soak');
      await nets.detach(sb, 'soak');
    } finally {
      await sb.destroy();
    }
  };
  await cycle(0); // the first cycle opens what lives for the process (the host's netlink sockets): sample after it
  sample(0);
  for (let i = 1; i <= cycles; i++) {
    await cycle(i);
    if (i % every === 0) sample(i);
  }
  await nets.remove('soak');
  nets.close();
}

function rowCounts(root) {
  const db = dbFile(root);
  if (!existsSync(db)) return {};
  const r = spawnSync(process.execPath, ['-e', `
    const Database = require(${JSON.stringify(join(REPO, 'node_modules', 'better-sqlite3'))});
    const db = new Database(${JSON.stringify(db)}, { readonly: true, fileMustExist: true });
    const out = {};
    for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()) out[name] = db.prepare('SELECT count(*) AS n FROM "' + name + '"').get().n;
    console.log(JSON.stringify(out));`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reading ${db}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The state database (src/store/db.ts). */
function dbFile(root) {
  return join(root, 'nsbox.db');
}

function cliSoak(cycles, every, samples) {
  if (cycles === 0) return;
  const root = '/run/soak-cli';
  const sample = (cycle) => {
    const db = dbFile(root);
    const rows = rowCounts(root);
    const rowsTotal = Object.entries(rows).filter(([t]) => t !== 'host_settings' && t !== 'meta').reduce((a, [, n]) => a + n, 0);
    const s = {
      soak: 'cli', cycle, mounts: mountCount(), runEntries: treeCount('/run') - treeCount(root), runNetns: entries('/run/netns'),
      lockFiles: entries(join(root, 'locks')), dbBytes: fileSize(db) + fileSize(`${db}-wal`), rows, rowsTotal,
    };
    samples.push(s);
    console.log(`cli ${String(cycle).padStart(6)}  mounts ${s.mounts}  /run ${s.runEntries}  /run/netns ${s.runNetns}  locks ${s.lockFiles}  db ${s.dbBytes} B  rows ${JSON.stringify(rows)}`);
  };
  const run = () => {
    const r = spawnSync(process.execPath, [NSBOX_BIN, 'run', '--', 'true'], { env: { ...process.env, NSBOX_ROOT: root }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nsbox run -- true exited ${r.status ?? r.signal}: ${r.stderr}`);
  };
  run(); // the first run makes the root, its database and the default network: sample after it
  sample(0);
  for (let i = 1; i <= cycles; i++) {
    run();
    if (i % every === 0) sample(i);
  }
}

/** The figures that must not grow: first sample against last. */
function growth(samples) {
  const grown = [];
  for (const [soak, keys] of [['library', ['fds']], ['cli', ['mounts', 'runEntries', 'runNetns', 'lockFiles', 'rowsTotal']]]) {
    const mine = samples.filter((s) => s.soak === soak);
    if (mine.length < 2) continue;
    for (const k of keys) if (mine.at(-1)[k] > mine[0][k]) grown.push(`${soak} ${k}: ${mine[0][k]} → ${mine.at(-1)[k]}`);
  }
  return grown;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.env.NSBOX_THROWAWAY_HOST !== '1') {
    process.exit(runInThrowawayHost(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)]));
  }
  const samples = [];
  console.log(`soak: ${opts.lib} library cycles, ${opts.cli} CLI cycles, a sample every ${opts.every}`);
  const t0 = Date.now();
  await librarySoak(opts.lib, opts.every, samples);
  const t1 = Date.now();
  cliSoak(opts.cli, opts.every, samples);
  const t2 = Date.now();
  console.log(`library: ${((t1 - t0) / 1000).toFixed(0)} s, CLI: ${((t2 - t1) / 1000).toFixed(0)} s`);
  const grown = growth(samples);
  if (opts.json !== undefined) writeFileSync(opts.json, `${JSON.stringify({ samples, grown, seconds: { library: (t1 - t0) / 1000, cli: (t2 - t1) / 1000 } }, null, 2)}\n`);
  if (grown.length > 0) {
    console.log(`grew: ${grown.join('; ')}`);
    process.exit(1);
  }
  console.log('flat: fds, mounts, /run entries, lock files and rows');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
