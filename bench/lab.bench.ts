/**
 * Benchmark: `lab up` and `lab down` for N nodes (default 10, 100 and 1000) in two shapes
 * (bench/lab-topo.ts: a star on one bridge, a routed chain of veths), side by side in one run:
 *
 *   cli      `nsbox lab up -f FILE` / `nsbox lab down LAB` (a Node process each, as a user runs it)
 *   lib      `Lab.fromObject` + `up(lab, manager)` / `down(manager, lab)` in this process
 *   ip       an `ip -batch` shell script building and removing the same topology
 *   mininet  Debian's mininet, Python API, LinuxBridge, no controller (bench/lab-mininet.py;
 *            times taken inside Python, so without its interpreter start)
 *
 * After each up (not timed) node 0 pings across the topology (the star's last node; the
 * chain's node min(N-1, 60)): every variant must have built something that works.
 * Runs inside the throwaway host made by scripts/run-bench.js:
 *
 *   npm run bench -- lab [SIZES] [--shapes star,chain] [--variants cli,lib,ip,mininet]
 *                        [--reps 10:5,100:3,1000:2] [--mininet-max N]
 *
 * SIZES is a comma list (default 10,100,1000); --reps gives repetitions per size (median
 * taken); mininet runs only up to --mininet-max nodes (default 1000; at 100 nodes it takes
 * ~30 s per repetition here) and once at sizes of 1000 and more.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { Manager } from '../src/managed/index.js';
import { Lab, down, up } from '../src/lab/index.js';
import { median } from './stats.js';
import { checkTarget, ipBatchDown, ipBatchUp, labObject, nodeName, type Shape } from './lab-topo.js';

type Variant = 'cli' | 'lib' | 'ip' | 'mininet';
interface Run { upMs: number; downMs: number; ok: boolean }

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'));
const sizes = (positional[0] ?? '10,100,1000').split(',').map(Number);
const shapes = option('shapes', 'star,chain').split(',') as Shape[];
const variantsWanted = option('variants', 'cli,lib,ip,mininet').split(',') as Variant[];
const repsOf = new Map(option('reps', '10:5,100:3,1000:2').split(',').map((x) => x.split(':').map(Number) as [number, number]));
const mininetMax = Number(option('mininet-max', '1000'));
const reps = (n: number): number => repsOf.get(n) ?? (n >= 1000 ? 2 : n >= 100 ? 3 : 5);

const bin = fileURLToPath(new URL('../../bin/nsbox.js', import.meta.url));
const mininetScript = fileURLToPath(new URL('../../bench/lab-mininet.py', import.meta.url));
const root = mkdtempSync('/run/nsbox-bench-lab-');
const env = { ...process.env, NSBOX_ROOT: root };
const manager = Manager.open({ root });

const MININET_PYTHON = '/usr/bin/python3';
function mininetMissing(): string | undefined {
  if (!existsSync('/usr/bin/mnexec')) return 'mininet is not installed (apt-get install mininet bridge-utils)';
  if (!existsSync('/usr/sbin/brctl') && !existsSync('/sbin/brctl')) return "bridge-utils is not installed (mininet's LinuxBridge runs brctl): apt-get install bridge-utils";
  const r = spawnSync(MININET_PYTHON, ['-c', 'import mininet.net'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${MININET_PYTHON} cannot import mininet: ${r.stderr.trim()}`;
}
const whyNoMininet = variantsWanted.includes('mininet') ? mininetMissing() : undefined;
if (whyNoMininet !== undefined) console.log(`mininet: not run: ${whyNoMininet}`);

function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { env, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')}…: exit ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
  return r.stdout;
}
const clock = (): number => Number(process.hrtime.bigint()) / 1e6;
async function timed(fn: () => unknown): Promise<number> {
  const t0 = clock();
  await fn();
  return clock() - t0;
}
const pingsFrom = (netnsPath: string, address: string): boolean =>
  spawnSync('nsenter', [`--net=${netnsPath}`, 'ping', '-c', '1', '-W', '2', '-q', address], { stdio: 'ignore' }).status === 0;

async function nsboxRun(variant: 'cli' | 'lib', shape: Shape, n: number): Promise<Run> {
  const lab = `b${shape}${n}`;
  const obj = labObject(lab, shape, n);
  const file = join(root, `${lab}.yaml`);
  writeFileSync(file, stringify(obj));
  const upMs = variant === 'cli'
    ? await timed(() => sh(process.execPath, [bin, 'lab', 'up', '-f', file, '--json']))
    : await timed(() => up(Lab.fromObject(obj), manager));
  const t = checkTarget(shape, n);
  const ok = pingsFrom(manager.keyOf(`${lab}.${nodeName(0)}`), t.address);
  const downMs = variant === 'cli'
    ? await timed(() => sh(process.execPath, [bin, 'lab', 'down', lab, '--json']))
    : await timed(() => down(manager, lab));
  return { upMs, downMs, ok };
}

async function ipRun(shape: Shape, n: number): Promise<Run> {
  const prefix = 'ib';
  const upScript = join(root, `ip-${shape}-${n}-up.sh`);
  const downScript = join(root, `ip-${shape}-${n}-down.sh`);
  writeFileSync(upScript, ipBatchUp(prefix, shape, n));
  writeFileSync(downScript, ipBatchDown(prefix, shape, n));
  const upMs = await timed(() => sh('sh', [upScript]));
  const ok = pingsFrom(`/run/netns/${prefix}0`, checkTarget(shape, n).address);
  const downMs = await timed(() => sh('sh', [downScript]));
  return { upMs, downMs, ok };
}

function mininetRun(shape: Shape, n: number): Run {
  const out = sh(MININET_PYTHON, [mininetScript, shape, String(n)]);
  const line = out.split('\n').find((l) => l.startsWith('JSON '));
  if (line === undefined) throw new Error(`lab-mininet.py printed no result: ${out.slice(-1000)}`);
  const r = JSON.parse(line.slice(5)) as { up: number; down: number; ping: boolean };
  return { upMs: r.up * 1000, downMs: r.down * 1000, ok: r.ping };
}

/**
 * Removing a namespace returns before the kernel has destroyed it (cleanup_net runs later, in
 * a workqueue, taking the rtnl lock): every variant's `down` leaves such a tail, which would
 * slow whichever variant runs next. Wait it out: 0.5 s + 5 ms per node.
 */
const settle = (n: number): Promise<void> => new Promise((res) => setTimeout(res, 500 + 5 * n));

interface Result { shape: Shape; n: number; variant: Variant; reps: number; upMs: number; downMs: number; ok: boolean; upRuns: number[]; downRuns: number[] }
const results: Result[] = [];
const loadStart = loadavg()[0]!.toFixed(1);

for (const n of sizes) {
  for (const shape of shapes) {
    const variants = variantsWanted.filter((v) => v !== 'mininet' || (whyNoMininet === undefined && n <= mininetMax));
    const runs = new Map<Variant, Run[]>(variants.map((v) => [v, []]));
    for (let rep = 0; rep < reps(n); rep++) {
      // Interleaved, so a noisy spell hits every variant, and rotated, so none always follows the same one.
      for (const v of [...variants.slice(rep % variants.length), ...variants.slice(0, rep % variants.length)]) {
        if (v === 'mininet' && n >= 1000 && rep > 0) continue;
        const r = v === 'ip' ? await ipRun(shape, n) : v === 'mininet' ? mininetRun(shape, n) : await nsboxRun(v, shape, n);
        runs.get(v)!.push(r);
        await settle(n);
        console.error(`${shape} ${n} ${v} #${rep + 1}: up ${r.upMs.toFixed(0)} ms, down ${r.downMs.toFixed(0)} ms, ping ${r.ok ? 'ok' : 'FAILED'}`);
      }
    }
    for (const [variant, rs] of runs) {
      results.push({
        shape, n, variant, reps: rs.length, upMs: median(rs.map((r) => r.upMs)), downMs: median(rs.map((r) => r.downMs)),
        ok: rs.every((r) => r.ok), upRuns: rs.map((r) => Math.round(r.upMs)), downRuns: rs.map((r) => Math.round(r.downMs)),
      });
    }
  }
}
manager.close();

const NAMES: Record<Variant, string> = { cli: 'nsbox CLI', lib: 'nsbox library', ip: '`ip -batch` script', mininet: 'mininet (LinuxBridge)' };
const ms = (x: number): string => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(x >= 100 ? 0 : 1)} ms`);
const per = (x: number, n: number): string => (x / n).toFixed(2);
const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
console.log(`\nlabs — ${new Date().toISOString().slice(0, 10)}, kernel ${kernel}, ${cpus().length} CPUs, Node ${process.version}, medians; load average ${loadStart} at the start, ${loadavg()[0]!.toFixed(1)} at the end`);
console.log('| shape | N | variant | reps | up | up ms/node | down | down ms/node | ping |');
console.log('|---|---:|---|---:|---:|---:|---:|---:|---|');
for (const r of results) {
  console.log(`| ${r.shape} | ${r.n} | ${NAMES[r.variant]} | ${r.reps} | ${ms(r.upMs)} | ${per(r.upMs, r.n)} | ${ms(r.downMs)} | ${per(r.downMs, r.n)} | ${r.ok ? 'ok' : 'FAILED'} |`);
}
const find = (shape: Shape, n: number, v: Variant): Result | undefined => results.find((r) => r.shape === shape && r.n === n && r.variant === v);
console.log('\nratios (up / down; below 1 means nsbox is faster)');
console.log('| shape | N | lib / ip | cli / ip | lib / mininet | cli / mininet |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const shape of shapes) {
  for (const n of sizes) {
    const ratio = (a: Variant, b: Variant): string => {
      const x = find(shape, n, a); const y = find(shape, n, b);
      return x && y ? `${(x.upMs / y.upMs).toFixed(2)} / ${(x.downMs / y.downMs).toFixed(2)}` : '-';
    };
    console.log(`| ${shape} | ${n} | ${ratio('lib', 'ip')} | ${ratio('cli', 'ip')} | ${ratio('lib', 'mininet')} | ${ratio('cli', 'mininet')} |`);
  }
}
console.log(`\nJSON ${JSON.stringify({ kernel, cpus: cpus().length, node: process.version, results })}`);
if (results.some((r) => !r.ok)) {
  console.error('lab bench: a built topology did not pass its ping check (see FAILED above)');
  process.exitCode = 1;
}
