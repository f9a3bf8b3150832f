/**
 * Integration (root, throwaway host): rtnl.link.* — add (veth, bridge, vxlan, macvlan, ipvlan),
 * del, set, get, list and statistics. Every change is checked with `ip -j -d -s link show` in
 * the test's own namespaces, and nsbox's reads are checked against state made with `ip`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { NetlinkError } from '../../../../src/errors.js';
import type { Rtnl } from '../../../../src/netlink/route/ops/index.js';
import { makeNetns } from '../../../helpers/netns.js';
import { ip, ipJson, ipLink, ipLinks, ipTry, type IpLink } from '../../../helpers/iproute.js';
import { skipIfMissing } from '../../../helpers/privileges.js';
import { checkLeaksAfterAll, openRtnl } from '../../../helpers/rtnl.js';

checkLeaksAfterAll();

const names = (ns: string): string[] => ipLinks(ns).map((l) => l.ifname).sort();

function mustLink(ns: string, name: string): IpLink {
  const link = ipLink(ns, name);
  assert.ok(link, `ip -n ${ns} link show: no ${name}`);
  return link;
}

async function indexOf(rtnl: Rtnl, name: string): Promise<number> {
  return (await rtnl.link.get({ name })).index;
}

/** ipvlan is optional in kernels: what `ip link add … type ipvlan` said, if it failed. */
function ipvlanMissing(): string | undefined {
  using ns = makeNetns();
  ip(ns.name, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1');
  const res = ipTry(ns.name, 'link', 'add', 'link', 'probe0', 'name', 'probeipv', 'type', 'ipvlan', 'mode', 'l2');
  return res.ok ? undefined : `ip link add … type ipvlan: ${res.stderr.trim()}`;
}

test('link.add veth: the peer is named and born in another namespace given by fd', async () => {
  using a = makeNetns();
  using b = makeNetns();
  using rtnl = openRtnl(a);
  await rtnl.link.add({ name: 'va0', kind: 'veth', peer: { name: 'vb0', netnsFd: b.fd } });
  const va = mustLink(a.name, 'va0');
  assert.equal(va.linkinfo?.info_kind, 'veth');
  assert.equal(typeof va.link_netnsid, 'number', 'the peer lives in another namespace');
  assert.equal(ipLink(a.name, 'vb0'), undefined, 'the peer is not in the first namespace');
  const vb = mustLink(b.name, 'vb0');
  assert.equal(vb.linkinfo?.info_kind, 'veth');
  assert.equal(ipLink(b.name, 'va0'), undefined);
});

test('link.add veth with numTxQueues/numRxQueues: both ends get them (a peer may name its own); get reports them', async () => {
  using a = makeNetns();
  using b = makeNetns();
  using rtnl = openRtnl(a);
  const queues = (ns: string, name: string): [number, number] => {
    const l = mustLink(ns, name) as IpLink & { num_tx_queues?: number; num_rx_queues?: number };
    return [l.num_tx_queues ?? -1, l.num_rx_queues ?? -1];
  };
  await rtnl.link.add({ name: 'vq0', kind: 'veth', numTxQueues: 1, numRxQueues: 1, peer: { name: 'vq1', netnsFd: b.fd } });
  assert.deepEqual(queues(a.name, 'vq0'), [1, 1]);
  assert.deepEqual(queues(b.name, 'vq1'), [1, 1], 'the peer inherits the link\'s queue counts');
  await rtnl.link.add({ name: 'vq2', kind: 'veth', numTxQueues: 1, numRxQueues: 1, peer: { name: 'vq3', numTxQueues: 3, numRxQueues: 2 } });
  assert.deepEqual(queues(a.name, 'vq2'), [1, 1]);
  assert.deepEqual(queues(a.name, 'vq3'), [3, 2], 'a peer\'s own counts win');
  const got = await rtnl.link.get({ name: 'vq3' });
  assert.equal(got.numTxQueues, 3);
  assert.equal(got.numRxQueues, 2);
});

test('link.add bridge with mtu, address, txqlen, group and up', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  await rtnl.link.add({ name: 'br0', kind: 'bridge', mtu: 1400, address: '02:11:22:33:44:55', txqlen: 77, linkGroup: 5, up: true });
  const br = mustLink(ns.name, 'br0');
  assert.equal(br.linkinfo?.info_kind, 'bridge');
  assert.equal(br.mtu, 1400);
  assert.equal(br.address, '02:11:22:33:44:55');
  assert.equal(br.txqlen, 77);
  assert.equal(br.group, '5');
  assert.ok(br.flags.includes('UP'), `flags ${br.flags.join(',')}`);
});

test('link.add vxlan with id, local, remote, dstport, dev and learning; and with a group', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'under0', 'type', 'veth', 'peer', 'name', 'under1');
  const dev = await indexOf(rtnl, 'under0');
  await rtnl.link.add({ name: 'vx0', kind: 'vxlan', id: 4242, local: '10.9.0.1', remote: '10.9.0.2', port: 4789, dev, learning: false });
  const vx = mustLink(ns.name, 'vx0');
  assert.equal(vx.linkinfo?.info_kind, 'vxlan');
  const d = vx.linkinfo?.info_data ?? {};
  assert.equal(d.id, 4242);
  assert.equal(d.local, '10.9.0.1');
  assert.equal(d.remote, '10.9.0.2');
  assert.equal(d.port, 4789);
  assert.equal(d.link, 'under0');
  assert.equal(d.learning, false);

  await rtnl.link.add({ name: 'vx1', kind: 'vxlan', id: 7, group: '239.1.1.1', port: 8472, dev, learning: true });
  const d1 = mustLink(ns.name, 'vx1').linkinfo?.info_data ?? {};
  assert.equal(d1.id, 7);
  assert.equal(d1.group, '239.1.1.1');
  assert.equal(d1.remote, undefined);
  assert.equal(d1.port, 8472);
  assert.equal(d1.link, 'under0');
  assert.equal(d1.learning, true);
});

test('link.add macvlan in each mode on a veth end', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'par0', 'type', 'veth', 'peer', 'name', 'par1');
  const parent = await indexOf(rtnl, 'par0');
  for (const mode of ['private', 'vepa', 'bridge', 'passthru', 'source'] as const) {
    await rtnl.link.add({ name: `mv-${mode}`, kind: 'macvlan', mode, link: parent });
    const mv = mustLink(ns.name, `mv-${mode}`);
    assert.equal(mv.linkinfo?.info_kind, 'macvlan', mode);
    assert.equal(mv.linkinfo?.info_data?.mode, mode);
    assert.equal(mv.link, 'par0', `${mode}: the parent`);
    ip(ns.name, 'link', 'del', `mv-${mode}`); // passthru allows no other macvlan on the parent
  }
});

test('link.add ipvlan in each mode on a veth end', async (t) => {
  if (skipIfMissing(t, 'ipvlan', ipvlanMissing())) return;
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'par0', 'type', 'veth', 'peer', 'name', 'par1');
  const parent = await indexOf(rtnl, 'par0');
  for (const mode of ['l2', 'l3', 'l3s'] as const) {
    await rtnl.link.add({ name: `ipv-${mode}`, kind: 'ipvlan', mode, link: parent });
    const l = mustLink(ns.name, `ipv-${mode}`);
    assert.equal(l.linkinfo?.info_kind, 'ipvlan');
    assert.equal(l.linkinfo?.info_data?.mode, mode);
    assert.equal(l.link, 'par0');
  }
});

test('link.del by name and by index; deleting one veth end removes the pair', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'br0', 'type', 'bridge');
  ip(ns.name, 'link', 'add', 've0', 'type', 'veth', 'peer', 'name', 've1');
  await rtnl.link.del({ name: 'br0' });
  assert.equal(ipLink(ns.name, 'br0'), undefined);
  await rtnl.link.del({ index: mustLink(ns.name, 've1').ifindex });
  assert.deepEqual(names(ns.name), ['lo']);
});

test('link.set up/down, name, mtu, address, txqlen, alias', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'br0', 'type', 'bridge');
  const index = mustLink(ns.name, 'br0').ifindex;

  await rtnl.link.set({ name: 'br0' }, { up: true });
  assert.ok(mustLink(ns.name, 'br0').flags.includes('UP'));
  await rtnl.link.set({ index }, { up: false });
  assert.ok(!mustLink(ns.name, 'br0').flags.includes('UP'));

  await rtnl.link.set({ name: 'br0' }, { name: 'br-renamed' });
  assert.equal(ipLink(ns.name, 'br0'), undefined);
  assert.equal(mustLink(ns.name, 'br-renamed').ifindex, index, 'renamed in place');

  await rtnl.link.set({ index }, { mtu: 1280, address: '02:aa:bb:cc:dd:ee', txqlen: 123, alias: 'uplink to nowhere' });
  const l = mustLink(ns.name, 'br-renamed');
  assert.equal(l.mtu, 1280);
  assert.equal(l.address, '02:aa:bb:cc:dd:ee');
  assert.equal(l.txqlen, 123);
  assert.equal(l.ifalias, 'uplink to nowhere');

  await rtnl.link.set({ name: 'br-renamed' }, { name: 'br1', up: true, mtu: 1300 });
  const l2 = mustLink(ns.name, 'br1');
  assert.equal(l2.ifindex, index);
  assert.equal(l2.mtu, 1300);
  assert.ok(l2.flags.includes('UP'));
});

test('link.set master/nomaster by index', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'br0', 'type', 'bridge');
  ip(ns.name, 'link', 'add', 've0', 'type', 'veth', 'peer', 'name', 've1');
  const br = mustLink(ns.name, 'br0').ifindex;
  await rtnl.link.set({ name: 've0' }, { master: br });
  const port = mustLink(ns.name, 've0');
  assert.equal(port.master, 'br0');
  assert.equal(port.linkinfo?.info_slave_kind, 'bridge');
  await rtnl.link.set({ name: 've0' }, { master: null });
  assert.equal(mustLink(ns.name, 've0').master, undefined);
});

test('link.set bridgePort: hairpin and learning of a bridge port, as ip reports them; get reads them back', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'br0', 'type', 'bridge');
  ip(ns.name, 'link', 'add', 've0', 'type', 'veth', 'peer', 'name', 've1');
  ip(ns.name, 'link', 'set', 've0', 'master', 'br0');
  const slaveData = (): Record<string, unknown> | undefined => (mustLink(ns.name, 've0').linkinfo as { info_slave_data?: Record<string, unknown> } | undefined)?.info_slave_data;
  assert.equal(slaveData()?.hairpin, false, 'off by default');
  await rtnl.link.set({ name: 've0' }, { bridgePort: { hairpin: true } });
  assert.equal(slaveData()?.hairpin, true);
  assert.equal(slaveData()?.learning, true, 'untouched');
  assert.deepEqual((await rtnl.link.get({ name: 've0' }, { stats: false })).bridgePort?.hairpin, true);
  await rtnl.link.set({ name: 've0' }, { bridgePort: { hairpin: false, learning: false } });
  assert.deepEqual([slaveData()?.hairpin, slaveData()?.learning], [false, false]);
  // A link that is not a bridge port has nothing to set: the kernel says so.
  await assert.rejects(rtnl.link.set({ name: 've1' }, { bridgePort: { hairpin: true } }), (err: unknown) => err instanceof NetlinkError && err.op === 'RTM_NEWLINK');
});

test('link.set netns by fd moves the link to another namespace', async () => {
  using a = makeNetns();
  using b = makeNetns();
  using rtnl = openRtnl(a);
  ip(a.name, 'link', 'add', 'mv0', 'type', 'veth', 'peer', 'name', 'mv1');
  await rtnl.link.set({ name: 'mv1' }, { netnsFd: b.fd });
  assert.equal(ipLink(a.name, 'mv1'), undefined, 'gone from the first namespace');
  assert.equal(mustLink(b.name, 'mv1').linkinfo?.info_kind, 'veth');
  assert.ok(ipLink(a.name, 'mv0'));
});

test('link.get by name and by index matches ip -j -d link show', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'br0', 'type', 'bridge');
  ip(ns.name, 'link', 'add', 'g0', 'mtu', '1450', 'address', '02:00:00:00:01:01', 'type', 'veth', 'peer', 'name', 'g1');
  ip(ns.name, 'link', 'set', 'g0', 'master', 'br0', 'up');
  ip(ns.name, 'link', 'set', 'g0', 'alias', 'the g0');
  const want = mustLink(ns.name, 'g0');
  const br = mustLink(ns.name, 'br0');
  for (const got of [await rtnl.link.get({ name: 'g0' }), await rtnl.link.get({ index: want.ifindex })]) {
    assert.equal(got.index, want.ifindex);
    assert.equal(got.name, 'g0');
    assert.equal(got.mtu, 1450);
    assert.equal(got.address, want.address);
    assert.equal(got.master, br.ifindex);
    assert.equal(got.info?.kind, 'veth');
    assert.equal(got.slaveKind, 'bridge');
    assert.equal(got.alias, 'the g0');
    assert.equal(got.txqlen, want.txqlen);
    assert.equal(got.link, mustLink(ns.name, 'g1').ifindex, 'IFLA_LINK: the peer');
  }
  const lo = await rtnl.link.get({ name: 'lo' });
  assert.equal(lo.index, mustLink(ns.name, 'lo').ifindex);
});

test('link.get with stats: false: the same link without counters', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const full = await rtnl.link.get({ name: 'lo' });
  const lean = await rtnl.link.get({ name: 'lo' }, { stats: false });
  assert.ok(full.stats64, 'counters by default');
  assert.equal(lean.stats64, undefined);
  // Older kernels also drop the IPv6 token and addrGenMode under RTEXT_FILTER_SKIP_STATS.
  const { stats64: _s, addrGenMode: _m, ...identity } = full;
  const { addrGenMode: _n, ...leanIdentity } = lean;
  assert.deepEqual(leanIdentity, identity);
  assert.equal((await rtnl.link.find({ name: 'nsbt-missing' }, { stats: false })), undefined);
});

test('link.list (all, { master }, { kind }) matches ip -j link show [master B] [type K]', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'br0', 'type', 'bridge');
  ip(ns.name, 'link', 'add', 'br1', 'type', 'bridge');
  for (const i of [0, 1, 2]) ip(ns.name, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', `q${i}`);
  ip(ns.name, 'link', 'set', 'p0', 'master', 'br0');
  ip(ns.name, 'link', 'set', 'p1', 'master', 'br0');
  ip(ns.name, 'link', 'set', 'p2', 'master', 'br1');
  const pairs = (ls: { index?: number; name?: string; ifindex?: number; ifname?: string }[]): string[] =>
    ls.map((l) => `${l.index ?? l.ifindex}:${l.name ?? l.ifname}`).sort();

  assert.deepEqual(pairs(await rtnl.link.list()), pairs(ipJson<IpLink[]>(ns.name, 'link', 'show')));
  const br0 = mustLink(ns.name, 'br0').ifindex;
  const enslaved = await rtnl.link.list({ master: br0 });
  assert.deepEqual(pairs(enslaved), pairs(ipJson<IpLink[]>(ns.name, 'link', 'show', 'master', 'br0')));
  assert.deepEqual(enslaved.map((l) => l.name).sort(), ['p0', 'p1']);
  const veths = await rtnl.link.list({ kind: 'veth' });
  assert.deepEqual(pairs(veths), pairs(ipJson<IpLink[]>(ns.name, 'link', 'show', 'type', 'veth')));
  assert.equal(veths.length, 6);
  const bridges = await rtnl.link.list({ kind: 'bridge' });
  assert.deepEqual(bridges.map((l) => l.name).sort(), ['br0', 'br1']);
});

test('link.stats: 64-bit counters after pings over a veth pair match ip -j -s link show', async () => {
  using a = makeNetns();
  using b = makeNetns();
  using rtnl = openRtnl(a);
  ip(a.name, 'link', 'add', 'st0', 'type', 'veth', 'peer', 'name', 'st1', 'netns', b.name);
  for (const [ns, dev, addr] of [[a.name, 'st0', '10.77.0.1/24'], [b.name, 'st1', '10.77.0.2/24']] as const) {
    // No IPv6 on the pair: no DAD, MLD or router solicitations moving the counters.
    execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', `echo 1 > /proc/sys/net/ipv6/conf/${dev}/disable_ipv6`]);
    ip(ns, 'addr', 'add', addr, 'dev', dev);
    ip(ns, 'link', 'set', dev, 'up');
  }
  execFileSync('ip', ['netns', 'exec', a.name, 'ping', '-c', '3', '-i', '0.2', '-W', '1', '10.77.0.2'], { stdio: 'ignore' });

  const ours = await rtnl.link.stats({ name: 'st0' }); // ours first: counters only grow
  const theirs = mustLink(a.name, 'st0').stats64;
  assert.ok(theirs, 'ip -s reports stats64');
  const pairs = [
    ['rxBytes', theirs.rx.bytes], ['rxPackets', theirs.rx.packets], ['txBytes', theirs.tx.bytes], ['txPackets', theirs.tx.packets],
  ] as const;
  for (const [field, ipValue] of pairs) {
    assert.equal(typeof ipValue, 'number', field);
    const mine = ours[field];
    assert.ok(mine <= ipValue!, `${field}: ours ${mine} > ip's ${ipValue}`);
    const slack = field.endsWith('Bytes') ? 1500 : 10;
    assert.ok(ipValue! - mine <= slack, `${field}: ours ${mine}, ip's ${ipValue}`);
  }
  assert.ok(ours.txPackets >= 3 && ours.rxPackets >= 3, `3 echo requests out and 3 replies in: ${JSON.stringify(ours)}`);
  assert.ok(ours.txBytes >= 3 * 98, `3 × 98-byte echo frames: ${ours.txBytes}`);
  assert.equal(ours.rxErrors, theirs.rx.errors);
  assert.equal(ours.txErrors, theirs.tx.errors);
});

test('link.add of an unknown kind: EOPNOTSUPP with the kernel\'s text, nothing created', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const before = names(ns.name);
  await assert.rejects(rtnl.link.add({ name: 'x0', kind: 'nosuchkind' }), (err: unknown) => {
    assert.ok(err instanceof NetlinkError, String(err));
    assert.equal(err.code, 'EOPNOTSUPP');
    assert.equal(err.errno, -95);
    assert.equal(err.op, 'RTM_NEWLINK');
    assert.equal(err.extack?.message, 'Unknown device type');
    assert.equal(err.message, 'RTM_NEWLINK: EOPNOTSUPP: Unknown device type');
    return true;
  });
  assert.deepEqual(names(ns.name), before);
  const res = ipTry(ns.name, 'link', 'add', 'x0', 'type', 'nosuchkind');
  assert.equal(res.ok, false, 'ip agrees the kind does not exist');
});

test('link.add of an existing name: EEXIST, the existing link untouched', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'br0', 'type', 'bridge');
  const before = mustLink(ns.name, 'br0');
  await assert.rejects(rtnl.link.add({ name: 'br0', kind: 'bridge', mtu: 1000 }), { name: 'NetlinkError', code: 'EEXIST', errno: -17, op: 'RTM_NEWLINK' });
  assert.equal(mustLink(ns.name, 'br0').mtu, before.mtu);
  assert.deepEqual(names(ns.name), ['br0', 'lo']);
});

test('a missing device: ENODEV from get, set and del; find returns undefined; nothing created', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const enodev = { name: 'NetlinkError', code: 'ENODEV', errno: -19 };
  await assert.rejects(rtnl.link.get({ name: 'nope0' }), { ...enodev, op: 'RTM_GETLINK' });
  await assert.rejects(rtnl.link.get({ index: 9999 }), { ...enodev, op: 'RTM_GETLINK' });
  await assert.rejects(rtnl.link.set({ name: 'nope0' }, { up: true }), { ...enodev, op: 'RTM_NEWLINK' });
  await assert.rejects(rtnl.link.set({ name: 'nope0' }, { name: 'nope1' }), enodev);
  await assert.rejects(rtnl.link.set({ index: 9999 }, { mtu: 1400 }), { ...enodev, op: 'RTM_NEWLINK' });
  await assert.rejects(rtnl.link.del({ name: 'nope0' }), { ...enodev, op: 'RTM_DELLINK' });
  await assert.rejects(rtnl.link.stats({ name: 'nope0' }), enodev);
  assert.equal(await rtnl.link.find({ name: 'nope0' }), undefined);
  assert.deepEqual(names(ns.name), ['lo']);
});

test('invalid link names are a TypeError before any syscall, and nothing is created', async () => {
  using ns = makeNetns();
  const rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'br0', 'type', 'bridge');
  // A closed handle rejects every request with ClosedError: a TypeError proves no request was made.
  rtnl.close();
  const bad = ['abcdefghijklmnop', 'a/b', 'a b', '', 'tab\tx'];
  for (const name of bad) {
    await assert.rejects(rtnl.link.add({ name, kind: 'bridge' }), TypeError, JSON.stringify(name));
    await assert.rejects(rtnl.link.add({ name: 'ok0', kind: 'veth', peer: { name } }), TypeError);
    await assert.rejects(rtnl.link.set({ name: 'br0' }, { name }), TypeError);
    await assert.rejects(rtnl.link.get({ name }), TypeError);
    await assert.rejects(rtnl.link.del({ name }), TypeError);
  }
  await assert.rejects(rtnl.link.get({ index: 0 }), TypeError);
  await assert.rejects(rtnl.link.get({ name: 'br0' }), { name: 'ClosedError', code: 'NSBOX_ERR_CLOSED' }, 'a valid name reaches the socket');
  assert.deepEqual(names(ns.name), ['br0', 'lo']);

  using open = openRtnl(ns);
  await assert.rejects(open.link.add({ name: 'abcdefghijklmnop', kind: 'bridge' }), /invalid link name/);
  assert.deepEqual(names(ns.name), ['br0', 'lo']);
});
