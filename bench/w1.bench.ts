/**
 * Benchmark W1 (../shared/bench): N sandboxes, each a netns bound to /run/netns/pb<i> with lo
 * up, a veth whose sandbox end is born inside as eth0 and whose host end is a port of pbbr0,
 * 10.88.x.y/16 and a default route via 10.88.0.1; then teardown. Written with the public
 * library API the way a user would (Sandbox + Rtnl), and following the peer contract of
 * ../shared/bench/lib/common.sh, so `PEERS="c g-fast nsbox" PEER_CMD_nsbox="…" run-all.sh`
 * compares it side by side.
 *
 *   npm run bench -- w1 [--n N] [N]     (inside the throwaway host made by scripts/run-bench.js)
 *
 * Teardown destroys each namespace (the kernel removes its links in one batch, without the
 * per-link deletion wait) and stops the clock only when every host veth end is gone (a link
 * dump of the bridge's ports comes back empty).
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import type * as Nsbox from '../src/index.js';

// The package entry, as a user gets it (`import { Sandbox } from 'nsbox'`): the bundle.
const { Rtnl, Sandbox } = (await import('nsbox' as string)) as typeof Nsbox;
type Sandbox = Nsbox.Sandbox;

function parseN(argv: string[]): number {
  const i = argv.indexOf('--n');
  const text = i >= 0 ? argv[i + 1] : argv.find((a) => /^\d+$/.test(a));
  const n = Number(text ?? 100);
  if (!Number.isInteger(n) || n < 1) throw new Error(`bad N ${String(text)}`);
  return n;
}

const N = parseN(process.argv.slice(2));
const addr = (i: number): string => `10.88.${Math.floor(i / 200)}.${(i % 200) + 10}`;
const now = (): number => Number(process.hrtime.bigint()) / 1e9;

function vmHwmKb(): number {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Cumulative seconds after each tenth of the work. */
class Marks {
  readonly #t0 = now();
  readonly #step: number;
  readonly marks: number[] = [];
  constructor(n: number) { this.#step = n >= 10 ? Math.floor(n / 10) : 1; }
  tick(i: number, n: number): void {
    if ((i % this.#step === 0 || i === n) && this.marks.length < 10) this.marks.push(now() - this.#t0);
  }
  get elapsed(): number { return now() - this.#t0; }
}

function verify(mode?: 'post'): void {
  const script = process.env.PB_VERIFY;
  if (!script) return;
  const r = spawnSync(script, mode ? [String(N), mode] : [String(N)], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`verify ${mode ?? 'setup'} failed`);
}

const host = Rtnl.open();
await host.link.add({ name: 'pbbr0', kind: 'bridge', up: true });
const bridge = await host.link.get({ name: 'pbbr0' });
await host.addr.add({ index: bridge.index, address: '10.88.0.1/16' });

// Setup (timed).
const sandboxes: Sandbox[] = [];
const setup = new Marks(N);
for (let i = 1; i <= N; i++) {
  const sb = await Sandbox.create(`/run/netns/pb${i}`);
  // addrGenMode 'none': the bridge port never sends IPv6 DAD/MLD/RS that the bridge would flood to every port.
  // One queue each way: a veth left to the default (one per CPU) costs two expedited RCU grace periods per end.
  await host.link.add({
    name: `pbv${i}`, kind: 'veth', master: bridge.index, up: true, addrGenMode: 'none', numTxQueues: 1, numRxQueues: 1,
    peer: { name: 'eth0', netnsFd: sb.netnsFd },
  });
  await sb.addInterface('eth0', 'eth', { createdInContainer: true, dstName: 'eth0', ipv4: `${addr(i)}/16`, advertiseAddrNMsgs: 0 });
  await sb.setGateway('10.88.0.1');
  sandboxes.push(sb);
  setup.tick(i, N);
}
const setupS = setup.elapsed;

verify();

// Teardown (timed): destroy every namespace, then wait until the kernel removed the host ends,
// checked with a link dump the kernel filters to the bridge's ports. (Subscribing to RTM_DELLINK
// instead was 20% slower: a listener makes the kernel build, and the process decode, five
// notifications per link during the batched cleanup.)
const teardown = new Marks(N);
for (const [i, sb] of sandboxes.entries()) {
  await sb.destroy();
  teardown.tick(i + 1, N);
}
const deadline = Date.now() + 30_000;
for (;;) {
  const left = await host.link.list({ master: bridge.index });
  if (left.length === 0) break;
  if (Date.now() > deadline) throw new Error(`${left.length} host veth ends still on pbbr0 after 30 s`);
  await new Promise((resolve) => setTimeout(resolve, 1));
}
const teardownS = teardown.elapsed;
teardown.marks[teardown.marks.length - 1] = teardownS;
host.close();

verify('post');

const rssKb = vmHwmKb();
const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(6)).join(',');
const perS = (s: number): string => (N / s).toFixed(1);
const first = setup.marks[0]!;
const last = setup.marks[9] !== undefined && setup.marks[8] !== undefined ? setup.marks[9] - setup.marks[8] : NaN;
const tenth = Math.max(1, Math.floor(N / 10));
const summary = {
  workload: 'W1', n: N, setupPerS: Number(perS(setupS)), teardownPerS: Number(perS(teardownS)),
  setupMsPerSandbox: (setupS * 1000) / N, teardownMsPerSandbox: (teardownS * 1000) / N,
  first10MsPerSandbox: (first * 1000) / tenth, last10MsPerSandbox: (last * 1000) / tenth,
  peakRssMiB: rssKb / 1024, cpus: cpus().length, node: process.version,
  kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
};
const cpu = process.cpuUsage();
console.log(`setup/s ${summary.setupPerS}  teardown/s ${summary.teardownPerS}  setup ms/sbx ${summary.setupMsPerSandbox.toFixed(2)}  ` +
  `first10% ${summary.first10MsPerSandbox.toFixed(2)}  last10% ${summary.last10MsPerSandbox.toFixed(2)}  teardown ms/sbx ${summary.teardownMsPerSandbox.toFixed(2)}  ` +
  `peak RSS ${summary.peakRssMiB.toFixed(1)} MiB  wall ${process.uptime().toFixed(2)} s  cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`);
console.log(`JSON ${JSON.stringify({ ...summary, wallS: process.uptime(), cpuS: (cpu.user + cpu.system) / 1e6 })}`);
console.log(`PB_RESULT setup_s=${setupS.toFixed(6)} teardown_s=${teardownS.toFixed(6)} rss_kb=${rssKb} rss_kind=proc smarks=${fmt(setup.marks)} tmarks=${fmt(teardown.marks)}`);
