/**
 * The crash matrix's invariants (scripts/crash-matrix.js, docs/reliability.md "After a crash"):
 * what the kernel and a state root's database hold, read without nsbox (the database with
 * better-sqlite3 read-only, the kernel with /proc/self/mountinfo, /run/netns, `ip -j` and
 * `nft list ruleset`), and every way they disagree. Also used by the concurrency tests.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

export function readDb(root) {
  const file = join(root, 'nsbox.db');
  if (!existsSync(file)) return { sandboxes: [], networks: [], leases: [], ports: [], labs: [] };
  const Database = require(join(REPO, 'node_modules', 'better-sqlite3'));
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const all = (sql) => db.prepare(sql).all();
    return {
      sandboxes: all('SELECT name, key, state, config FROM sandboxes').map((r) => ({ ...r, config: JSON.parse(r.config) })),
      networks: all('SELECT name, driver, config FROM networks').map((r) => ({ ...r, config: JSON.parse(r.config) })),
      leases: all('SELECT network, address, owner, ifname FROM leases'),
      ports: all('SELECT protocol, host_port, sandbox, state FROM ports'),
      labs: all('SELECT name, state FROM labs'),
    };
  } finally {
    db.close();
  }
}

function mountsUnder(dir) {
  const prefix = `${dir}/`;
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4]).filter((m) => m !== undefined && m.startsWith(prefix));
}

function ipJson(args, netnsPath) {
  const argv = netnsPath === undefined ? ['ip', '-j', ...args] : ['nsenter', `--net=${netnsPath}`, 'ip', '-j', ...args];
  const out = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return out.trim() === '' ? [] : JSON.parse(out);
}

/** A root's tag in its nf_tables elements' comments (src/firewall/elements.ts rootTag: of the real path). */
function rootTag(root) {
  return createHash('sha256').update(existsSync(root) ? realpathSync(root) : root).digest('hex').slice(0, 8);
}

function nftText() {
  const r = spawnSync('nft', ['list', 'ruleset'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
}

/**
 * Every invariant that does not hold, as a sentence. The nsbox table is the host's, shared by
 * every root: only this root's elements (their comments tagged with its root) are looked at.
 * `nftables: false` skips the elements altogether.
 */
export function invariants(root, { nftables = true } = {}) {
  const bad = [];
  const db = readDb(root);
  const netnsDir = join(root, 'run', 'netns');
  const byName = new Map(db.sandboxes.map((s) => [s.name, s]));
  const byKey = new Map(db.sandboxes.map((s) => [s.key, s]));
  const keys = new Set(db.sandboxes.map((s) => s.key));

  for (const s of db.sandboxes) if (s.state !== 'ready') bad.push(`sandbox ${s.name} left in state ${s.state}`);
  for (const p of db.ports) if (p.state !== 'active') bad.push(`port ${p.protocol}/${p.host_port} of ${p.sandbox} left in state ${p.state}`);
  for (const l of db.labs) if (l.state !== 'up') bad.push(`lab ${l.name} left in state ${l.state}`);
  for (const p of db.ports) if (!byName.has(p.sandbox)) bad.push(`port ${p.protocol}/${p.host_port} of a gone sandbox ${p.sandbox}`);

  // namespace files and mounts: exactly the records' (those kept under the root)
  const ownKeys = [...keys].filter((k) => k.startsWith(`${netnsDir}/`));
  const mounts = mountsUnder(netnsDir);
  for (const m of mounts) if (!keys.has(m)) bad.push(`mount ${m} without a record`);
  for (const k of ownKeys) if (!mounts.includes(k)) bad.push(`record ${k} without its mount`);
  if (mounts.length !== new Set(mounts).size) bad.push(`a namespace file mounted twice: ${mounts.join(' ')}`);
  for (const m of mountsUnder(join(root, 'run'))) if (!m.startsWith(`${netnsDir}/`)) bad.push(`mount ${m} under the root`);
  const files = existsSync(netnsDir) ? readdirSync(netnsDir).map((f) => join(netnsDir, f)) : [];
  for (const f of files) if (!keys.has(f)) bad.push(`netns file ${f} without a record`);
  for (const n of existsSync('/run/netns') ? readdirSync('/run/netns') : []) {
    const p = join('/run/netns', n);
    try {
      if (!lstatSync(p).isSymbolicLink()) continue;
      const target = readlinkSync(p);
      if (target.startsWith(`${netnsDir}/`) && !keys.has(target)) bad.push(`/run/netns/${n} -> ${target} without a record`);
    } catch { /* gone meanwhile */ }
  }

  // host links nsbox tagged
  const links = ipJson(['-d', 'link', 'show']);
  const names = new Set(links.map((l) => l.ifname));
  const networks = new Set(db.networks.map((n) => n.name));
  for (const l of links) {
    const alias = l.ifalias ?? '';
    if (alias.startsWith(`nsbox:${netnsDir}/`) && !keys.has(alias.slice('nsbox:'.length))) bad.push(`host link ${l.ifname} (${alias}) without its sandbox`);
    if (alias.startsWith(`nsbox-net:${netnsDir}/`) && !networks.has(alias.slice(`nsbox-net:${netnsDir}/`.length))) bad.push(`bridge ${l.ifname} (${alias}) without its network`);
  }
  for (const n of db.networks) {
    const bridge = n.config.bridgeName ?? n.config.bridge;
    if (n.driver === 'bridge' && typeof bridge === 'string' && !names.has(bridge)) bad.push(`network ${n.name} without its bridge ${bridge}`);
  }

  // leases: an owner with the interface and the address
  for (const lease of db.leases) {
    const owner = byKey.get(lease.owner) ?? byName.get(lease.owner);
    if (owner === undefined) {
      bad.push(`lease ${lease.network} ${lease.address} of a gone sandbox ${lease.owner}`);
      continue;
    }
    if (!existsSync(owner.key)) continue; // reported above
    let inside;
    try {
      inside = ipJson(['addr', 'show'], owner.key);
    } catch (err) {
      bad.push(`cannot look inside ${owner.name}: ${err.message.split('\n')[0]}`);
      continue;
    }
    const iface = inside.find((i) => i.ifname === lease.ifname);
    const addr = lease.address.split('/')[0];
    if (iface === undefined) bad.push(`lease ${lease.network} ${lease.address} of ${lease.owner} without its interface ${lease.ifname}`);
    else if (!(iface.addr_info ?? []).some((a) => a.local === addr)) bad.push(`lease ${lease.network} ${lease.address}: ${lease.owner}'s ${lease.ifname} does not hold it`);
  }
  const leased = new Map();
  for (const lease of db.leases) {
    const k = `${lease.network} ${lease.address.split('/')[0]}`;
    if (leased.has(k)) bad.push(`address leased twice: ${k}`);
    leased.set(k, lease.owner);
  }

  // nf_tables elements nsbox wrote: this root's (tagged with it, or untagged)
  const ruleset = nftables ? nftText() : '';
  const tag = rootTag(root);
  const ours = (t) => t === undefined || t === tag;
  for (const m of ruleset.matchAll(/comment "network=([^" ]+)(?: root=([0-9a-f]+))?"/g)) if (ours(m[2]) && !networks.has(m[1])) bad.push(`nf_tables element of a gone network ${m[1]}`);
  const activePorts = new Set(db.ports.filter((p) => p.state === 'active').map((p) => `${p.sandbox} ${p.host_port}/${p.protocol}`));
  const elements = new Set();
  for (const m of ruleset.matchAll(/comment "sandbox=(\S+) port=(\d+)\/(\w+)(?: root=([0-9a-f]+))?"/g)) {
    if (!ours(m[4])) continue;
    const k = `${m[1]} ${m[2]}/${m[3]}`;
    elements.add(k);
    if (!activePorts.has(k)) bad.push(`nf_tables element of a port with no active record: ${k}`);
  }
  for (const k of activePorts) if (!elements.has(k)) bad.push(`active port ${k} without its nf_tables element`);

  // lock files
  const locks = join(root, 'locks');
  if (existsSync(locks)) for (const f of readdirSync(locks)) bad.push(`lock file locks/${f} left`);
  return [...new Set(bad)];
}
