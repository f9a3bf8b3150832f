/**
 * Test helper: everything a refused command could have changed, to compare before and after
 * (fuzzing, security tests): the state database's rows (read with SQLite, not with nsbox),
 * the files under the state root and the given directories (type and mode, not contents:
 * SQLite touches the database's own files on every open), /run/netns and /etc/netns, and the
 * throwaway host's kernel by its own tools (`ip -j link/addr/route`, `nft list ruleset`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

const require = createRequire(import.meta.url);
const Sqlite = require('better-sqlite3') as typeof BetterSqlite3;

/** Every row of every table of the database at `file` (opened read-only), by table. */
export function dbRows(file: string): Record<string, unknown[]> {
  if (!existsSync(file)) return {};
  const db = new Sqlite(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as { name: string }[];
    const out: Record<string, unknown[]> = { user_version: [db.pragma('user_version', { simple: true })] };
    for (const { name } of tables) out[name] = db.prepare(`SELECT * FROM "${name}" ORDER BY 1`).all();
    return out;
  } finally {
    db.close();
  }
}

/** `PATH TYPE MODE` of everything under `dir` (the database's -wal/-shm left out: SQLite makes and drops them). */
export function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (/\.db-(wal|shm|journal)$/.test(name)) continue;
      const p = join(d, name);
      const st = lstatSync(p);
      const kind = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : st.isSocket() ? 'socket' : 'file';
      out.push(`${p} ${kind} ${(st.mode & 0o7777).toString(8)}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** Timers, and carrier state: a veth's far end coming up moves its bridge's operstate a moment later, nothing nsbox did. */
const VOLATILE = new Set(['valid_life_time', 'preferred_life_time', 'expires', 'used', 'updated', 'confirmed', 'operstate']);
const CARRIER_FLAGS = new Set(['LOWER_UP', 'NO-CARRIER', 'M-DOWN', 'tentative']);

function ipJson(...args: string[]): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.filter((x) => !CARRIER_FLAGS.has(x as string)).map(strip);
    if (v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v).filter(([k]) => !VOLATILE.has(k)).map(([k, x]) => [k, strip(x)]));
  };
  return strip(JSON.parse(execFileSync('ip', ['-j', ...args], { encoding: 'utf8' }) || '[]'));
}

/** The kernel of this (throwaway) host: links, addresses, routes, the nf_tables ruleset, and named namespaces. */
export function kernelSnapshot(): Record<string, unknown> {
  return {
    links: ipJson('link', 'show'),
    addrs: ipJson('addr', 'show'),
    routes: ipJson('route', 'show', 'table', 'all'),
    routes6: ipJson('-6', 'route', 'show', 'table', 'all'),
    // counters move with any packet (an IPv6 router solicitation on a bridge): their values are not state
    ruleset: execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' }).replace(/counter packets \d+ bytes \d+/g, 'counter'),
    netns: existsSync('/run/netns') ? readdirSync('/run/netns').sort() : [],
    etcNetns: existsSync('/etc/netns') ? readdirSync('/etc/netns').sort() : [],
  };
}

/** The state root's rows and files and the given directories' files (no process started: cheap). */
export function stateSnapshot(root: string, dirs: readonly string[] = []): Record<string, unknown> {
  return {
    rows: dbRows(join(root, 'nsbox.db')),
    files: [root, ...dirs].map(tree),
  };
}

/** The state root's rows and files, the given directories' files, and the kernel. */
export function worldSnapshot(root: string, dirs: readonly string[] = []): Record<string, unknown> {
  return { ...stateSnapshot(root, dirs), kernel: kernelSnapshot() };
}

/** kernelSnapshot once two in a row agree (what a test just set up settles: addresses, carriers), at most ~5 s. */
export async function settledKernelSnapshot(): Promise<Record<string, unknown>> {
  let last = kernelSnapshot();
  for (let i = 0; i < 25; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const next = kernelSnapshot();
    if (JSON.stringify(next) === JSON.stringify(last)) return next;
    last = next;
  }
  return last;
}
