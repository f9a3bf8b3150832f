/**
 * Benchmark: delay by NFQUEUE (lab/delay-queue.ts, issue 14), inside the throwaway host made by
 * scripts/run-bench.js. `npm run bench -- delay [seconds]` (default 3 s per run).
 *
 * Two namespaces a and b joined by a veth; b's fault table queues what arrives on vb; the engine
 * runs in this process (as a lab's would), the traffic in iperf3 processes (Debian's iperf3,
 * scripts/setup.sh), so the figures are the engine's ceiling on this machine, not the sender's.
 *
 * 1. 64-byte UDP datagrams a → b offered at rising rates, through the engine at 0 ms and 20 ms,
 *    and with no rule: what arrived, and the kernel's counters of the queue (user_dropped: the
 *    engine did not read in time; queue_dropped: the queue was at its limit). The limit is the
 *    highest rate with no loss the engine caused.
 * 2. TCP a → b (iperf3, one stream) through no rule, the rule with nothing bound (bypass), the
 *    engine at 0 ms and at 20 ms.
 */
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultTable } from '../src/firewall/index.js';
import { DelayQueue, delayQueueNumber, type DelayQueueStats } from '../src/lab/delay-queue.js';
import { run } from './stats.js';

const execFileP = promisify(execFile);
const seconds = Number(process.argv[2] ?? 3);
if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`bad seconds ${process.argv[2]}`);
const A = '10.92.0.1';
const B = '10.92.0.2';
const QUEUE = delayQueueNumber('vb', ['vb']);
const RATES = [10_000, 40_000, 80_000, 160_000];

for (const ns of ['dqa', 'dqb']) run('ip', ['netns', 'add', ns]);
run('ip', ['-n', 'dqa', 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', 'dqb']);
for (const [ns, dev, addr] of [['dqa', 'va', A], ['dqb', 'vb', B]] as const) {
  run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  run('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
  run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
}
const server = spawn('ip', ['netns', 'exec', 'dqb', 'iperf3', '-s', '-B', B], { stdio: 'ignore' });
await sleep(500);
const faults = FaultTable.open({ netns: '/run/netns/dqb' });

interface IperfEnd { end: { sum?: { packets?: number; lost_packets?: number }; sum_received?: { bits_per_second: number } } }

async function iperf(args: string[]): Promise<IperfEnd> {
  const { stdout } = await execFileP('ip', ['netns', 'exec', 'dqa', 'iperf3', '-c', B, '-J', '-t', String(seconds), ...args], { maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as IperfEnd;
}

type Mode = 'no rule' | 'rule, nothing bound' | 'engine 0 ms' | 'engine 20 ms';

async function withMode<T>(mode: Mode, fn: () => Promise<T>): Promise<{ result: T; stats?: DelayQueueStats; cpuUs?: number }> {
  await faults.setDelayQueue('vb', mode === 'no rule' ? undefined : QUEUE);
  if (!mode.startsWith('engine')) return { result: await fn() };
  const q = await DelayQueue.open({ netns: '/run/netns/dqb', queue: QUEUE, delayMs: mode === 'engine 20 ms' ? 20 : 0 });
  try {
    const cpu0 = process.cpuUsage();
    const result = await fn();
    await sleep(100);
    const cpu = process.cpuUsage(cpu0);
    return { result, stats: q.stats(), cpuUs: cpu.user + cpu.system };
  } finally {
    await q.close();
  }
}

console.log(`# delay bench: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0]!.toFixed(2)}, ${seconds} s per run, queue ${QUEUE}`);
console.log('\n## 64-byte UDP a → b (iperf3 -u -l 64 -P 2), offered rate vs what arrived\n');
console.log('| path | offered pps | sent/s | arrived | engine received | engine CPU µs/packet | user_dropped | queue_dropped |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
const perPacket: number[] = [];
const limit: Record<string, number> = {};
for (const mode of ['no rule', 'engine 0 ms', 'engine 20 ms'] as const) {
  for (const pps of RATES) {
    const { result, stats, cpuUs } = await withMode(mode, () => iperf(['-u', '-l', '64', '-P', '2', '-b', String((pps / 2) * 64 * 8)]));
    const sent = result.end.sum?.packets ?? 0;
    const lost = result.end.sum?.lost_packets ?? 0;
    const kernelDrops = (stats?.userDropped ?? 0) + (stats?.queueDropped ?? 0);
    const us = stats !== undefined && cpuUs !== undefined && stats.received > 0 ? cpuUs / stats.received : undefined;
    if (us !== undefined) perPacket.push(us);
    console.log(`| ${mode} | ${pps} | ${Math.round(sent / seconds)} | ${(100 * (sent - lost) / Math.max(sent, 1)).toFixed(1)}% | ${stats?.received ?? '-'} | ${us?.toFixed(1) ?? '-'} | ${stats?.userDropped ?? '-'} | ${stats?.queueDropped ?? '-'} |`);
    // the engine kept up: nothing dropped in the kernel on its account
    if (kernelDrops === 0) limit[mode] = Math.max(limit[mode] ?? 0, Math.round(sent / seconds));
  }
}
const cost = perPacket.length > 0 ? [...perPacket].sort((x, y) => x - y)[perPacket.length >> 1]! : Number.NaN;
console.log(`\nhighest rate sent with no user_dropped/queue_dropped (the engine kept up), per path: ${JSON.stringify(limit)}`);
console.log(`engine CPU per packet (median over the runs): ${cost.toFixed(1)} µs, a ceiling of about ${Math.round(1e6 / cost)} packets/s on one core`);

console.log('\n## TCP a → b (iperf3, one stream)\n');
console.log('| path | Mbit/s | engine packets | verdict datagrams |');
console.log('|---|---:|---:|---:|');
const tcp: Record<string, number> = {};
for (const mode of ['no rule', 'rule, nothing bound', 'engine 0 ms', 'engine 20 ms'] as const) {
  const { result, stats } = await withMode(mode, () => iperf([]));
  const mbit = (result.end.sum_received?.bits_per_second ?? 0) / 1e6;
  tcp[mode] = Math.round(mbit);
  console.log(`| ${mode} | ${mbit.toFixed(0)} | ${stats?.received ?? '-'} | ${stats?.verdictMessages ?? '-'} |`);
}
console.log(`\nJSON ${JSON.stringify({ udpKeptUpPps: limit, engineUsPerPacket: cost, tcpMbit: tcp })}`);

await faults.setDelayQueue('vb', undefined);
faults.close();
server.kill();
for (const ns of ['dqa', 'dqb']) run('ip', ['netns', 'del', ns]);
