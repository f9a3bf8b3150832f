/**
 * Benchmark: CNI ADD and DEL latency, side by side in one run, of the reference plugins
 * (Debian's containernetworking-plugins: /usr/lib/cni/bridge with host-local IPAM) and of
 * nsbox-cni three ways: (agent) the native shim build/Release/nsbox-cni with `nsbox agent`
 * serving it; (fallback) the same shim with no agent, so it execs node bin/nsbox-cni.js;
 * (node) `node bin/nsbox-cni.js` exec'd directly. All with the same bridge config (cniVersion
 * 1.0.0, isGateway, isDefaultGateway; ipMasq false, and true for the reference and the agent),
 * each on a network of its own, every attachment in a fresh namespace made beforehand, every
 * call exec'd by child_process.spawn and timed from spawn to exit, rounds interleaved. Then
 * 100 parallel ADDs and 100 parallel DELs per variant (wall time), peak RSS per call (a
 * separate pass under /usr/bin/time -f %M: GNU time reads the child's rusage), the agent's
 * RSS, and its own time per call (its log lines). The environment of every call is the same
 * and clean (PATH, CNI_*, NSBOX_ROOT; no NODE_EXTRA_CA_CERTS). Runs in the throwaway host of
 * scripts/run-bench.js. `npm run bench -- cni [rounds] [parallel]` (NSBOX_BENCH_CNI_ONLY=REGEX: only
 * the variants whose name matches, and the reference).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

const rounds = Number(process.argv[2] ?? 25);
const parallel = Number(process.argv[3] ?? 100);
const SHIM = fileURLToPath(new URL('../../build/Release/nsbox-cni', import.meta.url));
const PLUGIN_JS = fileURLToPath(new URL('../../bin/nsbox-cni.js', import.meta.url));
/** The CLI's CommonJS entry, as the installed `nsbox` runs it (bin/nsbox): the agent sizes its thread pool there. */
const NSBOX = fileURLToPath(new URL('../../bin/nsbox.cjs', import.meta.url));
const root = mkdtempSync('/run/nsbox-bench-cni-');
const hostLocalDir = mkdtempSync('/run/nsbox-bench-hostlocal-');

interface Variant {
  name: string;
  /** argv of the plugin exec. */
  argv: string[];
  extraEnv: Record<string, string>;
  config: Record<string, unknown>;
}

let subnetIndex = 0;
function config(kind: 'ref' | 'nsbox', tag: string, ipMasq: boolean): Record<string, unknown> {
  const subnet = `10.${100 + subnetIndex++}.0.0/16`;
  const common = { cniVersion: '1.0.0', name: `b${tag}`, bridge: `brb${tag}`, isGateway: true, isDefaultGateway: true, ipMasq };
  return kind === 'ref'
    ? { ...common, type: 'bridge', ipam: { type: 'host-local', subnet, dataDir: hostLocalDir } }
    : { ...common, type: 'nsbox-cni', ipam: { type: 'nsbox', subnet } };
}

const NO_AGENT = { NSBOX_AGENT_SOCKET: `${root}/no-agent.sock` };
const allVariants: Variant[] = [
  { name: 'reference bridge + host-local', argv: ['/usr/lib/cni/bridge'], extraEnv: {}, config: config('ref', 'ref', false) },
  { name: 'nsbox-cni: shim + agent', argv: [SHIM], extraEnv: {}, config: config('nsbox', 'agt', false) },
  { name: 'nsbox-cni: shim, no agent (fallback)', argv: [SHIM], extraEnv: NO_AGENT, config: config('nsbox', 'fbk', false) },
  { name: 'nsbox-cni: node bin/nsbox-cni.js', argv: [process.execPath, PLUGIN_JS], extraEnv: {}, config: config('nsbox', 'nod', false) },
  { name: 'reference, ipMasq true', argv: ['/usr/lib/cni/bridge'], extraEnv: {}, config: config('ref', 'rfm', true) },
  { name: 'nsbox-cni: shim + agent, ipMasq true', argv: [SHIM], extraEnv: {}, config: config('nsbox', 'agm', true) },
];
/** NSBOX_BENCH_CNI_ONLY=REGEX runs only the variants whose name matches (the first is kept: the ratios' base). */
const only = process.env.NSBOX_BENCH_CNI_ONLY;
const variants = only === undefined ? allVariants : allVariants.filter((v, i) => i === 0 || new RegExp(only).test(v.name));

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

let nsCounter = 0;
function freshNetns(): string {
  const name = `bcni${process.pid}x${nsCounter++}`;
  sh('ip', ['netns', 'add', name]);
  return name;
}

interface Call { command: 'ADD' | 'DEL'; netns: string; containerId: string }

function envOf(v: Variant, c: Call): Record<string, string> {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', NSBOX_ROOT: root, CNI_PATH: '/usr/lib/cni',
    CNI_COMMAND: c.command, CNI_CONTAINERID: c.containerId, CNI_NETNS: `/run/netns/${c.netns}`, CNI_IFNAME: 'eth0', ...v.extraEnv,
  };
}

/** One exec of the plugin: ms from spawn to exit. Throws when it fails. */
function exec(v: Variant, c: Call, launcher: string[] = []): Promise<{ ms: number; stderr: string }> {
  const argv = [...launcher, ...v.argv];
  const t0 = process.hrtime.bigint();
  const child = spawn(argv[0]!, argv.slice(1), { env: envOf(v, c), stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end(JSON.stringify(v.config));
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      child.on('close', () => {
        if (code !== 0) reject(new Error(`${v.name} ${c.command} ${c.containerId}: exit ${code}: ${out}${err}`));
        else resolve({ ms, stderr: err });
      });
    });
  });
}

function startAgent(): Promise<{ child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, [NSBOX, 'agent'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NSBOX_ROOT: root }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { log += d; });
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (log.includes('listening on')) { clearInterval(timer); resolve({ child, log: () => log }); }
      if (child.exitCode !== null) { clearInterval(timer); reject(new Error(`agent: ${log}`)); }
    }, 10);
  });
}

function vm(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const agent = await startAgent();
const idleRss = vm(agent.child.pid!, 'VmRSS');

// Warm-up: one ADD and DEL each (networks and bridges made, caches warm), not timed.
for (const v of variants) {
  const c = { netns: freshNetns(), containerId: 'warm' };
  await exec(v, { ...c, command: 'ADD' });
  await exec(v, { ...c, command: 'DEL' });
}

// Sequential, interleaved rounds.
const addMs = new Map<string, number[]>(variants.map((v) => [v.name, []]));
const delMs = new Map<string, number[]>(variants.map((v) => [v.name, []]));
const spaces = variants.map(() => Array.from({ length: rounds }, () => freshNetns()));
for (let r = 0; r < rounds; r++) {
  for (const [i, v] of variants.entries()) addMs.get(v.name)!.push((await exec(v, { command: 'ADD', netns: spaces[i]![r]!, containerId: `seq${r}` })).ms);
  for (const [i, v] of variants.entries()) delMs.get(v.name)!.push((await exec(v, { command: 'DEL', netns: spaces[i]![r]!, containerId: `seq${r}` })).ms);
}

// Parallel: `parallel` ADDs at once, then as many DELs, per variant (ipMasq false ones).
const parallelRows: [string, number, number][] = [];
for (const v of variants) {
  const ns = Array.from({ length: parallel }, () => freshNetns());
  const wall = async (command: 'ADD' | 'DEL'): Promise<number> => {
    const t0 = process.hrtime.bigint();
    await Promise.all(ns.map((n, i) => exec(v, { command, netns: n, containerId: `par${i}` })));
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  parallelRows.push([v.name, await wall('ADD'), await wall('DEL')]);
}

// Peak RSS per call, under GNU time.
const rssRows: [string, number, number][] = [];
for (const v of variants.filter((x) => !x.name.includes('ipMasq'))) {
  const add: number[] = [];
  const del: number[] = [];
  for (let r = 0; r < 5; r++) {
    const n = freshNetns();
    const kb = (s: string): number => Number(/RSSKB=(\d+)/.exec(s)?.[1]);
    add.push(kb((await exec(v, { command: 'ADD', netns: n, containerId: `rss${r}` }, ['/usr/bin/time', '-f', 'RSSKB=%M'])).stderr));
    del.push(kb((await exec(v, { command: 'DEL', netns: n, containerId: `rss${r}` }, ['/usr/bin/time', '-f', 'RSSKB=%M'])).stderr));
  }
  rssRows.push([v.name, median(add) / 1024, median(del) / 1024]);
}

const agentRss = vm(agent.child.pid!, 'VmRSS');
const agentHwm = vm(agent.child.pid!, 'VmHWM');
// The agent's own time per call (its log: "cni ADD seqN eth0 12.3 ms exit 0"), sequential rounds only.
const agentSide = (command: string): number[] => [...agent.log().matchAll(new RegExp(`cni ${command} seq\\d+ eth0 ([\\d.]+) ms`, 'g'))].map((m) => Number(m[1]));
agent.child.kill('SIGTERM');

const f = (ms: number): string => ms.toFixed(1);
const ref = variants[0]!.name;
const refMasq = allVariants[4]!.name;
const ratio = (name: string, x: number, table: Map<string, number[]> | [string, number, number][], col = 1): string => {
  const base = name.includes('ipMasq') && variants.some((v) => v.name === refMasq) ? refMasq : ref;
  const b = table instanceof Map ? median(table.get(base)!) : table.find((r) => r[0] === base)![col] as number;
  return `${(x / b).toFixed(2)}×`;
};
console.log(`\nCNI: ${new Date().toISOString().slice(0, 10)}, Linux ${release()}, ${cpus().length} CPUs, Node ${process.version}; ${rounds} sequential rounds, ${parallel} parallel`);
console.log('\n| plugin | ADD median | vs ref | DEL median | vs ref |');
console.log('|---|---:|---:|---:|---:|');
for (const v of variants) {
  const a = median(addMs.get(v.name)!);
  const d = median(delMs.get(v.name)!);
  console.log(`| ${v.name} | ${f(a)} ms | ${ratio(v.name, a, addMs)} | ${f(d)} ms | ${ratio(v.name, d, delMs)} |`);
}
console.log(`\n| plugin | ${parallel} parallel ADDs | vs ref | ${parallel} parallel DELs | vs ref |`);
console.log('|---|---:|---:|---:|---:|');
for (const [name, a, d] of parallelRows) console.log(`| ${name} | ${(a / 1000).toFixed(2)} s | ${ratio(name, a, parallelRows, 1)} | ${(d / 1000).toFixed(2)} s | ${ratio(name, d, parallelRows, 2)} |`);
console.log('\n| plugin | peak RSS per ADD | per DEL |');
console.log('|---|---:|---:|');
for (const [name, a, d] of rssRows) console.log(`| ${name} | ${f(a)} MiB | ${f(d)} MiB |`);
console.log(`\nagent: RSS ${f(idleRss)} MiB idle, ${f(agentRss)} MiB after the run (peak ${f(agentHwm)} MiB); its own time per sequential call: ADD median ${f(median(agentSide('ADD')))} ms, DEL median ${f(median(agentSide('DEL')))} ms`);
console.log(`\nJSON ${JSON.stringify({ addMs: Object.fromEntries(addMs), delMs: Object.fromEntries(delMs), parallelRows, rssRows, idleRss, agentRss, agentHwm })}`);
