/**
 * Integration (root, throwaway host): the overlay data plane (src/overlay/dataplane) in L2 mode
 * (one broadcast domain, research B2.3) between three simulated hosts on an underlay bridge:
 * the vxlan (proxy, nolearning) is a port of the network's bridge, and per remote endpoint the
 * host holds an FDB entry MAC → underlay and a neighbour IP → MAC that the vxlan's proxy answers
 * ARP from. Checked with iproute2 and ping as oracles: counts of a first reconcile and none on a
 * second; TCP between sandboxes of different hosts on one /16; DF pings at the overlay MTU pass
 * and above it fail; an FDB entry deleted behind its back is reported by observeOverlay and
 * put back; an endpoint moving from h3 to h2 (same IP and MAC) black-holes until h1's
 * reconcile replaces its FDB entry, h2 drops its entries for it (local now), h3 gains them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureOverlayDevices, observeOverlay, reconcileOverlay, removeOverlayDevices, vtepMacFor, type OverlayDesired, type OverlayNetworkSpec, type OverlayRemoteEndpoint } from '../../../src/overlay/dataplane/index.js';
import { checkLeaksAfterAll } from '../../helpers/rtnl.js';
import { bridgeFdb, ipJson, ipNeighs } from '../../helpers/iproute.js';
import { clientArgv, serverArgv } from '../../helpers/probe-servers.js';
import { World, inNs, ping, startServer, type SimHost, type SimSandbox } from './dataplane-hosts.js';
import { allowElements } from './dataplane-probes.js';

checkLeaksAfterAll();

const SPEC: OverlayNetworkSpec = { name: 'ovl2', vni: 100, subnet: '10.200.0.0/16', blockPrefixLength: 24, mode: 'l2', port: 4789 };
const local = (h: SimHost) => ({ hostId: `h${h.i}`, underlay: h.underlay, block: `10.200.${h.i}.0/24` });
const peer = (h: SimHost) => ({ hostId: `h${h.i}`, underlay: h.underlay, vtepMac: vtepMacFor(`h${h.i}`, SPEC.vni), blocks: [`10.200.${h.i}.0/24`] });
const endpoint = (s: SimSandbox, h: SimHost): OverlayRemoteEndpoint => ({ ip: s.ip, mac: s.mac, hostId: `h${h.i}`, underlay: h.underlay });
const selfEntries = (h: SimHost): string[] => bridgeFdb(h.ns.name, 'show', 'dev', 'nsvx-ovl2').filter((e) => e.dst !== undefined).map((e) => `${e.mac} ${e.dst}`).sort();
const neighs = (h: SimHost): string[] => ipNeighs(h.ns.name, 'dev', 'nsvx-ovl2').map((n) => `${n.dst} ${n.lladdr}`).sort();

test('L2 overlay data plane: three hosts, reconcile, TCP, MTU, drift, an endpoint moving between hosts', async (t) => {
  using w = await World.make([1, 2, 3]);
  const [h1, h2, h3] = w.hosts as [SimHost, SimHost, SimHost];
  const hosts = [h1, h2, h3];
  for (const h of hosts) {
    const d = await ensureOverlayDevices(SPEC, local(h), { netns: h.ns.fd });
    assert.deepEqual(d, { vxlan: 'nsvx-ovl2', bridge: 'nsob-ovl2', vtepMac: vtepMacFor(`h${h.i}`, 100), mtu: 1450, underlayDev: 'eth0' });
  }
  const vx = ipJson<{ master: string; linkinfo: { info_data: { proxy?: boolean; learning: boolean } } }[]>(h1.ns.name, '-d', 'link', 'show', 'nsvx-ovl2')[0]!;
  assert.equal(vx.master, 'nsob-ovl2', 'the vxlan is a port of the bridge');
  assert.equal(vx.linkinfo.info_data.proxy, true);
  assert.equal(vx.linkinfo.info_data.learning, false);
  assert.deepEqual(ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>(h1.ns.name, '-4', 'addr', 'show', 'nsob-ovl2')[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`), ['10.200.1.1/16']);

  const box = (h: SimHost, ip: string, mac: string, veth: string): Promise<SimSandbox> => w.addSandbox(h, 'nsob-ovl2', { ip, prefix: 16, mac, mtu: 1450, veth });
  const s1 = await box(h1, '10.200.1.2', '02:00:0a:c8:01:02', 've1');
  const s2 = await box(h2, '10.200.2.2', '02:00:0a:c8:02:02', 've2');
  let mover = await box(h3, '10.200.3.9', '02:00:0a:c8:09:09', 'vm3');
  let moverHost = h3;
  const desired = (h: SimHost): OverlayDesired => ({
    network: SPEC, local: local(h), peers: hosts.filter((p) => p !== h).map(peer),
    endpoints: [endpoint(s1, h1), endpoint(s2, h2), endpoint(mover, moverHost)],
  });
  assert.equal(ping(s1.ns, s2.ip, 56, { waitS: 1 }).ok, false, 'nothing crosses before reconcile');

  // per remote endpoint an FDB entry and a neighbour, and per peer an allowlist element
  for (const h of hosts) assert.deepEqual(await reconcileOverlay(desired(h), { netns: h.ns.fd }), { added: 6, replaced: 0, removed: 0 }, `h${h.i}`);
  for (const h of hosts) assert.deepEqual(await reconcileOverlay(desired(h), { netns: h.ns.fd }), { added: 0, replaced: 0, removed: 0 }, 'second reconcile changes nothing');
  assert.deepEqual(selfEntries(h1), [`${s2.mac} ${h2.underlay}`, `${mover.mac} ${h3.underlay}`]);
  assert.deepEqual(neighs(h1), [`${s2.ip} ${s2.mac}`, `${mover.ip} ${mover.mac}`].sort());
  assert.deepEqual(allowElements(h1.ns, 100), ['192.0.2.2', '192.0.2.3']);

  // TCP across hosts inside one /16
  let server = await startServer(mover.ns, serverArgv('mover@h3', 7000));
  t.after(() => server.stop());
  const s2server = await startServer(s2.ns, serverArgv('s2', 7000));
  t.after(() => s2server.stop());
  assert.equal(inNs(s1.ns, clientArgv('tcp', s2.ip, 7000, { ms: 5000 })).stdout.trim(), `s2 peer=${s1.ip}`);
  assert.equal(inNs(s1.ns, clientArgv('tcp', mover.ip, 7000, { ms: 5000 })).stdout.trim(), `mover@h3 peer=${s1.ip}`);

  // MTU: 1450 passes; with s1's side at 1500 a 1500-byte DF frame does not fit the vxlan and is lost
  assert.ok(ping(s1.ns, s2.ip, 1450 - 28).ok, 'DF ping at the overlay MTU');
  for (const [ns, dev] of [[s1.ns, 'eth0'], [h1.ns, 've1'], [h1.ns, 'nsob-ovl2']] as const) assert.equal(inNs(ns, ['ip', 'link', 'set', dev, 'mtu', '1500']).status, 0);
  assert.equal(ping(s1.ns, s2.ip, 1500 - 28, { waitS: 1 }).ok, false, 'above the overlay MTU');
  assert.ok(ping(s1.ns, s2.ip, 1450 - 28).ok);
  for (const [ns, dev] of [[s1.ns, 'eth0'], [h1.ns, 've1']] as const) assert.equal(inNs(ns, ['ip', 'link', 'set', dev, 'mtu', '1450']).status, 0);

  // drift: s2's FDB entry deleted behind our back, the bridge's MTU lowered
  assert.equal(inNs(h1.ns, ['bridge', 'fdb', 'del', s2.mac, 'dev', 'nsvx-ovl2', 'dst', h2.underlay, 'self']).status, 0);
  assert.equal(inNs(h1.ns, ['ip', 'link', 'set', 'nsob-ovl2', 'mtu', '1400']).status, 0);
  assert.deepEqual(await observeOverlay(desired(h1), { netns: h1.ns.fd }), [
    { key: 'device nsob-ovl2', want: 'mtu 1450', have: 'mtu 1400' },
    { key: `fdb ${s2.mac}`, want: `dst ${h2.underlay}` },
  ]);
  assert.deepEqual(await reconcileOverlay(desired(h1), { netns: h1.ns.fd }), { added: 1, replaced: 0, removed: 0 });
  assert.deepEqual(await observeOverlay(desired(h1), { netns: h1.ns.fd }), []);
  assert.equal(ipJson<{ mtu: number }[]>(h1.ns.name, 'link', 'show', 'nsob-ovl2')[0]!.mtu, 1450, 'the bridge MTU put back');

  // the mover moves from h3 to h2: same IP and MAC
  await server.stop();
  w.removeSandbox(mover);
  mover = await box(h2, '10.200.3.9', '02:00:0a:c8:09:09', 'vm2');
  moverHost = h2;
  server = await startServer(mover.ns, serverArgv('mover@h2', 7000));
  assert.equal(inNs(s1.ns, clientArgv('tcp', mover.ip, 7000, { ms: 1500 })).stdout.trim(), 'timeout', 'a stale FDB entry black-holes');
  assert.deepEqual(await observeOverlay(desired(h1), { netns: h1.ns.fd }), [{ key: `fdb ${mover.mac}`, want: `dst ${h2.underlay}`, have: `dst ${h3.underlay}` }]);
  assert.deepEqual(await reconcileOverlay(desired(h1), { netns: h1.ns.fd }), { added: 0, replaced: 1, removed: 0 });
  assert.deepEqual(await reconcileOverlay(desired(h2), { netns: h2.ns.fd }), { added: 0, replaced: 0, removed: 2 }, 'h2: the mover is local now');
  assert.deepEqual(await reconcileOverlay(desired(h3), { netns: h3.ns.fd }), { added: 2, replaced: 0, removed: 0 }, 'h3: the mover is remote now');
  assert.deepEqual(selfEntries(h1), [`${s2.mac} ${h2.underlay}`, `${mover.mac} ${h2.underlay}`]);
  assert.deepEqual(selfEntries(h2), [`${s1.mac} ${h1.underlay}`]);
  assert.deepEqual(selfEntries(h3), [`${s1.mac} ${h1.underlay}`, `${s2.mac} ${h2.underlay}`, `${mover.mac} ${h2.underlay}`].sort());
  assert.equal(inNs(s1.ns, clientArgv('tcp', mover.ip, 7000, { ms: 5000 })).stdout.trim(), `mover@h2 peer=${s1.ip}`, 'reached on its new host');
  assert.equal(inNs(s2.ns, clientArgv('tcp', mover.ip, 7000, { ms: 5000 })).stdout.trim(), `mover@h2 peer=${s2.ip}`, 'and from its new neighbour on the same host');

  for (const h of hosts) {
    await removeOverlayDevices(SPEC, { netns: h.ns.fd });
    assert.deepEqual(ipJson(h.ns.name, 'link', 'show', 'type', 'vxlan'), []);
    assert.deepEqual(allowElements(h.ns, 100), []);
  }
  await server.stop();
});
