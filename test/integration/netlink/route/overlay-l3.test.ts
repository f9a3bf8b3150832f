/**
 * Integration (root, throwaway host): the flannel-style L3 overlay of research B2.4 built ONLY
 * with nsbox's netlink operations, between three "hosts" (network namespaces h1..h3 with eth0
 * on an underlay bridge in a namespace of its own, 192.0.2.i/24). Each host has a vxlan
 * (id 1, local 192.0.2.i, dev eth0, dstport 8472, nolearning, MTU left to the kernel), the
 * address 10.244.i.0/32 on it, a bridge cni0 10.244.i.1/24 and one sandbox s_i (10.244.i.2/24,
 * MTU = the vxlan's); per remote host j it holds the three entries docs/overlay.md describes:
 * a route to 10.244.j.0/24 via 10.244.j.0 onlink tagged NSBOX_ROUTE_PROTOCOL, a permanent
 * neighbour 10.244.j.0 → j's VTEP MAC, and an FDB entry VTEP MAC → 192.0.2.j (self, permanent).
 * Checked: the derived MTU (underlay − 50), idempotence (every write done twice with replace,
 * the lists unchanged), TCP between sandboxes on different hosts, the MTU with DF pings and a
 * UDP datagram larger than the overlay MTU (TCP over veth hides MTU errors, research B2.3), and
 * removal: without h3's entries, h2's sandbox gets "unreachable" at once instead of a black hole.
 * iproute2 (`ip -j route/neigh`, `bridge -j fdb`) and ping are the oracles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { NSBOX_ROUTE_PROTOCOL } from '../../../../src/netlink/route/ops/route.js';
import { NTF, NUD } from '../../../../src/netlink/route/ops/neigh.js';
import { vxlanMtu } from '../../../../src/netlink/route/schema/link-vxlan.js';
import { writeFileIn } from '../../../../src/sys/index.js';
import { makeNetns, type TestNetns } from '../../../helpers/netns.js';
import { bridgeFdb, ipJson, ipNeighs } from '../../../helpers/iproute.js';
import { checkLeaksAfterAll, openRtnl, type TestRtnl } from '../../../helpers/rtnl.js';
import { clientArgv, serverArgv } from '../../../helpers/probe-servers.js';

checkLeaksAfterAll();

const VX = 'nsbox-vx1';
const PORT = 8472;
const UNDERLAY_MTU = 1500;

interface Host {
  i: number;
  ns: TestNetns;
  sandbox: TestNetns;
  rtnl: TestRtnl;
  vtepMac: string;
  vxIndex: number;
  underlayIp: string;
}

const sub = (i: number): string => `10.244.${i}`;

/** Run `argv` in a namespace (nsenter, so the mount namespace stays the test's). */
function inNs(ns: TestNetns, argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('nsenter', [`--net=${ns.path}`, ...argv], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ping(from: TestNetns, to: string, size: number, df = true): { ok: boolean; text: string } {
  const r = inNs(from, ['ping', '-c', '1', '-W', '2', '-s', String(size), ...(df ? ['-M', 'do'] : []), to]);
  return { ok: r.status === 0, text: r.stdout + r.stderr };
}

/** The three entries host `h` holds for remote host `r`, all written with replace (idempotent). */
async function program(h: Host, r: Host): Promise<void> {
  await h.rtnl.neigh.replace({ index: h.vxIndex, dst: `${sub(r.i)}.0`, lladdr: r.vtepMac });
  await h.rtnl.neigh.replace({ index: h.vxIndex, family: 'bridge', self: true, lladdr: r.vtepMac, dst: r.underlayIp });
  // the route last: with the neighbour in place the kernel never ARPs for the onlink gateway
  await h.rtnl.route.replace({ dst: `${sub(r.i)}.0/24`, gateway: `${sub(r.i)}.0`, oif: h.vxIndex, onlink: true, protocol: NSBOX_ROUTE_PROTOCOL });
}

async function unprogram(h: Host, r: Host): Promise<void> {
  await h.rtnl.route.del({ dst: `${sub(r.i)}.0/24`, protocol: NSBOX_ROUTE_PROTOCOL });
  await h.rtnl.neigh.del({ index: h.vxIndex, dst: `${sub(r.i)}.0` });
  await h.rtnl.neigh.del({ index: h.vxIndex, family: 'bridge', self: true, lladdr: r.vtepMac, dst: r.underlayIp });
}

test('three hosts, L3 overlay from nsbox ops only: derived MTU, idempotent writes, TCP across hosts, DF pings and large UDP, fail-fast removal', async (t) => {
  using underlay = makeNetns();
  using ul = openRtnl(underlay);
  await ul.link.add({ name: 'ul0', kind: 'bridge', up: true });
  const ulBridge = (await ul.link.get({ name: 'ul0' })).index;

  const hosts: Host[] = [];
  const cleanups: (() => void)[] = [];
  t.after(() => {
    for (const c of cleanups.reverse()) c();
  });
  for (const i of [1, 2, 3]) {
    const ns = makeNetns();
    const sandbox = makeNetns();
    const rtnl = openRtnl(ns);
    cleanups.push(() => { rtnl.close(); sandbox[Symbol.dispose](); ns[Symbol.dispose](); });
    // underlay: eth0 in the host, u<i> on the underlay bridge
    await ul.link.add({ name: `u${i}`, kind: 'veth', master: ulBridge, up: true, mtu: UNDERLAY_MTU, peer: { name: 'eth0', netnsFd: ns.fd, mtu: UNDERLAY_MTU } });
    await rtnl.link.set({ name: 'lo' }, { up: true });
    const eth0 = (await rtnl.link.get({ name: 'eth0' })).index;
    await rtnl.addr.add({ index: eth0, address: `192.0.2.${i}/24` });
    await rtnl.link.set({ index: eth0 }, { up: true });
    // the VTEP: no MTU given, the kernel derives it from eth0
    const vtepMac = `0e:00:00:00:00:0${i}`;
    await rtnl.link.add({ name: VX, address: vtepMac, kind: 'vxlan', id: 1, local: `192.0.2.${i}`, dev: eth0, port: PORT, learning: false });
    const vx = await rtnl.link.get({ name: VX });
    assert.equal(vx.mtu, vxlanMtu(UNDERLAY_MTU, 4), 'vxlan MTU = underlay − 50');
    assert.deepEqual(vx.info, { kind: 'vxlan', id: 1, local: `192.0.2.${i}`, port: PORT, dev: eth0, learning: false, ttl: 0, proxy: false, l2miss: false, l3miss: false, udpCsum: true });
    await rtnl.addr.add({ index: vx.index, address: `${sub(i)}.0/32` });
    await rtnl.link.set({ index: vx.index }, { up: true });
    // the local network: cni0 with the sandbox on it
    await rtnl.link.add({ name: 'cni0', kind: 'bridge', up: true });
    const cni0 = (await rtnl.link.get({ name: 'cni0' })).index;
    await rtnl.addr.add({ index: cni0, address: `${sub(i)}.1/24` });
    await rtnl.link.add({ name: `ve${i}`, kind: 'veth', master: cni0, up: true, mtu: vx.mtu, peer: { name: 'eth0', netnsFd: sandbox.fd, mtu: vx.mtu } });
    writeFileIn(ns.fd, '/proc/sys/net/ipv4/ip_forward', '1');
    using s = openRtnl(sandbox);
    await s.link.set({ name: 'lo' }, { up: true });
    const seth = (await s.link.get({ name: 'eth0' })).index;
    await s.addr.add({ index: seth, address: `${sub(i)}.2/24` });
    await s.link.set({ index: seth }, { up: true });
    await s.route.add({ dst: 'default', gateway: `${sub(i)}.1` });
    hosts.push({ i, ns, sandbox, rtnl, vtepMac, vxIndex: vx.index, underlayIp: `192.0.2.${i}` });
  }
  const [h1, h2, h3] = hosts as [Host, Host, Host];

  // before any entry: nolearning and no flood entry, nothing crosses (no route at all)
  assert.equal(ping(h1.sandbox, `${sub(3)}.2`, 56).ok, false);

  // every host programs every remote host, twice: replace is idempotent
  for (let round = 0; round < 2; round++) {
    for (const h of hosts) for (const r of hosts) if (r !== h) await program(h, r);
  }
  for (const h of hosts) {
    const remotes = hosts.filter((r) => r !== h);
    const routes = await h.rtnl.route.list({ family: 4, protocol: NSBOX_ROUTE_PROTOCOL });
    assert.deepEqual(routes.map((r) => r.destination).sort(), remotes.map((r) => `${sub(r.i)}.0/24`), `h${h.i}: one route per remote host`);
    assert.ok(routes.every((r) => r.oif === h.vxIndex && r.gateway === `${sub(Number(r.destination.split('.')[2]))}.0`));
    const ipRoutes = ipJson<{ dst: string; flags: string[]; protocol: string }[]>(h.ns.name, 'route', 'show', 'proto', String(NSBOX_ROUTE_PROTOCOL));
    assert.deepEqual(ipRoutes.map((r) => r.flags), [['onlink'], ['onlink']], 'iproute2 sees them onlink');
    const neigh = (await h.rtnl.neigh.list({ family: 4, index: h.vxIndex })).filter((n) => n.state === NUD.PERMANENT);
    assert.deepEqual(neigh.map((n) => `${n.dst} ${n.lladdr}`).sort(), remotes.map((r) => `${sub(r.i)}.0 ${r.vtepMac}`));
    const fdb = (await h.rtnl.neigh.list({ family: 'bridge', index: h.vxIndex })).filter((n) => n.dst !== undefined);
    assert.deepEqual(fdb.map((n) => `${n.lladdr} ${n.dst} ${(n.flags ?? 0) & NTF.SELF}`).sort(), remotes.map((r) => `${r.vtepMac} ${r.underlayIp} ${NTF.SELF}`));
    const oracle = bridgeFdb(h.ns.name, 'show', 'dev', VX).filter((e) => e.dst !== undefined);
    assert.deepEqual(oracle.map((e) => [e.mac, e.dst, e.state]).sort(), remotes.map((r) => [r.vtepMac, r.underlayIp, 'permanent']));
    assert.equal(ipNeighs(h.ns.name, 'dev', VX).length, 2);
  }

  // TCP between sandboxes on different hosts
  const server = spawn('nsenter', [`--net=${h3.sandbox.path}`, ...serverArgv('s3', 7000)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const closed = new Promise((resolve) => server.on('close', resolve));
  t.after(async () => {
    server.kill('SIGKILL');
    await closed;
  });
  const lines = createInterface({ input: server.stdout });
  await new Promise<void>((resolve) => lines.on('line', (l) => { if (l === 'ready') resolve(); }));
  for (const from of [h1, h2]) {
    const r = inNs(from.sandbox, clientArgv('tcp', `${sub(3)}.2`, 7000, { ms: 5000 }));
    assert.equal(r.stdout.trim(), `s3 peer=${sub(from.i)}.2`, `TCP s${from.i} → s3 over the overlay`);
  }
  // a UDP datagram larger than the overlay MTU: fragmented at the sandbox (MTU 1450), reassembled across
  const big = inNs(h1.sandbox, [process.execPath, '-e', `
    const s = require('node:dgram').createSocket('udp4');
    setTimeout(() => { console.log('timeout'); process.exit(1); }, 5000);
    s.on('message', (m) => { console.log('reply ' + m); process.exit(0); });
    s.send(Buffer.alloc(4000, 120), 7000, '${sub(3)}.2');`]);
  assert.equal(big.stdout.trim(), `reply s3 peer=${sub(1)}.2`, big.stderr);

  // DF pings: a 1450-byte packet (1422 payload) fits the overlay ...
  assert.ok(ping(h1.sandbox, `${sub(3)}.2`, vxlanMtu(UNDERLAY_MTU, 4) - 28).ok, 'DF ping at the overlay MTU');
  // ... and with the sandbox's MTU wrongly left at the underlay's 1500, a 1500-byte DF packet is
  // refused at the vxlan (frag needed), which TCP over veth would not have shown
  using s1 = openRtnl(h1.sandbox);
  await s1.link.set({ name: 'eth0' }, { mtu: UNDERLAY_MTU });
  await h1.rtnl.link.set({ name: 've1' }, { mtu: UNDERLAY_MTU });
  await h1.rtnl.link.set({ name: 'cni0' }, { mtu: UNDERLAY_MTU });
  const tooBig = ping(h1.sandbox, `${sub(3)}.2`, UNDERLAY_MTU - 28);
  assert.equal(tooBig.ok, false, tooBig.text);
  assert.ok(ping(h1.sandbox, `${sub(3)}.2`, vxlanMtu(UNDERLAY_MTU, 4) - 28).ok, 'the smaller DF packet still passes');

  // removal: h2 drops h3's three entries; s2 → s3 now fails fast ("unreachable"), s1 → s3 still works
  await unprogram(h2, h3);
  assert.equal((await h2.rtnl.route.list({ family: 4, protocol: NSBOX_ROUTE_PROTOCOL })).length, 1);
  assert.equal((await h2.rtnl.neigh.list({ family: 'bridge', index: h2.vxIndex })).filter((n) => n.dst === h3.underlayIp).length, 0);
  const gone = ping(h2.sandbox, `${sub(3)}.2`, 56, false);
  assert.equal(gone.ok, false);
  assert.match(gone.text, /Unreachable/i, 'fail fast, not a black hole');
  assert.ok(ping(h1.sandbox, `${sub(3)}.2`, 56, false).ok);
});
