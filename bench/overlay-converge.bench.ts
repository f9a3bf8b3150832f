/**
 * Benchmark: the overlay's convergence (issue 15, "Measure"), end to end with real agents and a
 * real etcd, inside the throwaway host made by scripts/run-bench.js.
 * `npm run bench -- overlay-converge [HOSTSxSANDBOXES…] [--mode l3|l2]` (default 3x50, L3).
 *
 * Per size: one etcd member (test/helpers/etcd.ts) and H simulated hosts as in
 * test/integration/overlay/hosts-overlay.test.ts (a network namespace each with eth0 on the etcd
 * fixture's bridge, a root and `--host` of its own, every command through `nsenter --net=H nsbox
 * --root DIR --host H …`), an agent each (defaults: TTL 10 s, resync 60 s); one overlay network
 * created on h1 and joined by the others. Then H × S sandboxes created and connected one at a
 * time on a rotating host; for each connect, the time from the connect command's return to the
 * moment a probe sandbox on every other host (connected before, untimed) gets an answer to
 * `ping -c1 -W0.2` to the new address (all hosts probed in parallel, each until it answers; in
 * L2 a host's own namespace has no endpoint key, hence a sandbox as the source). Then, for h1's final desired state
 * (built from an etcd list with the agent's own model): `reconcileOverlay` in h1's namespace
 * (nothing to change: the agent's periodic full reconcile), applyOverlayDelta of one peer (L3) or
 * endpoint (L2) out and back in there (the agent's path for a watch event), and in a fresh namespace with the
 * same devices (every entry added), and the kernel floor: the same entries written by one
 * `ip -batch` and one `bridge -batch`; and each agent's VmRSS at the end. Nothing asserts a time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
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
import { applyOverlayDelta, ensureOverlayDevices, reconcileOverlay, type OverlayDesired } from '../src/overlay/dataplane/index.js';
import { median, run } from './stats.js';

interface SimHost { name: string; ns: TestNetns; root: string; ip: string; agent: ChildProcess | undefined; log: string; rtnl?: Rtnl }

const args = process.argv.slice(2);
const modeAt = args.indexOf('--mode');
const mode = modeAt >= 0 ? (args[modeAt + 1] ?? '') : 'l3';
if (mode !== 'l3' && mode !== 'l2') throw new Error(`overlay-converge: --mode must be l3 or l2 (got ${JSON.stringify(mode)})`);
const sizes = args.filter((_, i) => modeAt < 0 || (i !== modeAt && i !== modeAt + 1)).map((a) => {
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

function ipOk(argv: string[]): void {
  const r = spawnSync('ip', argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${argv.join(' ')}: ${r.stderr}`);
}

/** Exit code of one ping from host h's probe sandbox (-W 0.2). */
function pingFrom(h: SimHost, ip: string): Promise<number | null> {
  return new Promise((resolve) => {
    const c = spawn('nsenter', [`--net=/run/netns/probe@${h.name}`, 'ping', '-n', '-q', '-c', '1', '-W', '0.2', ip], { stdio: 'ignore' });
    c.once('close', (code) => resolve(code));
  });
}

const since = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

/**
 * ms from `t0` until h's kernel has the permanent neighbour entry of ip (L2 only: in L3 the
 * block's route is there before; 0), then until h answers a ping to ip (gives up after 30 s).
 */
async function reachedAfter(h: SimHost, ip: string, t0: bigint): Promise<{ entry: number; ping: number }> {
  let entry = 0;
  if (mode === 'l2') {
    while (!(await h.rtnl!.neigh.list({ family: 4 })).some((n) => n.dst === ip && ((n.state ?? 0) & 0x80) !== 0)) {
      if (since(t0) > 30e3) throw new Error(`no neighbour entry for ${ip} on ${h.name} after 30 s`);
      await sleep(10);
    }
    entry = since(t0);
  }
  for (;;) {
    if (await pingFrom(h, ip) === 0) return { entry, ping: since(t0) };
    if (Number(process.hrtime.bigint() - t0) > 30e9) throw new Error(`${ip} not reachable from ${h.name} after 30 s`);
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

    for (const h of hosts) h.rtnl = Rtnl.open({ netns: h.ns.path });
    const conv: number[] = [];
    const entries: number[] = [];
    const connectMs: number[] = [];
    for (let i = 0; i < H * S; i++) {
      const h = hosts[i % H]!;
      const sb = `s${i}`;
      nsboxOn(h, 'create', sb);
      const c0 = process.hrtime.bigint();
      nsboxOn(h, 'connect', net, sb);
      const t0 = process.hrtime.bigint();
      connectMs.push(Number(t0 - c0) / 1e6);
      const out = spawnSync('ip', ['-n', `${sb}@${h.name}`, '-j', '-4', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' }).stdout;
      const ip = (JSON.parse(out) as { addr_info: { local: string }[] }[])[0]!.addr_info[0]!.local;
      const each = await Promise.all(hosts.filter((o) => o !== h).map((o) => reachedAfter(o, ip, t0)));
      conv.push(Math.max(...each.map((e) => e.ping)));
      entries.push(Math.max(...each.map((e) => e.entry)));
    }

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
      `connect → reachable from all ${H - 1} other hosts: p50 ${f(quantile(conv, 0.5))} ms, p99 ${f(quantile(conv, 0.99))} ms, max ${f(Math.max(...conv))} ms (probe: ping -c1 -W0.2 from a sandbox on each other host, in parallel, until it answers)`,
      ...(mode === 'l2' ? [`connect → the permanent neighbour entry in every other host's kernel (polled every 10 ms): p50 ${f(quantile(entries, 0.5))} ms, p99 ${f(quantile(entries, 0.99))} ms`] : []),
      `the connect command itself (nsenter + nsbox CLI): p50 ${f(quantile(connectMs, 0.5))} ms, p99 ${f(quantile(connectMs, 0.99))} ms`,
      `h1's final desired state: ${d.peers.length} peers, ${d.endpoints.length} remote endpoints; ${nLines} kernel entries`,
      `  reconcileOverlay, nothing to change (the agent's periodic full reconcile), in h1: median ${f(median(noop))} ms of 5 (${JSON.stringify(noopCounts)})`,
      `  applyOverlayDelta of one ${mode === 'l2' ? 'endpoint' : 'peer'} removed or added (the agent's path for a watch event, no dump): median ${f(median(delta))} ms of 10`,
      `  reconcileOverlay from no entries, fresh namespace with the same devices: median ${f(median(first))} ms of 5 (${JSON.stringify(firstCounts)})`,
      `  kernel floor, bridge -batch + ip -batch of the same ${nLines} entries: median ${f(median(floor))} ms of 5`,
      `agent VmRSS at the end: min ${f(Math.min(...rss))} MiB, median ${f(median(rss))} MiB, max ${f(Math.max(...rss))} MiB`,
    ];
    console.log(lines.join('\n'));
    return lines.join('\n');
  } finally {
    for (const h of hosts) h.rtnl?.close();
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
