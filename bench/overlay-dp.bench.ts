/**
 * Benchmark: the overlay data plane's reconcile (src/overlay/dataplane; issue 15, "Measure": full
 * reconcile time per host, side by side with the kernel floor of the same entries written by
 * `ip -batch` / `bridge -batch`), inside the throwaway host made by scripts/run-bench.js.
 * `npm run bench -- overlay-dp [reps]` (default 11; medians, nsbox and the peer interleaved).
 *
 * One host namespace (eth0 192.0.2.1/16, one end of a veth pair) with an overlay network's
 * devices; the peers and endpoints are entries only (no other namespace is needed for the
 * kernel's work). Each timed step starts from the state it names, set up untimed:
 * - L3, 20 peers: first reconcile from no entries (20 routes + 20 neighbours + 20 FDB + 20
 *   allowlist elements), a reconcile with nothing to change (the periodic full reconcile), one
 *   peer added, and all 20 removed; the peer writes the 60 entries with one `ip -batch` and one
 *   `bridge -batch` process (and deletes them the same way);
 * - L2, 20 peers × 50 endpoints: first reconcile of 1000 FDB + 1000 neighbours (+ 20 elements),
 *   nothing to change, one endpoint moved to another host (its FDB entry replaced), all removed;
 *   the peer: `bridge -batch` of 1000 `fdb replace` + `ip -batch` of 1000 `neigh replace`.
 * nsbox's figures include what the call does besides the entries: checking the devices (a few
 * link and address requests) and the allowlist (an nf_tables dump and a transaction).
 */
import { cpus, loadavg, release } from 'node:os';
import { Rtnl } from '../src/netlink/route/ops/index.js';
import { applyOverlayDelta, reconcileOverlay, ensureOverlayDevices, removeOverlayDevices, type OverlayDesired, type OverlayNetworkSpec, type OverlayPeer, type OverlayRemoteEndpoint } from '../src/overlay/dataplane/index.js';
import { createNetns, destroyNetns } from '../src/sys/index.js';
import { median, printTable, run, type Figure } from './stats.js';

const reps = Number(process.argv[2] ?? 11);
const NS = 'nsbench-ovdp';
const PATH = `/run/netns/${NS}`;
const loadBefore = loadavg()[0]!;

run('mkdir', ['-p', '/run/netns']);
createNetns(PATH);
const rtnl = Rtnl.open({ netns: PATH });
const host = { rtnl };

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

const peerMac = (p: number): string => `02:00:00:00:01:${hex(p)}`;
const peers = (n: number, net = '10.244'): OverlayPeer[] => Array.from({ length: n }, (_, k) => ({ hostId: `p${k + 2}`, underlay: `192.0.2.${k + 2}`, vtepMac: peerMac(k + 2), blocks: [`${net}.${k + 2}.0/24`] }));
const endpoints = (nPeers: number, per: number, moved = -1): OverlayRemoteEndpoint[] => {
  const out: OverlayRemoteEndpoint[] = [];
  for (let p = 2; p < nPeers + 2; p++) {
    for (let e = 0; e < per; e++) {
      const idx = out.length;
      const on = idx === moved ? (p === 2 ? 3 : 2) : p;
      out.push({ ip: `10.200.${p}.${e + 2}`, mac: `02:01:00:00:${hex(p)}:${hex(e + 2)}`, hostId: `p${on}`, underlay: `192.0.2.${on}` });
    }
  }
  return out;
};

async function timed(fn: () => unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1000;
}

const batch = (tool: 'ip' | 'bridge', lines: string[]): void => {
  run(tool, ['-n', NS, '-batch', '-'], lines.join('\n') + '\n');
};

try {
  await rtnl.link.set({ name: 'lo' }, { up: true });
  await rtnl.link.add({ name: 'eth0', kind: 'veth', up: true, peer: { name: 'eth0p' } });
  await rtnl.link.set({ name: 'eth0p' }, { up: true });
  await rtnl.addr.add({ index: (await rtnl.link.get({ name: 'eth0' })).index, address: '192.0.2.1/16' });

  // ---- L3: 20 peers
  const L3: OverlayNetworkSpec = { name: 'bl3', vni: 42, subnet: '10.244.0.0/16', blockPrefixLength: 24, mode: 'l3', port: 4789 };
  const l3 = (n: number): OverlayDesired => ({ network: L3, local: { hostId: 'p1', underlay: '192.0.2.1', block: '10.244.1.0/24' }, peers: peers(n), endpoints: [] });
  const dev3 = await ensureOverlayDevices(L3, l3(0).local, host);
  const l3Lines = (n: number, op: 'replace' | 'del') => {
    const ipl: string[] = [];
    const brl: string[] = [];
    for (const p of peers(n)) {
      const vtep = p.blocks[0]!.replace('/24', '');
      if (op === 'replace') {
        ipl.push(`neigh replace ${vtep} lladdr ${p.vtepMac} dev ${dev3.vxlan} nud permanent`);
        ipl.push(`route replace ${p.blocks[0]} via ${vtep} dev ${dev3.vxlan} onlink proto 110`);
        brl.push(`fdb replace ${p.vtepMac} dev ${dev3.vxlan} dst ${p.underlay} self permanent`);
      } else {
        ipl.unshift(`neigh del ${vtep} dev ${dev3.vxlan}`);
        ipl.unshift(`route del ${p.blocks[0]} dev ${dev3.vxlan} proto 110`);
        brl.push(`fdb del ${p.vtepMac} dev ${dev3.vxlan} dst ${p.underlay} self`);
      }
    }
    return { ipl, brl };
  };
  const t3 = { first: [] as number[], noop: [] as number[], one: [] as number[], remove: [] as number[], ipFirst: [] as number[], ipRemove: [] as number[] };
  let counts3 = { added: 0, replaced: 0, removed: 0 };
  for (let r = 0; r < reps; r++) {
    await reconcileOverlay(l3(0), host);
    t3.first.push(await timed(async () => { counts3 = await reconcileOverlay(l3(20), host); }));
    t3.noop.push(await timed(() => reconcileOverlay(l3(20), host)));
    await reconcileOverlay(l3(19), host);
    t3.one.push(await timed(() => reconcileOverlay(l3(20), host)));
    t3.remove.push(await timed(() => reconcileOverlay(l3(0), host)));
    const w = l3Lines(20, 'replace');
    t3.ipFirst.push(await timed(() => { batch('ip', w.ipl); batch('bridge', w.brl); }));
    const d = l3Lines(20, 'del');
    t3.ipRemove.push(await timed(() => { batch('ip', d.ipl); batch('bridge', d.brl); }));
  }
  await removeOverlayDevices(L3, host);

  // ---- L2: 20 peers × 50 endpoints
  const L2: OverlayNetworkSpec = { name: 'bl2', vni: 100, subnet: '10.200.0.0/16', blockPrefixLength: 24, mode: 'l2', port: 4789 };
  const l2 = (n: number, moved = -1): OverlayDesired => ({ network: L2, local: { hostId: 'p1', underlay: '192.0.2.1', block: '10.200.1.0/24' }, peers: peers(20, '10.200'), endpoints: n === 0 ? [] : endpoints(20, n / 20, moved) });
  const dev2 = await ensureOverlayDevices(L2, l2(0).local, host);
  const l2Lines = (op: 'replace' | 'del') => {
    const ipl: string[] = [];
    const brl: string[] = [];
    for (const e of endpoints(20, 50)) {
      ipl.push(op === 'replace' ? `neigh replace ${e.ip} lladdr ${e.mac} dev ${dev2.vxlan} nud permanent` : `neigh del ${e.ip} dev ${dev2.vxlan}`);
      brl.push(op === 'replace' ? `fdb replace ${e.mac} dev ${dev2.vxlan} dst ${e.underlay} self permanent` : `fdb del ${e.mac} dev ${dev2.vxlan} dst ${e.underlay} self`);
    }
    return { ipl, brl };
  };
  const t2 = { oneFdb: [] as number[], first: [] as number[], noop: [] as number[], move: [] as number[], deltaMove: [] as number[], remove: [] as number[], ipFirst: [] as number[], ipRemove: [] as number[] };
  let counts2 = { added: 0, replaced: 0, removed: 0 };
  let movedCounts = { added: 0, replaced: 0, removed: 0 };
  for (let r = 0; r < reps; r++) {
    await reconcileOverlay(l2(0), host);
    t2.first.push(await timed(async () => { counts2 = await reconcileOverlay(l2(1000), host); }));
    t2.noop.push(await timed(() => reconcileOverlay(l2(1000), host)));
    t2.move.push(await timed(async () => { movedCounts = await reconcileOverlay(l2(1000, 500 + r), host); }));
    // the agent's path for the watch event of that move: the delta, no dump (moved back, then there again)
    t2.deltaMove.push(await timed(() => applyOverlayDelta(l2(1000, 500 + r), l2(1000), host)));
    t2.deltaMove.push(await timed(() => applyOverlayDelta(l2(1000), l2(1000, 500 + r), host)));
    t2.remove.push(await timed(() => reconcileOverlay(l2(0), host)));
    const e0 = endpoints(20, 50)[500 + r]!;
    await reconcileOverlay(l2(1000), host);
    t2.oneFdb.push(await timed(() => batch('bridge', [`fdb replace ${e0.mac} dev ${dev2.vxlan} dst ${e0.underlay} self permanent`])));
    await reconcileOverlay(l2(0), host);
    const w = l2Lines('replace');
    t2.ipFirst.push(await timed(() => { batch('bridge', w.brl); batch('ip', w.ipl); }));
    const d = l2Lines('del');
    t2.ipRemove.push(await timed(() => { batch('ip', d.ipl); batch('bridge', d.brl); }));
  }
  await removeOverlayDevices(L2, host);

  console.log(`\noverlay data plane — ${new Date().toISOString().slice(0, 10)}, kernel ${release()}, ${cpus().length} CPUs, Node ${process.version}, ${run('ip', ['-V']).trim()}; ${reps} reps, medians`);
  console.log(`(L3 first reconcile counts ${JSON.stringify(counts3)}; L2 first ${JSON.stringify(counts2)}, a move ${JSON.stringify(movedCounts)}; load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after)`);
  const rows: Figure[] = [
    { op: 'L3 20 peers: first reconcile (60 entries + 20 allow)', nsboxUs: median(t3.first), peer: 'ip -batch + bridge -batch (60)', peerUs: median(t3.ipFirst) },
    { op: 'L3 20 peers: reconcile, nothing to change', nsboxUs: median(t3.noop), peer: '—', peerUs: NaN },
    { op: 'L3: one peer added (3 entries + 1 allow)', nsboxUs: median(t3.one), peer: '—', peerUs: NaN },
    { op: 'L3: all 20 peers removed', nsboxUs: median(t3.remove), peer: 'ip -batch + bridge -batch del (60)', peerUs: median(t3.ipRemove) },
    { op: 'L2 1000 endpoints: first reconcile (2000 entries + 20 allow)', nsboxUs: median(t2.first), peer: 'bridge -batch + ip -batch (2000)', peerUs: median(t2.ipFirst) },
    { op: 'L2 1000 endpoints: reconcile, nothing to change', nsboxUs: median(t2.noop), peer: '—', peerUs: NaN },
    { op: 'L2: one endpoint moved (1 FDB replace)', nsboxUs: median(t2.move), peer: '—', peerUs: NaN },
    { op: 'L2: one endpoint moved, applyOverlayDelta (the agent\'s watch path)', nsboxUs: median(t2.deltaMove), peer: 'bridge fdb replace (1 process)', peerUs: median(t2.oneFdb) },
    { op: 'L2: all 1000 endpoints removed', nsboxUs: median(t2.remove), peer: 'ip -batch + bridge -batch del (2000)', peerUs: median(t2.ipRemove) },
  ];
  printTable('overlay data plane reconcile (one host)', rows);
} finally {
  rtnl.close();
  destroyNetns(PATH);
}
