/**
 * Benchmark: how accurately a lab's link impairments are enforced. One lab, two nodes s and r
 * on one link (s eth1 10.200.0.1/30 -> r eth1 10.200.0.2/30), impaired a->b (what s sends);
 * each setting is applied in place by `up` of the changed lab, the library way
 * (Lab.fromObject + up), then measured with real traffic:
 *
 * - rate 1, 10, 100 mbit: iperf3 (Debian's; scripts/setup.sh) TCP from s to r for a few
 *   seconds, the receiver's bits per second against the configured rate;
 * - loss 1%, 5%, 20% (and 0% as a control): 10,000 numbered UDP datagrams from s to r
 *   (bench/lab-udp.ts, paced so no socket buffer drops any), received against expected, with
 *   the binomial 95% interval of the count;
 * - delay 20ms: 1,000 pings (10 ms apart) from s to r, the RTT's median and percentiles
 *   against the configured delay plus the baseline RTT, but only when `nsbox lab status
 *   --json` shows a delay on the link (a mechanism this version does not have yet); else it
 *   prints "delay: not measured (not applied by this version)".
 *
 * Runs inside the throwaway host made by scripts/run-bench.js:
 *   npm run bench -- lab-impair [--seconds S] [--only rate,loss,delay]
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Manager } from '../src/managed/index.js';
import { Lab, down, up, type UpResult } from '../src/lab/index.js';
import { median } from './stats.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const seconds = Number(option('seconds', '5'));
const only = new Set(option('only', 'rate,loss,delay').split(','));

const LAB = 'bimpair';
const S_ADDR = '10.200.0.1';
const R_ADDR = '10.200.0.2';
const DATAGRAMS = 10_000;
const PROBES = 1_000;
const DELAY = '20ms';
const root = mkdtempSync('/run/nsbox-bench-impair-');
const env = { ...process.env, NSBOX_ROOT: root };
const manager = Manager.open({ root });
const bin = fileURLToPath(new URL('../../bin/nsbox.js', import.meta.url));
const udp = fileURLToPath(new URL('./lab-udp.js', import.meta.url));
const netnsOf = (node: string): string => manager.keyOf(`${LAB}.${node}`);
const inNode = (node: string): string[] => [`--net=${netnsOf(node)}`];

function labWith(impair: Record<string, string> | undefined): Lab {
  return Lab.fromObject({
    lab: LAB,
    nodes: { s: {}, r: {} },
    links: [{
      name: 'l', a: { node: 's', iface: 'eth1', address: `${S_ADDR}/30` }, b: { node: 'r', iface: 'eth1', address: `${R_ADDR}/30` },
      ...(impair === undefined ? {} : { impair: { 'a->b': impair } }),
    }],
  });
}
const apply = (impair?: Record<string, string>): Promise<UpResult> => up(labWith(impair), manager);

function nsenter(node: string, args: string[]): string {
  const r = spawnSync('nsenter', [...inNode(node), ...args], { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`in ${node}: ${args.join(' ')}: exit ${r.status ?? r.signal}: ${r.stderr.slice(-1000)}`);
  return r.stdout;
}

const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
console.log(`\nlab impairments — ${new Date().toISOString().slice(0, 10)}, kernel ${kernel}, ${cpus().length} CPUs, Node ${process.version}`);
await apply();
const out: Record<string, unknown> = {};

// Rate: iperf3 TCP s -> r.
if (only.has('rate')) {
  if (spawnSync('iperf3', ['--version']).status !== 0) {
    console.log('rate: not measured (iperf3 is not installed: apt-get install iperf3, or scripts/setup.sh)');
  } else {
    const server = spawn('nsenter', [...inNode('r'), 'iperf3', '-s', '-1', '-B', R_ADDR], { stdio: 'ignore', env });
    const rows: { configured: number; measured: number }[] = [];
    console.log(`\nrate (iperf3 TCP s -> r, ${seconds} s each, what the receiver got; tbf on the sender, burst 4 ms, 25 ms queue)`);
    console.log('| configured | measured | measured / configured |');
    console.log('|---:|---:|---:|');
    for (const mbit of [1, 10, 100]) {
      await apply({ rate: `${mbit}mbit` });
      let json: string;
      for (let attempt = 0; ; attempt++) { // the server may not listen yet; -1 serves one client, so restart it
        const r = spawnSync('nsenter', [...inNode('s'), 'iperf3', '-c', R_ADDR, '-t', String(seconds), '-J'], { encoding: 'utf8', env });
        if (r.status === 0) { json = r.stdout; break; }
        if (attempt > 20) throw new Error(`iperf3: ${r.stdout.slice(-500)} ${r.stderr.slice(-500)}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      const bps = (JSON.parse(json) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
      rows.push({ configured: mbit * 1e6, measured: bps });
      console.log(`| ${mbit} mbit/s | ${(bps / 1e6).toFixed(3)} mbit/s | ${(bps / (mbit * 1e6)).toFixed(3)} |`);
      if (mbit !== 100) spawn('nsenter', [...inNode('r'), 'iperf3', '-s', '-1', '-B', R_ADDR], { stdio: 'ignore', env });
    }
    console.log('(TCP payload over a 1500-byte MTU is at most 1448/1514 = 0.956 of the frames tbf counts)');
    server.kill();
    out.rate = rows;
    await apply();
  }
}

/** Send DATAGRAMS numbered datagrams s -> r; how many distinct ones arrived. */
async function udpCount(port: number): Promise<number> {
  const recv = spawn('nsenter', [...inNode('r'), process.execPath, udp, 'recv', String(port)], { stdio: ['pipe', 'pipe', 'inherit'], env });
  let text = '';
  recv.stdout.setEncoding('utf8').on('data', (d: string) => { text += d; });
  while (!text.includes('ready')) await once(recv.stdout, 'data');
  nsenter('s', [process.execPath, udp, 'send', R_ADDR, String(port), String(DATAGRAMS)]);
  await new Promise((res) => setTimeout(res, 500)); // the last ones in flight
  recv.stdin.end();
  await once(recv, 'exit');
  return Number(text.split('\n').filter(Boolean).pop());
}

if (only.has('loss')) {
  console.log(`\nloss (${DATAGRAMS} UDP datagrams s -> r; nf_tables numgen on the receiver; 95% interval of the received count, binomial, normal approximation)`);
  console.log('| configured | expected received (95%) | received | measured loss | inside |');
  console.log('|---:|---:|---:|---:|---|');
  const rows: unknown[] = [];
  let port = 40000;
  for (const p of [0, 0.01, 0.05, 0.2]) {
    await apply(p === 0 ? undefined : { loss: `${p * 100}%` });
    const got = await udpCount(port++);
    const mean = DATAGRAMS * (1 - p);
    const half = 1.96 * Math.sqrt(DATAGRAMS * p * (1 - p));
    const inside = got >= Math.floor(mean - half) && got <= Math.ceil(mean + half);
    rows.push({ configured: p, received: got, expected: mean, low: mean - half, high: mean + half, inside });
    console.log(`| ${(p * 100).toFixed(0)}% | ${mean.toFixed(0)} (${Math.floor(mean - half)}–${Math.ceil(mean + half)}) | ${got} | ${((1 - got / DATAGRAMS) * 100).toFixed(2)}% | ${inside ? 'yes' : 'NO'} |`);
  }
  out.loss = rows;
  await apply();
}

/** Whether the lab's status shows a delay applied anywhere on its nodes' interfaces (any key naming a delay, with a value). */
function delayShown(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(delayShown);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([k, v]) => (/delay/i.test(k) && v !== null && v !== undefined && v !== 0 && v !== false && v !== '') || delayShown(v));
}

const rtts = (text: string): number[] => [...text.matchAll(/time=([0-9.]+) ms/g)].map((m) => Number(m[1]));
const pct = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

if (only.has('delay')) {
  const baseline = rtts(nsenter('s', ['ping', '-c', '200', '-i', '0.01', '-n', R_ADDR]));
  const result = await apply({ delay: DELAY });
  const statusText = spawnSync(process.execPath, [bin, 'lab', 'status', LAB, '--json'], { encoding: 'utf8', env }).stdout;
  const noted = result.steps.some((s) => s.action === 'note' && /delay/.test(s.detail));
  if (noted || !delayShown(JSON.parse(statusText) as unknown)) {
    console.log('\ndelay: not measured (not applied by this version)');
    out.delay = null;
  } else {
    const r = rtts(nsenter('s', ['ping', '-c', String(PROBES), '-i', '0.01', '-n', R_ADDR]));
    const base = median(baseline);
    const configured = 20;
    console.log(`\ndelay (${DELAY} a->b, ${PROBES} pings s -> r 10 ms apart; RTT crosses a->b once; baseline RTT median ${base.toFixed(3)} ms over ${baseline.length})`);
    console.log('| configured | replies | RTT median | p5 | p95 | p99 | max | median − baseline |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
    console.log(`| ${DELAY} | ${r.length}/${PROBES} | ${median(r).toFixed(3)} ms | ${pct(r, 0.05).toFixed(3)} | ${pct(r, 0.95).toFixed(3)} | ${pct(r, 0.99).toFixed(3)} | ${Math.max(...r).toFixed(3)} | ${(median(r) - base).toFixed(3)} ms |`);
    out.delay = { configuredMs: configured, replies: r.length, medianMs: median(r), p95Ms: pct(r, 0.95), baselineMs: base };
  }
}

await down(manager, LAB);
manager.close();
console.log(`\nJSON ${JSON.stringify(out)}`);
