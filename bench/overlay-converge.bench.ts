/**
 * Benchmark: the overlay's convergence (issue 15, "Measure"), end to end with real agents and a
 * real etcd, inside the throwaway host made by scripts/run-bench.js.
 * `npm run bench -- overlay-converge [HOSTSxSANDBOXES…] [--mode l3|l2] [--parallel N]` (default 3x50,
 * L3, 4 connects at a time; progress every 50 connects on stderr; OVC_DIAG=1 prints both ends'
 * neighbour, FDB and route state for a probe not answered after 3 s).
 *
 * Per size: one etcd member (test/helpers/etcd.ts) and H simulated hosts as in
 * test/integration/overlay/hosts-overlay.test.ts (a network namespace each with eth0 on the etcd
 * fixture's bridge, a root and `--host` of its own, every command through `nsenter --net=H nsbox
 * --root DIR --host H …`), an agent each (defaults: TTL 10 s, resync 60 s); one overlay network
 * created on h1 and joined by the others. Then S sandboxes created on each host (one `create` of
 * S names) and connected round-robin over the hosts, N connects at a time; for each connect, the time from the connect command's return to the
 * moment a probe sandbox on every other host (connected before, untimed) gets an answer from
 * the new address: a TCP SYN to a closed port answered by the target kernel's reset (a round
 * trip, as a ping's, without a ping process per probe, whose spawning under 19 hosts × 4
 * parallel connects was most of what an earlier version measured); all hosts probed in
 * parallel, each every 200 ms until it answers; in
 * L2 a host's own namespace has no endpoint key, hence a sandbox as the source). Then, for h1's final desired state
 * (built from an etcd list with the agent's own model): `reconcileOverlay` in h1's namespace
 * (nothing to change: the agent's periodic full reconcile), applyOverlayDelta of one peer (L3) or
 * endpoint (L2) out and back in there (the agent's path for a watch event), and in a fresh namespace with the
 * same devices (every entry added), and the kernel floor: the same entries written by one
 * `ip -batch` and one `bridge -batch`; and each agent's VmRSS at the end. Nothing asserts a time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { NSBOX_BIN } from '../test/helpers/cli.js';
import { etcdAvailable, startEtcd } from '../test/helpers/etcd.js';
import { makeNetns, type TestNetns } from '../test/helpers/netns.js';
import { randomName } from '../test/helpers/names.js';
import { Etcd } from '../src/overlay/etcd.js';
import { Keyspace } from '../src/overlay/keyspace.js';
import { OverlayModel } from '../src/overlay/model.js';
import { Rtnl } from '../src/netlink/route/ops/index.js';
import { tcpProbe, type TcpProbe } from '../src/sandbox/tcp-connect.js';
import { applyOverlayDelta, ensureOverlayDevices, reconcileOverlay, type OverlayDesired } from '../src/overlay/dataplane/index.js';
import { median, run } from './stats.js';

interface SimHost { name: string; ns: TestNetns; root: string; ip: string; agent: ChildProcess | undefined; log: string; rtnl?: Rtnl; probeFd?: number; probe?: { rtnl: Rtnl; eth0: number }; neigh?: NeighbourWatch }

const args = process.argv.slice(2);
const option = (flag: string, fallback: string): { value: string; at: number } => {
  const at = args.indexOf(flag);
  return { value: at >= 0 ? (args[at + 1] ?? '') : fallback, at };
};
const modeOpt = option('--mode', 'l3');
const parallelOpt = option('--parallel', '4');
const mode = modeOpt.value;
if (mode !== 'l3' && mode !== 'l2') throw new Error(`overlay-converge: --mode must be l3 or l2 (got ${JSON.stringify(mode)})`);
const parallel = Number(parallelOpt.value);
if (!Number.isInteger(parallel) || parallel < 1 || parallel > 100) throw new Error(`overlay-converge: --parallel must be 1–100 (got ${JSON.stringify(parallelOpt.value)})`);
const optionSlots = new Set([modeOpt, parallelOpt].filter((o) => o.at >= 0).flatMap((o) => [o.at, o.at + 1]));
const sizes = args.filter((_, i) => !optionSlots.has(i)).map((a) => {
  const m = /^(\d+)x(\d+)$/.exec(a);
  if (m === null) throw new Error(`overlay-converge: a size is HOSTSxSANDBOXES, e.g. 3x50 (got ${JSON.stringify(a)})`);
  const [h, s] = [Number(m[1]), Number(m[2])];
  if (h < 2 || h > 100 || s < 1 || s > 200) throw new Error(`overlay-converge: ${a}: 2–100 hosts, 1–200 sandboxes per host`);
  return { h, s };
});
if (sizes.length === 0) sizes.push({ h: 3, s: 50 });
const skip = etcdAvailable();
if (skip !== undefined) {
  console.error(`overlay-converge: ${skip}`);
  process.exit(1);
}

// A reader gone (`… | head`): the run goes on quietly and still cleans up, rather than dying of
// EPIPE and leaving its agents and etcd running (it once did, for an hour).
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

/** SIGINT/SIGTERM: the connects stop and the run cleans up (agents, etcd, namespaces) before it exits. */
let interrupted: string | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { interrupted = sig; });
function checkInterrupted(): void {
  if (interrupted !== undefined) throw new Error(`overlay-converge: ${interrupted}: stopped, cleaning up`);
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('NSBOX_')) delete env[k];
  return env;
}

function nsboxOn(h: SimHost, ...argv: string[]): string {
  const r = spawnSync('nsenter', [`--net=${h.ns.path}`, process.execPath, NSBOX_BIN, '--root', h.root, '--host', h.name, ...argv], { encoding: 'utf8', env: cleanEnv() });
  if (r.status !== 0) throw new Error(`${h.name}: nsbox ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function nsboxOnAsync(h: SimHost, ...argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn('nsenter', [`--net=${h.ns.path}`, process.execPath, NSBOX_BIN, '--root', h.root, '--host', h.name, ...argv], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    c.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    c.once('close', (code) => { if (code === 0) resolve(out); else reject(new Error(`${h.name}: nsbox ${argv.join(' ')}: ${err}`)); });
  });
}

function ipOk(argv: string[]): void {
  const r = spawnSync('ip', argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${argv.join(' ')}: ${r.stderr}`);
}

/**
 * One probe from host h's probe sandbox to ip: a TCP SYN to a closed port, answered by the
 * target's kernel with a reset ('refused': a round trip both ways, as a ping's, without a
 * process per probe), within 200 ms.
 */
function probeFrom(h: SimHost, ip: string): Promise<TcpProbe> {
  return tcpProbe(h.probeFd!, ip, PROBE_PORT, 200);
}

/** The discard port, where no sandbox listens. */
const PROBE_PORT = 9;

const since = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

/**
 * When each permanent neighbour entry appeared in a host's kernel (L2), from a netlink
 * subscription (RTNLGRP_NEIGH): no dump per probe, which, for 19 hosts × 4 connects polling
 * 1,000 entries, was most of what an earlier version measured.
 */
class NeighbourWatch {
  readonly #seen = new Map<string, bigint>();
  readonly #waiting = new Map<string, (() => void)[]>();
  readonly #stop = new AbortController();

  constructor(rtnl: Rtnl) {
    void (async () => {
      for await (const ev of rtnl.subscribe({ groups: ['neigh'], signal: this.#stop.signal })) {
        if (ev.type !== 'neigh' || ev.action !== 'new' || ev.neigh.dst === undefined || ((ev.neigh.state ?? 0) & 0x80) === 0) continue;
        const ip = ev.neigh.dst;
        if (!this.#seen.has(ip)) this.#seen.set(ip, process.hrtime.bigint());
        for (const wake of this.#waiting.get(ip) ?? []) wake();
        this.#waiting.delete(ip);
      }
    })().catch(() => undefined);
  }

  /** When ip's permanent entry first appeared (waits for it). */
  async at(ip: string): Promise<bigint> {
    for (;;) {
      const t = this.#seen.get(ip);
      if (t !== undefined) return t;
      await new Promise<void>((wake) => this.#waiting.set(ip, [...(this.#waiting.get(ip) ?? []), wake]));
    }
  }

  close(): void {
    this.#stop.abort();
  }
}

/**
 * ms from `t0` until h's kernel had the permanent neighbour entry of ip (L2 only: in L3 the
 * block's route is there before; 0), and until a probe from h is answered by ip (gives up after 30 s).
 */
async function reachedAfter(h: SimHost, ip: string, t0: bigint, dest?: { h: SimHost; sb: string }): Promise<{ entry: number; entryRaw: number; ping: number }> {
  const entry = h.neigh === undefined ? Promise.resolve(0) : h.neigh.at(ip).then((t) => Number(t - t0) / 1e6);
  let diagnosed = false;
  for (;;) {
    const how = await probeFrom(h, ip);
    if (process.env.OVC_DIAG === '1' && !diagnosed && since(t0) > 3000) {
      diagnosed = true;
      const sh = (argv: string[]): string => spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' }).stdout.trim();
      console.error(`DIAG ${h.name} → ${ip} after 3 s (${how}): probe neigh [${sh(['ip', '-n', `probe@${h.name}`, 'neigh', 'show', ip])}] host neigh [${sh(['nsenter', `--net=${h.ns.path}`, 'ip', 'neigh', 'show', ip])}] host fdb [${sh(['nsenter', `--net=${h.ns.path}`, 'bridge', 'fdb', 'show']).split('\n').filter((l) => l.includes('dst')).length} dst entries] routes [${sh(['nsenter', `--net=${h.ns.path}`, 'ip', 'route', 'get', ip])}]`);
      if (dest !== undefined) {
        const probeIp = sh(['ip', '-n', `probe@${h.name}`, '-4', '-br', 'addr', 'show', 'dev', 'eth0']).split(/\s+/)[2]?.split('/')[0] ?? '?';
        console.error(`DIAG   at ${dest.h.name}: sandbox neigh [${sh(['ip', '-n', `${dest.sb}@${dest.h.name}`, 'neigh', 'show'])}] host neigh for ${probeIp} [${sh(['nsenter', `--net=${dest.h.ns.path}`, 'ip', 'neigh', 'show', probeIp])}] host fdb for the probe's host [${sh(['nsenter', `--net=${dest.h.ns.path}`, 'bridge', 'fdb', 'show']).split('\n').filter((l) => l.includes(h.ip)).join(' | ')}] sandbox link [${sh(['ip', '-n', `${dest.sb}@${dest.h.name}`, '-br', 'link']).replace(/\n/g, ' | ')}]`);
      }
    }
    if (how === 'refused' || how === 'connected') {
      const at = await entry;
      return { entry: Math.max(0, at), entryRaw: at, ping: since(t0) };
    }
    if (Number(process.hrtime.bigint() - t0) > 30e9) throw new Error(`${ip} not reachable from ${h.name} after 30 s`);
    checkInterrupted();
    if (how === 'failed') await sleep(10); // no route or no neighbour yet: at once, so not a busy loop
  }
}

/**
 * The simulated hosts share one kernel, and so one ARP table, whose non-permanent entries are
 * capped for all namespaces together (net.ipv4.neigh.default.gc_thresh3, 1,024 here, settable
 * only in the machine's own namespace): 19 probes to each new sandbox leave ~38 entries (each
 * probe's for the sandbox, the sandbox's for each probe), which separate hosts would hold in 20
 * tables. Past the cap the kernel drops packets ("neighbor table overflow", IpOutDiscards)
 * until its garbage collection frees entries older than 5 s, which at 20 × 50 held replies back
 * for up to 30 s. So once a sandbox has been reached, the entries its probes made are removed.
 */
async function forgetProbeNeighbours(probers: readonly SimHost[], ip: string, sandboxNetns: string): Promise<void> {
  await Promise.all(probers.map((o) => o.probe!.rtnl.neigh.del({ index: o.probe!.eth0, dst: ip }).catch(() => undefined)));
  const sandbox = Rtnl.open({ netns: sandboxNetns });
  try {
    const learnt = (await sandbox.neigh.list({ family: 4 })).filter((n) => ((n.state ?? 0) & 0x80) === 0 && n.dst !== undefined);
    await sandbox.neigh.delMany(learnt.map((n) => ({ index: n.index, dst: n.dst! }))).catch(() => undefined);
  } finally {
    sandbox.close();
  }
}

function vmRss(pid: number | undefined): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};

async function timedMs(fn: () => unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** ip/bridge batch lines writing the entries of `d` (as bench/overlay-dp.bench.ts does). */
function floorLines(d: OverlayDesired, vxlan: string): { ipl: string[]; brl: string[] } {
  const ipl: string[] = [];
  const brl: string[] = [];
  for (const p of d.peers) {
    brl.push(`fdb replace ${p.vtepMac} dev ${vxlan} dst ${p.underlay} self permanent`);
    if (d.network.mode === 'l3') {
      for (const b of p.blocks) {
        const vtep = b.split('/')[0]!;
        ipl.push(`neigh replace ${vtep} lladdr ${p.vtepMac} dev ${vxlan} nud permanent`);
        ipl.push(`route replace ${b} via ${vtep} dev ${vxlan} onlink proto 110`);
      }
    }
  }
  for (const e of d.endpoints) {
    ipl.push(`neigh replace ${e.ip} lladdr ${e.mac} dev ${vxlan} nud permanent`);
    brl.push(`fdb replace ${e.mac} dev ${vxlan} dst ${e.underlay} self permanent`);
  }
  return { ipl, brl };
}

async function oneSize(H: number, S: number): Promise<string> {
  const etcd = await startEtcd();
  const url = etcd.endpoints[0]!;
  const tag = randomName('').slice(-4);
  const hosts: SimHost[] = Array.from({ length: H }, (_, k) => ({
    name: `h${k + 1}-${tag}`, ns: makeNetns(), root: `/run/${randomName('nsbb-ovc-')}`, ip: `${etcd.subnetPrefix}.${101 + k}`, agent: undefined, log: '',
  }));
  const client = Etcd.connect({ endpoints: etcd.endpoints });
  const loadBefore = loadavg()[0]!;
  try {
    for (const [k, h] of hosts.entries()) {
      const veth = `${etcd.bridge.slice(0, 10)}h${k + 1}`;
      ipOk(['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns.name]);
      ipOk(['link', 'set', veth, 'master', etcd.bridge, 'up']);
      ipOk(['-n', h.ns.name, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
      ipOk(['-n', h.ns.name, 'link', 'set', 'eth0', 'up']);
      ipOk(['-n', h.ns.name, 'link', 'set', 'lo', 'up']);
    }
    const net = 'ovc';
    nsboxOn(hosts[0]!, 'network', 'create', net, '--driver', 'overlay', '--mode', mode, '--subnet', '10.97.0.0/16', '--etcd', url);
    for (const h of hosts.slice(1)) nsboxOn(h, 'network', 'create', net, '--driver', 'overlay', '--etcd', url);
    for (const h of hosts) {
      const child = spawn('nsenter', [`--net=${h.ns.path}`, process.execPath, NSBOX_BIN, '--root', h.root, '--host', h.name, 'agent'], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
      h.agent = child;
      child.stderr!.on('data', (d: Buffer) => { h.log += d.toString(); });
    }
    const deadline = Date.now() + 120_000;
    while (!hosts.every((h) => h.log.includes('overlay: host '))) {
      if (Date.now() > deadline) throw new Error(`agents did not take their leases: ${hosts.map((h) => h.log).join('\n')}`);
      await sleep(100);
    }
    // a probe sandbox on each host, the source of the pings (in L2 a host's own address has no endpoint key)
    for (const h of hosts) {
      nsboxOn(h, 'create', 'probe');
      nsboxOn(h, 'connect', net, 'probe');
    }
    await sleep(3000); // every agent has seen every host and probe

    for (const h of hosts) {
      h.rtnl = Rtnl.open({ netns: h.ns.path });
      if (mode === 'l2') h.neigh = new NeighbourWatch(h.rtnl);
      const probeRtnl = Rtnl.open({ netns: `/run/netns/probe@${h.name}` });
      h.probe = { rtnl: probeRtnl, eth0: (await probeRtnl.link.get({ name: 'eth0' })).index };
      h.probeFd = openSync(`/run/netns/probe@${h.name}`, 'r');
    }
    // every host's sandboxes made up front, one `create` of S names per host (untimed)
    await Promise.all(hosts.map((h) => nsboxOnAsync(h, 'create', ...Array.from({ length: S }, (_, r) => `s${r}`))));
    const conv: number[] = [];
    const entries: number[] = [];
    const connectMs: number[] = [];
    const convFromStart: number[] = [];
    const entriesFromStart: number[] = [];
    // the connects, round-robin over the hosts (consecutive ones on different hosts), `parallel` at a time
    const queue = Array.from({ length: H * S }, (_, i) => ({ h: hosts[i % H]!, sb: `s${Math.floor(i / H)}` }));
    const started = process.hrtime.bigint();
    let done = 0;
    const worker = async (): Promise<void> => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
        checkInterrupted();
        const { h, sb } = job;
        const c0 = process.hrtime.bigint();
        const said = await nsboxOnAsync(h, 'connect', net, sb); // "eth0 10.97.3.7/24"
        const t0 = process.hrtime.bigint();
        connectMs.push(Number(t0 - c0) / 1e6);
        const ip = /^\S+ (\d+\.\d+\.\d+\.\d+)\//.exec(said)?.[1];
        if (ip === undefined) throw new Error(`${h.name}: connect ${sb} said ${JSON.stringify(said)}`);
        const each = await Promise.all(hosts.filter((o) => o !== h).map((o) => reachedAfter(o, ip, t0, { h, sb })));
        conv.push(Math.max(...each.map((e) => e.ping)));
        entries.push(Math.max(...each.map((e) => e.entry)));
        const tookMs = Number(t0 - c0) / 1e6;
        convFromStart.push(tookMs + Math.max(...each.map((e) => e.ping)));
        entriesFromStart.push(tookMs + Math.max(...each.map((e) => e.entryRaw)));
        await forgetProbeNeighbours(hosts.filter((o) => o !== h), ip, `/run/netns/${sb}@${h.name}`);
        if (++done % 50 === 0 || done === H * S) {
          console.error(`overlay-converge ${mode} ${H}x${S}: ${done}/${H * S} connects in ${(since(started) / 1e3).toFixed(0)} s; so far p50 ${quantile(conv, 0.5).toFixed(0)} ms, p99 ${quantile(conv, 0.99).toFixed(0)} ms; connect p50 ${quantile(connectMs, 0.5).toFixed(0)} ms; load ${loadavg()[0]!.toFixed(1)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, H) }, worker));

    // h1's final desired state, from an etcd list through the agent's model
    const ks = new Keyspace();
    const model = new OverlayModel(ks, 20_000);
    const { kvs, revision } = await client.range(ks.prefix);
    model.reset(kvs, revision, Date.now());
    const h1 = hosts[0]!;
    const inspect = JSON.parse(nsboxOn(h1, '--json', 'network', 'inspect', net)) as { overlay: { block: string; underlay?: string } };
    const d = model.desired({ name: net, hostId: h1.name, underlay: h1.ip, block: inspect.overlay.block, owner: `${h1.root}/run/netns` }); // the agent's tag: its devices are kept
    if (d === undefined) throw new Error('no desired state for h1');
    const rtnl1 = Rtnl.open({ netns: h1.ns.path });
    const noop: number[] = [];
    const delta: number[] = [];
    let noopCounts = { added: 0, replaced: 0, removed: 0 };
    try {
      for (let r = 0; r < 5; r++) noop.push(await timedMs(async () => { noopCounts = await reconcileOverlay(d, { rtnl: rtnl1 }); }));
      // the agent's path for a watch event: one peer's (L3) or one endpoint's (L2) entries out and back in
      const less: OverlayDesired = mode === 'l2' ? { ...d, endpoints: d.endpoints.slice(1) } : { ...d, peers: d.peers.slice(1) };
      for (let r = 0; r < 5; r++) {
        delta.push(await timedMs(() => applyOverlayDelta(d, less, { rtnl: rtnl1 })));
        delta.push(await timedMs(() => applyOverlayDelta(less, d, { rtnl: rtnl1 })));
      }
    } finally {
      rtnl1.close();
    }
    using fresh = makeNetns();
    const rtnlF = Rtnl.open({ netns: fresh.path });
    const first: number[] = [];
    const floor: number[] = [];
    let firstCounts = { added: 0, replaced: 0, removed: 0 };
    let nLines = 0;
    try {
      const host = { rtnl: rtnlF };
      await rtnlF.link.set({ name: 'lo' }, { up: true });
      await rtnlF.link.add({ name: 'eth0', kind: 'veth', up: true, peer: { name: 'eth0p' } });
      await rtnlF.link.set({ name: 'eth0p' }, { up: true });
      await rtnlF.addr.add({ index: (await rtnlF.link.get({ name: 'eth0' })).index, address: `${h1.ip}/24` });
      const dev = await ensureOverlayDevices(d.network, d.local, host);
      const empty: OverlayDesired = { ...d, peers: [], endpoints: [] };
      const { ipl, brl } = floorLines(d, dev.vxlan);
      nLines = ipl.length + brl.length;
      for (let r = 0; r < 5; r++) {
        await reconcileOverlay(empty, host);
        first.push(await timedMs(async () => { firstCounts = await reconcileOverlay(d, host); }));
        await reconcileOverlay(empty, host);
        floor.push(await timedMs(() => {
          run('bridge', ['-n', fresh.name, '-batch', '-'], brl.join('\n') + '\n');
          run('ip', ['-n', fresh.name, '-batch', '-'], ipl.join('\n') + '\n');
        }));
      }
    } finally {
      rtnlF.close();
    }
    const rss = hosts.map((h) => vmRss(h.agent?.pid));

    const f = (x: number): string => x.toFixed(x < 10 ? 1 : 0);
    const lines = [
      `\n## overlay convergence, ${mode.toUpperCase()}, ${H} hosts × ${S} sandboxes (${H * S} connects) — ${new Date().toISOString().slice(0, 16)}Z, kernel ${release()}, ${cpus().length} CPUs, Node ${process.version}; load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after`,
      `connect → reachable from all ${H - 1} other hosts: p50 ${f(quantile(conv, 0.5))} ms, p99 ${f(quantile(conv, 0.99))} ms, max ${f(Math.max(...conv))} ms (probe: a TCP SYN to a closed port, answered by a reset, from a sandbox on each other host, in parallel, every 200 ms until answered)`,
      `  from the connect command's start: p50 ${f(quantile(convFromStart, 0.5))} ms, p99 ${f(quantile(convFromStart, 0.99))} ms`,
      ...(mode === 'l2' ? [
        `connect → the permanent neighbour entry in every other host's kernel (netlink notification; 0 when there before the command returned): p50 ${f(quantile(entries, 0.5))} ms, p99 ${f(quantile(entries, 0.99))} ms`,
        `  from the connect command's start: p50 ${f(quantile(entriesFromStart, 0.5))} ms, p99 ${f(quantile(entriesFromStart, 0.99))} ms`,
      ] : []),
      `the connect command itself (nsenter + nsbox CLI, ${Math.min(parallel, H)} at a time): p50 ${f(quantile(connectMs, 0.5))} ms, p99 ${f(quantile(connectMs, 0.99))} ms`,
      `h1's final desired state: ${d.peers.length} peers, ${d.endpoints.length} remote endpoints; ${nLines} kernel entries`,
      `  reconcileOverlay, nothing to change (the agent's periodic full reconcile), in h1: median ${f(median(noop))} ms of 5 (${JSON.stringify(noopCounts)})`,
      `  applyOverlayDelta of one ${mode === 'l2' ? 'endpoint' : 'peer'} removed or added (the agent's path for a watch event, no dump): median ${f(median(delta))} ms of 10`,
      `  reconcileOverlay from no entries, fresh namespace with the same devices: median ${f(median(first))} ms of 5 (${JSON.stringify(firstCounts)})`,
      `  kernel floor, bridge -batch + ip -batch of the same ${nLines} entries: median ${f(median(floor))} ms of 5`,
      `agent VmRSS at the end: min ${f(Math.min(...rss))} MiB, median ${f(median(rss))} MiB, max ${f(Math.max(...rss))} MiB`,
    ];
    console.log(lines.join('\n'));
    return lines.join('\n');
  } catch (err) {
    // what the agents said, for the failure's diagnosis
    for (const h of hosts) console.error(`--- agent ${h.name} (last lines)\n${h.log.split('\n').slice(-12).join('\n')}`);
    throw err;
  } finally {
    for (const h of hosts) {
      h.neigh?.close();
      h.probe?.rtnl.close();
      h.rtnl?.close();
      if (h.probeFd !== undefined) closeSync(h.probeFd);
    }
    for (const h of hosts) {
      const c = h.agent;
      if (c !== undefined && c.exitCode === null && c.signalCode === null) {
        const gone = new Promise((r) => c.once('close', r));
        c.kill('SIGKILL');
        await gone;
      }
    }
    for (const h of hosts) {
      spawnSync('nsenter', [`--net=${h.ns.path}`, process.execPath, NSBOX_BIN, '--root', h.root, '--host', h.name, 'rm', '--all'], { env: cleanEnv() });
      rmSync(h.root, { recursive: true, force: true });
      h.ns[Symbol.dispose]();
    }
    client.close();
    await etcd.stop();
  }
}

for (const { h, s } of sizes) await oneSize(h, s);
