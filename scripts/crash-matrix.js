#!/usr/bin/env node
/**
 * The crash matrix (docs/reliability.md "Crash matrix"): every state-changing command SIGKILLed
 * at each of its state-changing syscalls, then `nsbox gc` (and `nsbox restore`), the
 * invariants, the same command again, and its cleanup.
 *
 *   npm run crash-matrix                       # full: every kill point of every command, plus random kill times
 *   node scripts/crash-matrix.js               # the CI sample (SAMPLE_POINTS kill points, deterministic)
 *   node scripts/crash-matrix.js --points 60 --commands create,rm --random 3 --seed 7 --json out.json
 *
 * As root; re-runs itself in a throwaway host (scripts/throwaway-host.js) when not in one. Runs
 * the built dist/ (`npm run build:ts` first).
 *
 * Kill points. For each command, a first run under `strace -f -e trace=SYSCALLS` counts each
 * state-changing syscall (mounts, namespaces, netlink and other socket sends, writes, renames,
 * unlinks, mkdirs, symlinks, fsyncs: SYSCALLS below). A kill point is (syscall, N): the command
 * runs under `strace -f -e inject=SYSCALL:signal=SIGKILL:when=N`, so the N-th call of that
 * syscall (counted per process: the first to reach it) is killed on entry, before it changes
 * anything. The full matrix tries every N of every syscall; a sample spreads its points evenly
 * over each command's list. Random kill times: the command killed after a random delay (seeded).
 *
 * After each kill: `nsbox gc` and `nsbox restore` must succeed, then the invariants (below) must
 * hold; if the command's effect is not in place, the same command again must succeed and the
 * invariants hold again; then the scenario's cleanup, and the invariants of the clean root.
 *
 * Invariants (read from the kernel and the database, not through nsbox):
 * - no record stuck in 'creating'/'removing', no port stuck in 'adding'/'removing', no lab not 'up';
 * - the mounts under ROOT/run/netns, the files there and nsbox's /run/netns symlinks are exactly the records';
 * - every host link nsbox tagged (veth `nsbox:KEY`, bridge `nsbox-net:SCOPE/NET`) has its record,
 *   every bridge network's bridge exists;
 * - every lease's owner exists and has the lease's interface, holding the address;
 * - every nf_tables element nsbox wrote (comment network=… / sandbox=… port=…) has its record,
 *   every active port its element;
 * - no file in ROOT/locks (gc sweeps what dead holders left).
 *
 * Prints per command: kill points tried, kills that landed, failures, and each defect.
 * Exit status 1 when any defect was found.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout, clearTimeout } from 'node:timers';
import { runInThrowawayHost } from './throwaway-host.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const NSBOX_BIN = join(REPO, 'bin', 'nsbox.js');
const CNI_BIN = join(REPO, 'bin', 'nsbox-cni.js');
const require = createRequire(import.meta.url);

/** What changes state: the kill points are the calls of these. */
export const SYSCALLS = [
  'mount', 'umount2', 'unshare', 'setns', 'sendto', 'sendmsg', 'write', 'writev', 'pwrite64', 'fsync', 'fdatasync',
  'rename', 'renameat2', 'unlink', 'unlinkat', 'mkdir', 'mkdirat', 'symlink', 'symlinkat', 'ftruncate',
];

/** The CI sample's size (kill points, spread over the commands). */
export const SAMPLE_POINTS = 200;

// ---------------------------------------------------------------------------------------------
// Running things

function nsboxArgv(args) {
  return [process.execPath, NSBOX_BIN, ...args];
}

/** Run argv to the end (optionally under a prefix such as strace); never throws. */
function runArgv(argv, { env = {}, input, prefix = [] } = {}) {
  const [cmd, ...args] = [...prefix, ...argv];
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, input: input ?? '', encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function nsbox(root, ...args) {
  return runArgv(nsboxArgv(args), { env: { NSBOX_ROOT: root } });
}

function must(res, what) {
  if (res.code !== 0) throw new Error(`${what} exited ${res.code ?? res.signal}: ${res.stderr.trim()}${res.stdout.trim()}`);
  return res.stdout;
}

/** A command under test: argv, environment and stdin. */
function invocation(step, root) {
  if (step.cni !== undefined) {
    const { command, containerId, netns, config } = step.cni;
    return {
      argv: [process.execPath, CNI_BIN], input: JSON.stringify(config),
      env: { NSBOX_ROOT: root, CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' },
    };
  }
  return { argv: nsboxArgv(step.args), env: { NSBOX_ROOT: root }, input: '' };
}

function runStep(step, root, prefix = []) {
  const inv = invocation(step, root);
  return runArgv(inv.argv, { env: inv.env, input: inv.input, prefix });
}

/** Each syscall of SYSCALLS the step makes, and how many times (the most any one process made). */
function countSyscalls(step, root, traceFile) {
  const res = runStep(step, root, ['strace', '-f', '--seccomp-bpf', '-qq', '-o', traceFile, '-e', `trace=${SYSCALLS.join(',')}`]);
  if (res.code !== 0) throw new Error(`counting run of ${describe(step)} failed (${res.code ?? res.signal}): ${res.stderr.trim()}`);
  const perPid = new Map();
  for (const line of readFileSync(traceFile, 'utf8').split('\n')) {
    const m = /^(\d+)\s+([a-z0-9_]+)\(/.exec(line);
    if (m === null) continue;
    const key = `${m[1]} ${m[2]}`;
    perPid.set(key, (perPid.get(key) ?? 0) + 1);
  }
  rmSync(traceFile, { force: true });
  const counts = new Map();
  for (const [key, n] of perPid) {
    const name = key.split(' ')[1];
    counts.set(name, Math.max(counts.get(name) ?? 0, n));
  }
  return counts;
}

function describe(step) {
  return step.cni !== undefined ? `CNI ${step.cni.command}` : `nsbox ${step.args.join(' ')}`;
}

// ---------------------------------------------------------------------------------------------
// What the kernel and the database hold

function readDb(root) {
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

function nftText() {
  const r = spawnSync('nft', ['list', 'ruleset'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
}

/**
 * Every invariant that does not hold, as a sentence. `nftables: false` skips the nf_tables
 * elements: the nsbox table is the host's, shared by every root, so a test running beside
 * others in one throwaway host cannot tell whose an element is (the matrix has a host alone).
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

  // nf_tables elements nsbox wrote
  const ruleset = nftables ? nftText() : '';
  for (const m of ruleset.matchAll(/comment "network=([^"]+)"/g)) if (!networks.has(m[1])) bad.push(`nf_tables element of a gone network ${m[1]}`);
  const activePorts = new Set(db.ports.filter((p) => p.state === 'active').map((p) => `${p.sandbox} ${p.host_port}/${p.protocol}`));
  const elements = new Set();
  for (const m of ruleset.matchAll(/comment "sandbox=(\S+) port=(\d+)\/(\w+)"/g)) {
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

// ---------------------------------------------------------------------------------------------
// Scenarios: each command with what it needs before, whether its effect is in place, and its cleanup

const LAB_FILE = (lab) => `lab: ${lab}
networks:
  lan: { subnet: 10.151.0.0/24 }
nodes:
  a:
    interfaces: { eth0: { network: lan, address: 10.151.0.2/24 } }
  b:
    interfaces: { eth0: { network: lan, address: 10.151.0.3/24 } }
links:
  - name: wan
    a: { node: a, iface: wan0, address: 10.161.0.1/30 }
    b: { node: b, iface: wan0, address: 10.161.0.2/30 }
`;

const CNI_NET = 'cmcni';
const cniConfig = { cniVersion: '1.0.0', name: CNI_NET, type: 'nsbox-cni', bridge: 'brcmcni', isGateway: true, isDefaultGateway: true, ipMasq: true, ipam: { type: 'nsbox', subnet: '10.171.0.0/24' } };
const CNI_NETNS = '/run/netns/cm-ctr';

function ensureRuntimeNetns() {
  if (!existsSync(CNI_NETNS)) execFileSync('ip', ['netns', 'add', 'cm-ctr']);
}

function hostVeth(a, b) {
  for (const n of [a, b]) spawnSync('ip', ['link', 'del', n], { stdio: 'ignore' });
  execFileSync('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
}

const has = (db, name) => db.sandboxes.some((s) => s.name === name);
/** Whether `name` holds a lease (leases are owned by the sandbox's key). */
const leases = (db, name) => db.leases.some((l) => l.owner === name || l.owner.endsWith(`/${name}`));

/** name → { prepare(root), setup(root), step, done(db), cleanup(root) } */
export const SCENARIOS = {
  create: {
    step: { args: ['create', 'x'] },
    done: (db) => has(db, 'x'),
    cleanup: (root) => must(nsbox(root, 'rm', 'x'), 'rm x'),
  },
  'iface add': {
    setup: (root) => { hostVeth('cmva', 'cmvb'); must(nsbox(root, 'create', 'x'), 'create x'); },
    step: { args: ['iface', 'add', 'x', '--src', 'cmva', '--name', 'inner0', '--ip', '10.95.0.2/24'] },
    done: (db) => db.sandboxes.some((s) => s.name === 'x' && JSON.stringify(s.config).includes('inner0')),
    cleanup: (root) => { must(nsbox(root, 'rm', 'x'), 'rm x'); spawnSync('ip', ['link', 'del', 'cmva'], { stdio: 'ignore' }); },
  },
  connect: {
    prepare: (root) => must(nsbox(root, 'network', 'create', 'n1', '--subnet', '10.181.0.0/24'), 'network create n1'),
    setup: (root) => must(nsbox(root, 'create', 'x'), 'create x'),
    step: { args: ['connect', 'n1', 'x'] },
    done: (db) => leases(db, 'x'),
    cleanup: (root) => must(nsbox(root, 'rm', 'x'), 'rm x'),
  },
  disconnect: {
    prepare: (root) => must(nsbox(root, 'network', 'create', 'n1', '--subnet', '10.181.0.0/24'), 'network create n1'),
    setup: (root) => { must(nsbox(root, 'create', 'x'), 'create x'); must(nsbox(root, 'connect', 'n1', 'x'), 'connect'); },
    step: { args: ['disconnect', 'n1', 'x'] },
    done: (db) => !leases(db, 'x'),
    cleanup: (root) => must(nsbox(root, 'rm', 'x'), 'rm x'),
  },
  run: {
    step: { args: ['run', '--', 'true'] },
    done: () => false,
  },
  rm: {
    prepare: (root) => must(nsbox(root, 'network', 'create', 'n1', '--subnet', '10.181.0.0/24'), 'network create n1'),
    setup: (root) => { must(nsbox(root, 'create', 'x'), 'create x'); must(nsbox(root, 'connect', 'n1', 'x'), 'connect'); },
    step: { args: ['rm', 'x'] },
    done: (db) => !has(db, 'x'),
  },
  'network create': {
    step: { args: ['network', 'create', 'n2', '--subnet', '10.191.0.0/24'] },
    done: (db) => db.networks.some((n) => n.name === 'n2'),
    cleanup: (root) => must(nsbox(root, 'network', 'rm', 'n2'), 'network rm n2'),
  },
  'network rm': {
    setup: (root) => must(nsbox(root, 'network', 'create', 'n2', '--subnet', '10.191.0.0/24'), 'network create n2'),
    step: { args: ['network', 'rm', 'n2'] },
    done: (db) => !db.networks.some((n) => n.name === 'n2'),
  },
  'port add': {
    prepare: (root) => must(nsbox(root, 'network', 'create', 'n1', '--subnet', '10.181.0.0/24'), 'network create n1'),
    setup: (root) => { must(nsbox(root, 'create', 'x'), 'create x'); must(nsbox(root, 'connect', 'n1', 'x'), 'connect'); },
    step: { args: ['port', 'add', 'x', '18080:80'] },
    done: (db) => db.ports.some((p) => p.sandbox === 'x'),
    cleanup: (root) => must(nsbox(root, 'rm', 'x'), 'rm x'),
  },
  'cni add': {
    setup: () => ensureRuntimeNetns(),
    step: { cni: { command: 'ADD', containerId: 'cm-ctr', netns: CNI_NETNS, config: cniConfig } },
    done: (db) => db.sandboxes.some((s) => s.name.startsWith('cni-')),
    // a runtime whose ADD failed calls DEL, then may ADD again
    rerun: [{ cni: { command: 'DEL', containerId: 'cm-ctr', netns: CNI_NETNS, config: cniConfig } }, { cni: { command: 'ADD', containerId: 'cm-ctr', netns: CNI_NETNS, config: cniConfig } }],
    cleanup: (root) => must(runStep({ cni: { command: 'DEL', containerId: 'cm-ctr', netns: CNI_NETNS, config: cniConfig } }, root), 'CNI DEL'),
  },
  'cni del': {
    setup: (root) => { ensureRuntimeNetns(); must(runStep({ cni: { command: 'ADD', containerId: 'cm-ctr', netns: CNI_NETNS, config: cniConfig } }, root), 'CNI ADD'); },
    step: { cni: { command: 'DEL', containerId: 'cm-ctr', netns: CNI_NETNS, config: cniConfig } },
    done: (db) => !db.sandboxes.some((s) => s.name.startsWith('cni-')),
    // DEL must succeed, also again
    alwaysRerun: true,
  },
  'lab up': {
    prepare: (root) => writeFileSync(join(root, 'lab.yaml'), LAB_FILE('cml')),
    step: (root) => ({ args: ['lab', 'up', '-f', join(root, 'lab.yaml')] }),
    done: (db) => db.labs.some((l) => l.name === 'cml' && l.state === 'up'),
    cleanup: (root) => must(nsbox(root, 'lab', 'down', 'cml'), 'lab down'),
  },
  'lab down': {
    prepare: (root) => writeFileSync(join(root, 'lab.yaml'), LAB_FILE('cml')),
    setup: (root) => must(nsbox(root, 'lab', 'up', '-f', join(root, 'lab.yaml')), 'lab up'),
    step: { args: ['lab', 'down', 'cml'] },
    done: (db) => db.labs.length === 0,
  },
};

// ---------------------------------------------------------------------------------------------
// The matrix

let rootSeq = 0;

function freshRoot(command) {
  const root = `/run/cm-${command.replace(/\s+/g, '-')}-${process.pid}-${rootSeq++}`;
  mkdirSync(root, { recursive: true, mode: 0o700 });
  return root;
}

function stepOf(scenario, root) {
  return typeof scenario.step === 'function' ? scenario.step(root) : scenario.step;
}

/** Remove everything of a root (after a defect, so the next points start clean). */
function scrub(root) {
  nsbox(root, 'lab', 'down', '--all');
  const db = readDb(root);
  for (const s of db.sandboxes.filter((x) => x.name.startsWith('cni-'))) nsbox(root, 'rm', s.name);
  runStep({ cni: { command: 'DEL', containerId: 'cm-ctr', netns: CNI_NETNS, config: cniConfig } }, root);
  nsbox(root, 'rm', '--all');
  for (const n of readDb(root).networks) nsbox(root, 'network', 'rm', n.name);
  nsbox(root, 'gc');
}

/**
 * One kill: setup, the command killed (by `prefix` or `killAfterMs`), gc, restore, invariants,
 * the command again, cleanup, invariants. Returns { landed, defects }.
 */
async function killOnce(scenario, root, kill, opts) {
  const defects = [];
  const where = kill.label;
  scenario.setup?.(root);
  const step = stepOf(scenario, root);
  let res;
  if (kill.syscall !== undefined) {
    // not --seccomp-bpf: strace 6.1 does not inject with it
    res = runStep(step, root, ['strace', '-f', '-qq', '-o', '/dev/null', '-e', `trace=${kill.syscall}`, '-e', `inject=${kill.syscall}:signal=SIGKILL:when=${kill.n}`]);
  } else {
    res = await runKilledAfter(step, root, kill.ms);
  }
  const landed = res.signal === 'SIGKILL' || res.code === 137;
  if (!landed && res.code !== 0) defects.push(`${where}: the command itself failed (${res.code ?? res.signal}): ${res.stderr.trim().split('\n').at(-1)}`);

  defects.push(...(await (opts.cliGc ? gcByCli : gcInProcess)(root)).map((d) => `${where}: ${d}`));
  for (const d of invariants(root)) defects.push(`${where}, after gc: ${d}`);

  const again = scenario.alwaysRerun === true || !scenario.done(readDb(root));
  if (again) {
    for (const s of scenario.rerun ?? [step]) {
      const r = runStep(s, root);
      if (r.code !== 0) defects.push(`${where}: ${describe(s)} again failed (${r.code ?? r.signal}): ${r.stderr.trim().split('\n').at(-1)}${r.stdout.trim().slice(0, 200)}`);
    }
    for (const d of invariants(root)) defects.push(`${where}, after the command again: ${d}`);
  }
  try {
    scenario.cleanup?.(root);
  } catch (err) {
    defects.push(`${where}: cleanup failed: ${err.message}`);
  }
  return { landed, defects };
}

/** `nsbox gc` then `nsbox restore` as processes; what failed. */
async function gcByCli(root) {
  const out = [];
  const gc = nsbox(root, 'gc');
  if (gc.code !== 0) out.push(`gc failed (${gc.code ?? gc.signal}): ${gc.stderr.trim()}`);
  const restore = nsbox(root, 'restore');
  if (restore.code !== 0) out.push(`restore failed (${restore.code ?? restore.signal}): ${restore.stderr.trim()}`);
  return out;
}

let lib;

/**
 * What `nsbox gc` and `nsbox restore` run (src/cli/commands/gc.ts, restore.ts), in this process:
 * the same code without a Node start per call (the CI sample's time goes to the killed commands).
 */
async function gcInProcess(root) {
  lib ??= {
    managed: await import(join(REPO, 'dist', 'src', 'managed', 'index.js')),
    lab: await import(join(REPO, 'dist', 'src', 'lab', 'index.js')),
  };
  const out = [];
  const manager = lib.managed.Manager.open({ root });
  try {
    await lib.lab.reapAllLeftovers(manager);
    const managed = await manager.gc();
    const labs = await lib.lab.gcLabs(manager);
    for (const e of [...managed.errors, ...labs.errors]) out.push(`gc failed: ${e.name}: ${e.error}`);
    for (const r of await manager.restore()) if (r.status !== 'adopted') out.push(`restore: ${r.name} ${r.status}: ${r.detail}`);
  } catch (err) {
    out.push(`gc or restore threw: ${err.message}`);
  } finally {
    manager.close();
  }
  return out;
}

function runKilledAfter(step, root, ms) {
  const inv = invocation(step, root);
  const child = spawn(inv.argv[0], inv.argv.slice(1), { env: { ...process.env, ...inv.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(inv.input);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  child.stdout.resume();
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) => child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout: '', stderr }); }));
}

/** A seeded PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` items of `list` spread evenly (first and last included), deterministic. */
export function spread(list, count) {
  if (count >= list.length) return [...list];
  if (count <= 0) return [];
  if (count === 1) return [list[Math.floor(list.length / 2)]];
  const out = [];
  for (let i = 0; i < count; i++) out.push(list[Math.round((i * (list.length - 1)) / (count - 1))]);
  return [...new Set(out)];
}

async function runCommand(command, opts, random) {
  const scenario = SCENARIOS[command];
  let root = freshRoot(command);
  const report = { command, killPoints: 0, landed: 0, randomKills: 0, failures: 0, defects: [], syscalls: {} };
  try {
    scenario.prepare?.(root);
    // count, then undo the counting run (its own cleanup, or the scenario's state before)
    scenario.setup?.(root);
    const counts = countSyscalls(stepOf(scenario, root), root, join(root, 'count.trace'));
    report.syscalls = Object.fromEntries(counts);
    if (scenario.done(readDb(root)) || scenario.alwaysRerun) scenario.cleanup?.(root);
    const leftover = invariants(root);
    if (leftover.length > 0) report.defects.push(...leftover.map((d) => `after the counting run: ${d}`));

    let points = [...counts].flatMap(([syscall, n]) => Array.from({ length: n }, (_, i) => ({ syscall, n: i + 1, label: `${syscall}#${i + 1}` })));
    if (opts.pointsPerCommand !== undefined) points = spread(points, opts.pointsPerCommand);
    const kills = [...points, ...Array.from({ length: opts.random }, () => ({ ms: Math.round(random() * opts.randomMaxMs) }))
      .map((k) => ({ ...k, label: `after ${k.ms} ms` }))];
    for (const kill of kills) {
      const { landed, defects } = await killOnce(scenario, root, kill, opts);
      if (kill.syscall !== undefined) report.killPoints++;
      else report.randomKills++;
      if (landed) report.landed++;
      if (defects.length > 0) {
        report.failures++;
        report.defects.push(...defects);
        if (opts.verbose) console.log(`  ${command} ${kill.label}: ${defects.join('; ')}`);
        // start again from a clean root (what the next points need made again)
        scrub(root);
        root = freshRoot(command);
        scenario.prepare?.(root);
      }
    }
  } catch (err) {
    report.failures++;
    report.defects.push(`aborted: ${err.message}`);
  } finally {
    scrub(root);
  }
  return report;
}

function parseArgs(argv) {
  const opts = { cliGc: false, full: false, points: SAMPLE_POINTS, commands: Object.keys(SCENARIOS), random: 0, randomMaxMs: 1500, seed: 1, json: undefined, verbose: false };
  let randomGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--full') opts.full = true;
    else if (a === '--cli-gc') opts.cliGc = true;
    else if (a === '--points') opts.points = Number(value());
    else if (a === '--commands') opts.commands = value().split(',').map((c) => c.trim().replace(/-/g, ' '));
    else if (a === '--random') { opts.random = Number(value()); randomGiven = true; }
    else if (a === '--random-max-ms') opts.randomMaxMs = Number(value());
    else if (a === '--seed') opts.seed = Number(value());
    else if (a === '--json') opts.json = value();
    else if (a === '--verbose' || a === '-v') opts.verbose = true;
    else throw new Error(`unknown option ${a} (options: --full --points N --commands a,b --cli-gc --random N --random-max-ms MS --seed N --json FILE -v)`);
  }
  for (const c of opts.commands) if (SCENARIOS[c] === undefined) throw new Error(`unknown command ${JSON.stringify(c)}; the commands: ${Object.keys(SCENARIOS).join(', ')}`);
  if (opts.full && !randomGiven) opts.random = 5;
  if (opts.full) opts.cliGc = true;
  if (!opts.full) opts.pointsPerCommand = Math.max(1, Math.floor(opts.points / opts.commands.length));
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.env.NSBOX_THROWAWAY_HOST !== '1') {
    process.exit(runInThrowawayHost(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)]));
  }
  const random = rng(opts.seed);
  const reports = [];
  console.log(`crash matrix: ${opts.full ? 'every kill point' : `${opts.pointsPerCommand} kill points`} of each of ${opts.commands.length} commands, ${opts.random} random kill times each (seed ${opts.seed})`);
  for (const command of opts.commands) {
    const t0 = Date.now();
    const r = await runCommand(command, opts, random);
    r.seconds = (Date.now() - t0) / 1000;
    reports.push(r);
    console.log(`${command.padEnd(15)} kill points ${String(r.killPoints).padStart(4)}  random ${String(r.randomKills).padStart(3)}  killed ${String(r.landed).padStart(4)}  failures ${String(r.failures).padStart(3)}  ${r.seconds.toFixed(0)} s`);
    for (const d of r.defects) console.log(`    defect: ${d}`);
  }
  const total = (k) => reports.reduce((a, r) => a + r[k], 0);
  console.log(`total: ${total('killPoints')} kill points, ${total('randomKills')} random kills, ${total('landed')} killed, ${total('failures')} failures`);
  if (opts.json !== undefined) writeFileSync(opts.json, `${JSON.stringify(reports, null, 2)}\n`);
  if (existsSync(CNI_NETNS)) spawnSync('ip', ['netns', 'del', 'cm-ctr']);
  process.exit(total('failures') > 0 ? 1 : 0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
