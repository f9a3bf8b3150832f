/**
 * Integration (root, throwaway host): the overlay data plane (src/overlay/dataplane) in L3 mode
 * between three simulated hosts (namespaces h1..h3, eth0 192.0.2.i/24 on an underlay bridge) and
 * a stranger (192.0.2.9) on the same underlay. Each host gets its devices from
 * ensureOverlayDevices and its entries from reconcileOverlay, called with the host's namespace
 * (OverlayHost.netns) and hand-built desired states (no etcd). Checked, with iproute2, nft and
 * ping as oracles: derived MTU and VTEP MAC; counts of a first reconcile and none on a second;
 * TCP between sandboxes of different hosts; DF pings at the overlay MTU pass and above it are
 * refused; drift made with `ip`/`bridge` reported by observeOverlay and repaired; a peer removed
 * from desired → its entries gone and traffic to it "unreachable" at once; VXLAN from the
 * stranger dropped and counted until it is allowed, then delivered; a foreign nf_tables table
 * untouched; removeOverlayDevices twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureOverlayDevices, observeOverlay, reconcileOverlay, removeOverlayDevices, vtepMacFor, type OverlayDesired, type OverlayDevices, type OverlayNetworkSpec } from '../../../src/overlay/dataplane/index.js';
import { NSBOX_ROUTE_PROTOCOL } from '../../../src/netlink/route/ops/route.js';
import { checkLeaksAfterAll } from '../../helpers/rtnl.js';
import { bridgeFdb, ipJson, ipNeighs } from '../../helpers/iproute.js';
import { clientArgv, serverArgv } from '../../helpers/probe-servers.js';
import { World, inNs, ping, startServer, UNDERLAY_MTU, type SimHost, type SimSandbox } from './dataplane-hosts.js';
import { allowElements, allowlistDrops, listenerArgv, nftTable, sendVxlan } from './dataplane-probes.js';

checkLeaksAfterAll();

const SPEC: OverlayNetworkSpec = { name: 'ovl3', vni: 42, subnet: '10.244.0.0/16', blockPrefixLength: 24, mode: 'l3', port: 4789 };
const block = (i: number): string => `10.244.${i}.0/24`;
const local = (h: SimHost) => ({ hostId: `h${h.i}`, underlay: h.underlay, block: block(h.i) });
const peer = (h: SimHost) => ({ hostId: `h${h.i}`, underlay: h.underlay, vtepMac: vtepMacFor(`h${h.i}`, SPEC.vni), blocks: [block(h.i)] });
const desiredFor = (h: SimHost, peers: SimHost[]): OverlayDesired => ({ network: SPEC, local: local(h), peers: peers.filter((p) => p !== h).map(peer), endpoints: [] });

test('L3 overlay data plane: three hosts, reconcile, TCP, MTU, drift, peer removal, allowlist', async (t) => {
  using w = await World.make([1, 2, 3]);
  const stranger = await w.addHost(9);
  const [h1, h2, h3] = w.hosts as [SimHost, SimHost, SimHost];
  const hosts = [h1, h2, h3];

  // a foreign table in h1 that must come out as it went in (it even accepts UDP/4789 itself)
  const foreignRules = 'table inet foreign {\n set s { type ipv4_addr; elements = { 192.0.2.2 } }\n chain c { type filter hook input priority 0; policy accept; udp dport 4789 accept; }\n}\n';
  assert.equal(inNs(h1.ns, ['nft', '-f', '-'], foreignRules).status, 0);
  const foreignBefore = nftTable(h1.ns, 'foreign');

  // bad input: a clear error naming the field, nothing made
  await assert.rejects(ensureOverlayDevices(SPEC, { ...local(h1), underlay: '192.0.2.77' }, { netns: h1.ns.fd }), /local\.underlay: no link of this host holds 192\.0\.2\.77/);
  await assert.rejects(ensureOverlayDevices({ ...SPEC, vni: 0 }, local(h1), { netns: h1.ns.fd }), /network\.vni/);
  await assert.rejects(reconcileOverlay({ ...desiredFor(h1, hosts), peers: [{ ...peer(h2), blocks: ['10.99.0.0/24'] }] }, { netns: h1.ns.fd }), /peers\[0\]\.blocks\[0\]: 10\.99\.0\.0\/24 is not a \/24 block of 10\.244\.0\.0\/16/);
  assert.equal(ipJson(h1.ns.name, 'link', 'show', 'type', 'vxlan').length, 0, 'nothing made by bad input');

  const devices = new Map<SimHost, OverlayDevices>();
  const sandboxes = new Map<SimHost, SimSandbox>();
  for (const h of hosts) {
    const d = await ensureOverlayDevices(SPEC, local(h), { netns: h.ns.fd });
    assert.deepEqual(d, { vxlan: 'nsvx-ovl3', bridge: 'nsob-ovl3', vtepMac: vtepMacFor(`h${h.i}`, 42), mtu: UNDERLAY_MTU - 50, underlayDev: 'eth0' });
    assert.deepEqual(await ensureOverlayDevices(SPEC, local(h), { netns: h.ns.fd }), d, 'idempotent');
    devices.set(h, d);
    sandboxes.set(h, await w.addSandbox(h, d.bridge, { ip: `10.244.${h.i}.2`, prefix: 24, mac: `02:00:0a:f4:0${h.i}:02`, mtu: d.mtu, gateway: `10.244.${h.i}.1`, veth: `ve${h.i}` }));
  }
  const vx = ipJson<{ mtu: number; address: string; linkinfo: { info_data: { id: number; port: number; local: string; learning: boolean } } }[]>(h1.ns.name, '-d', 'link', 'show', 'nsvx-ovl3')[0]!;
  assert.equal(vx.mtu, 1450);
  assert.equal(vx.address, vtepMacFor('h1', 42));
  assert.equal(vx.linkinfo.info_data.id, 42);
  assert.equal(vx.linkinfo.info_data.port, 4789);
  assert.equal(vx.linkinfo.info_data.learning, false);
  assert.deepEqual(ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>(h1.ns.name, '-4', 'addr', 'show', 'nsob-ovl3')[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`), ['10.244.1.1/24']);
  assert.deepEqual(ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>(h1.ns.name, '-4', 'addr', 'show', 'nsvx-ovl3')[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`), ['10.244.1.0/32']);
  assert.equal(inNs(h1.ns, ['cat', '/proc/sys/net/ipv4/ip_forward']).stdout.trim(), '0', 'host-wide forwarding untouched');
  assert.equal(inNs(h1.ns, ['sysctl', '-n', 'net.ipv4.conf.nsob-ovl3.forwarding']).stdout.trim(), '1');

  const [s1, s2, s3] = hosts.map((h) => sandboxes.get(h)!) as [SimSandbox, SimSandbox, SimSandbox];
  assert.equal(ping(s1.ns, s3.ip, 56).ok, false, 'nothing crosses before reconcile');

  // first reconcile: per peer a route, a neighbour, an FDB entry and an allowlist element
  for (const h of hosts) assert.deepEqual(await reconcileOverlay(desiredFor(h, hosts), { netns: h.ns.fd }), { added: 8, replaced: 0, removed: 0 });
  for (const h of hosts) assert.deepEqual(await reconcileOverlay(desiredFor(h, hosts), { netns: h.ns.fd }), { added: 0, replaced: 0, removed: 0 }, 'second reconcile changes nothing');
  for (const h of hosts) assert.deepEqual(await observeOverlay(desiredFor(h, hosts), { netns: h.ns.fd }), []);
  const remotes = hosts.filter((r) => r !== h1);
  const routes = ipJson<{ dst: string; gateway: string; dev: string; flags: string[] }[]>(h1.ns.name, 'route', 'show', 'proto', String(NSBOX_ROUTE_PROTOCOL));
  assert.deepEqual(routes.map((r) => `${r.dst} via ${r.gateway} dev ${r.dev} ${r.flags.join(',')}`), remotes.map((r) => `${block(r.i)} via 10.244.${r.i}.0 dev nsvx-ovl3 onlink`));
  assert.deepEqual(ipNeighs(h1.ns.name, 'dev', 'nsvx-ovl3').map((n) => `${n.dst} ${n.lladdr} ${(n.state ?? []).join(',')}`).sort(), remotes.map((r) => `10.244.${r.i}.0 ${vtepMacFor(`h${r.i}`, 42)} PERMANENT`));
  assert.deepEqual(bridgeFdb(h1.ns.name, 'show', 'dev', 'nsvx-ovl3').filter((e) => e.dst !== undefined).map((e) => `${e.mac} ${e.dst} ${e.state}`).sort(),
    remotes.map((r) => `${vtepMacFor(`h${r.i}`, 42)} ${r.underlay} permanent`).sort());
  assert.deepEqual(allowElements(h1.ns, 42), ['192.0.2.2', '192.0.2.3']);
  assert.equal(inNs(h1.ns, ['nft', 'list', 'ruleset']).status, 0, 'nft lists the ruleset');

  // TCP between sandboxes on different hosts
  const server = await startServer(s3.ns, serverArgv('s3', 7000));
  t.after(() => server.stop());
  for (const from of [s1, s2]) assert.equal(inNs(from.ns, clientArgv('tcp', s3.ip, 7000, { ms: 5000 })).stdout.trim(), `s3 peer=${from.ip}`);

  // MTU: a 1450-byte DF packet fits; with s1's side wrongly at the underlay's 1500, a 1500-byte DF packet is refused at the vxlan
  assert.ok(ping(s1.ns, s3.ip, 1450 - 28).ok, 'DF ping at the overlay MTU');
  assert.equal(inNs(s1.ns, ['ip', 'link', 'set', 'eth0', 'mtu', '1500']).status, 0);
  assert.equal(inNs(h1.ns, ['ip', 'link', 'set', 've1', 'mtu', '1500']).status, 0);
  assert.equal(inNs(h1.ns, ['ip', 'link', 'set', 'nsob-ovl3', 'mtu', '1500']).status, 0);
  const tooBig = ping(s1.ns, s3.ip, 1500 - 28);
  assert.equal(tooBig.ok, false, tooBig.text);
  assert.match(tooBig.text, /Frag needed|mtu = 1450|Message too long/i);
  assert.ok(ping(s1.ns, s3.ip, 1450 - 28).ok);
  assert.equal(inNs(s1.ns, ['ip', 'link', 'set', 'eth0', 'mtu', '1450']).status, 0);
  assert.equal(inNs(h1.ns, ['ip', 'link', 'set', 've1', 'mtu', '1450']).status, 0);

  // drift behind our back: a route and an FDB entry deleted, a neighbour changed, a stray one added, the bridge's MTU lowered
  const mac3 = vtepMacFor('h3', 42);
  assert.equal(inNs(h1.ns, ['ip', 'route', 'del', block(3), 'proto', String(NSBOX_ROUTE_PROTOCOL)]).status, 0);
  assert.equal(inNs(h1.ns, ['bridge', 'fdb', 'del', vtepMacFor('h2', 42), 'dev', 'nsvx-ovl3', 'dst', h2.underlay, 'self']).status, 0);
  assert.equal(inNs(h1.ns, ['ip', 'neigh', 'add', '10.244.77.0', 'lladdr', '02:00:00:00:77:00', 'dev', 'nsvx-ovl3', 'nud', 'permanent']).status, 0);
  assert.equal(inNs(h1.ns, ['ip', 'neigh', 'replace', '10.244.3.0', 'lladdr', '02:00:00:00:00:33', 'dev', 'nsvx-ovl3', 'nud', 'permanent']).status, 0);
  assert.equal(inNs(h1.ns, ['ip', 'link', 'set', 'nsob-ovl3', 'mtu', '1400']).status, 0);
  const drift = await observeOverlay(desiredFor(h1, hosts), { netns: h1.ns.fd });
  assert.deepEqual(drift.sort((a, b) => a.key.localeCompare(b.key)), [
    { key: 'device nsob-ovl3', want: 'mtu 1450', have: 'mtu 1400' },
    { key: `fdb ${vtepMacFor('h2', 42)}`, want: 'dst 192.0.2.2' },
    { key: 'neigh 10.244.3.0', want: mac3, have: '02:00:00:00:00:33' },
    { key: 'neigh 10.244.77.0', have: '02:00:00:00:77:00' },
    { key: `route ${block(3)}`, want: `via 10.244.3.0 onlink dev nsvx-ovl3 proto ${NSBOX_ROUTE_PROTOCOL}` },
  ]);
  assert.deepEqual(await reconcileOverlay(desiredFor(h1, hosts), { netns: h1.ns.fd }), { added: 2, replaced: 1, removed: 1 });
  assert.deepEqual(await observeOverlay(desiredFor(h1, hosts), { netns: h1.ns.fd }), []);
  assert.equal(ipJson<{ mtu: number }[]>(h1.ns.name, 'link', 'show', 'nsob-ovl3')[0]!.mtu, 1450, 'the bridge MTU put back');
  assert.equal(inNs(s1.ns, clientArgv('tcp', s3.ip, 7000, { ms: 5000 })).stdout.trim(), `s3 peer=${s1.ip}`, 'repaired');

  // h3 leaves h2's desired state: its entries go, s2 → s3 fails fast; s1 → s3 still works
  assert.deepEqual(await reconcileOverlay(desiredFor(h2, [h1, h2]), { netns: h2.ns.fd }), { added: 0, replaced: 0, removed: 4 });
  assert.deepEqual(ipJson<{ dst: string }[]>(h2.ns.name, 'route', 'show', 'proto', String(NSBOX_ROUTE_PROTOCOL)).map((r) => r.dst), [block(1)]);
  assert.deepEqual(bridgeFdb(h2.ns.name, 'show', 'dev', 'nsvx-ovl3').filter((e) => e.dst === h3.underlay), []);
  assert.deepEqual(allowElements(h2.ns, 42), ['192.0.2.1']);
  const gone = ping(s2.ns, s3.ip, 56, { df: false });
  assert.equal(gone.ok, false);
  assert.match(gone.text, /Unreachable/i, 'fail fast, not a black hole');
  assert.ok(ping(s1.ns, s3.ip, 56, { df: false }).ok);

  // the allowlist: VXLAN of VNI 42 from the stranger is dropped and counted; allowed, it is delivered
  const listener = await startServer(s1.ns, listenerArgv(7001));
  t.after(() => listener.stop());
  const inject = (): void => sendVxlan(stranger.ns, { dst: h1.underlay, port: 4789, vni: 42, mac: vtepMacFor('h1', 42), innerSrc: s3.ip, innerDst: s1.ip, innerPort: 7001, count: 3 });
  const dropsBefore = allowlistDrops(h1.ns);
  inject();
  for (let until = Date.now() + 5000; allowlistDrops(h1.ns) < dropsBefore + 3 && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
  assert.equal(allowlistDrops(h1.ns), dropsBefore + 3, 'dropped by the allowlist rule');
  // a known peer's VXLAN passes the same rule (the TCP above crossed it); now allow the stranger
  const withStranger: OverlayDesired = { ...desiredFor(h1, hosts), peers: [...desiredFor(h1, hosts).peers, { hostId: 'h9', underlay: stranger.underlay, vtepMac: '02:00:00:00:00:99', blocks: ['10.244.9.0/24'] }] };
  assert.deepEqual(await reconcileOverlay(withStranger, { netns: h1.ns.fd }), { added: 4, replaced: 0, removed: 0 });
  assert.deepEqual(listener.lines.filter((l) => l.startsWith('got')), [], 'nothing delivered while dropped');
  const drops = allowlistDrops(h1.ns);
  inject();
  const deadline = Date.now() + 5000;
  while (!listener.lines.includes('got injected') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(listener.lines.includes('got injected'), 'delivered once allowed');
  assert.equal(allowlistDrops(h1.ns), drops, 'not counted as dropped');
  // another VNI on the same port from an allowed source is not this network's: guarded (port . VNI) only
  assert.deepEqual(await reconcileOverlay(desiredFor(h1, hosts), { netns: h1.ns.fd }), { added: 0, replaced: 0, removed: 4 });

  // removal: devices, entries and allowlist elements gone; again is fine; the foreign table untouched
  for (const h of hosts) {
    await removeOverlayDevices(SPEC, { netns: h.ns.fd });
    await removeOverlayDevices(SPEC, { netns: h.ns.fd });
    assert.deepEqual(ipJson(h.ns.name, 'link', 'show', 'type', 'vxlan'), []);
    assert.equal(ipJson(h.ns.name, 'link', 'show', 'type', 'bridge').length, 0);
    assert.deepEqual(ipJson(h.ns.name, 'route', 'show', 'proto', String(NSBOX_ROUTE_PROTOCOL)), []);
    assert.deepEqual(allowElements(h.ns, 42), []);
  }
  assert.equal(nftTable(h1.ns, 'foreign'), foreignBefore, 'the foreign table is as it was');

  // a device of our name that nsbox did not make, or a vxlan holding the VNI on the port: refused, nothing made, theirs untouched
  assert.equal(inNs(h1.ns, ['ip', 'link', 'add', 'nsvx-ovl3', 'type', 'bridge']).status, 0);
  await assert.rejects(ensureOverlayDevices(SPEC, local(h1), { netns: h1.ns.fd }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'NSBOX_ERR_CONFLICT');
    assert.match(err.message, /nsvx-ovl3 exists in the host and was not made by nsbox/);
    return true;
  });
  assert.equal(inNs(h1.ns, ['ip', 'link', 'del', 'nsvx-ovl3']).status, 0, 'theirs is still there');
  assert.equal(inNs(h1.ns, ['ip', 'link', 'add', 'other', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'local', h1.underlay, 'dev', 'eth0']).status, 0);
  await assert.rejects(ensureOverlayDevices(SPEC, local(h1), { netns: h1.ns.fd }), /another vxlan of this host has VNI 42 on UDP port 4789/);
  assert.deepEqual(ipJson<{ ifname: string }[]>(h1.ns.name, 'link', 'show', 'type', 'bridge').map((l) => l.ifname), [], 'the bridge made for it went again');
  assert.equal(inNs(h1.ns, ['ip', 'link', 'del', 'other']).status, 0);
});
