/**
 * Integration (root, throwaway host): rtnl.neigh.* — ARP/NDP entries (add, replace, del, list)
 * checked with `ip -j neigh show`, and bridge FDB entries (`self` on a vxlan device, `master`
 * on a bridge port) checked with `bridge -j fdb show`, in the test's own namespace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkError } from '../../../../src/errors.js';
import { NTF, NUD } from '../../../../src/netlink/route/ops/neigh.js';
import { makeNetns, type TestNetns } from '../../../helpers/netns.js';
import { bridgeFdb, ip, ipJson, ipNeighs, wiredVeth, type IpNeigh } from '../../../helpers/iproute.js';
import { checkLeaksAfterAll, openRtnl } from '../../../helpers/rtnl.js';

checkLeaksAfterAll();

function ifindex(ns: TestNetns, name: string): number {
  const [link] = ipJson<{ ifindex: number }[]>(ns.name, 'link', 'show', name);
  assert.ok(link, name);
  return link.ifindex;
}

/** A veth pair n0/n0p in `ns`, up, n0 with 10.40.0.1/24 and 2001:db8:40::1/64; no link-local. */
function wired(ns: TestNetns): number {
  return wiredVeth(ns.name, 'n0', 'n0p', '10.40.0.1/24', '2001:db8:40::1/64').index;
}

const isCode = (code: string, op: string) => (err: unknown): boolean => {
  assert.ok(err instanceof NetlinkError, String(err));
  assert.equal(err.code, code);
  assert.equal(err.op, op);
  return true;
};

test('neigh.add (exclusive: a second add is EEXIST), replace, del (a second del is ENOENT), IPv4 and IPv6', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const index = wired(ns);
  for (const [dst, other] of [['10.40.0.2', '10.40.0.3'], ['2001:db8:40::2', '2001:db8:40::3']] as const) {
    await rtnl.neigh.add({ index, dst, lladdr: '02:00:00:00:00:02' });
    let entry = ipNeighs(ns.name, 'dev', 'n0').find((n) => n.dst === dst);
    assert.equal(entry?.lladdr, '02:00:00:00:00:02', dst);
    assert.deepEqual(entry?.state, ['PERMANENT']);

    await assert.rejects(rtnl.neigh.add({ index, dst, lladdr: '02:00:00:00:00:09' }), isCode('EEXIST', 'RTM_NEWNEIGH'));
    assert.equal(ipNeighs(ns.name, 'dev', 'n0').find((n) => n.dst === dst)?.lladdr, '02:00:00:00:00:02', 'unchanged');

    await rtnl.neigh.replace({ index, dst, lladdr: '02:00:00:00:00:03' });
    entry = ipNeighs(ns.name, 'dev', 'n0').find((n) => n.dst === dst);
    assert.equal(entry?.lladdr, '02:00:00:00:00:03');
    await rtnl.neigh.replace({ index, dst: other, lladdr: '02:00:00:00:00:04', state: NUD.STALE });
    assert.deepEqual(ipNeighs(ns.name, 'dev', 'n0').find((n) => n.dst === other)?.state, ['STALE'], 'replace adds, with a state');

    await rtnl.neigh.del({ index, dst });
    assert.equal(ipNeighs(ns.name, 'dev', 'n0').find((n) => n.dst === dst), undefined);
    await assert.rejects(rtnl.neigh.del({ index, dst }), isCode('ENOENT', 'RTM_DELNEIGH'));
  }
});

test('neigh.add on a missing link is ENODEV; a neighbour with no address is a TypeError', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  wired(ns);
  await assert.rejects(rtnl.neigh.add({ index: 9999, dst: '10.40.0.2', lladdr: '02:00:00:00:00:02' }), isCode('ENODEV', 'RTM_NEWNEIGH'));
  await assert.rejects(rtnl.neigh.add({ index: 1, lladdr: '02:00:00:00:00:02' }), TypeError);
  await assert.rejects(rtnl.neigh.add({ index: 1, dst: '10.40.0.300' }), TypeError);
  assert.deepEqual(ipNeighs(ns.name), []);
});

test('neigh.list ({ family }, { index }) matches ip -j neigh show for entries made with ip', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const index = wired(ns);
  ip(ns.name, 'link', 'add', 'm0', 'type', 'veth', 'peer', 'name', 'm0p');
  ip(ns.name, 'link', 'set', 'm0', 'up');
  const m0 = ifindex(ns, 'm0');
  ip(ns.name, 'neigh', 'add', '10.40.0.5', 'lladdr', '02:00:00:00:00:05', 'dev', 'n0', 'nud', 'permanent');
  ip(ns.name, 'neigh', 'add', '10.40.0.6', 'lladdr', '02:00:00:00:00:06', 'dev', 'n0', 'nud', 'stale');
  ip(ns.name, 'neigh', 'add', '2001:db8:40::5', 'lladdr', '02:00:00:00:00:15', 'dev', 'n0', 'nud', 'permanent', 'router');
  ip(ns.name, 'neigh', 'add', '10.99.0.7', 'lladdr', '02:00:00:00:00:07', 'dev', 'm0', 'nud', 'permanent');

  const fromIp = (family: '-4' | '-6' | undefined, ...args: string[]): string[] =>
    ipJson<IpNeigh[]>(ns.name, ...(family === undefined ? [] : [family]), 'neigh', 'show', ...args)
      .map((n) => `${n.dst} ${n.lladdr ?? '-'} ${n.dev ?? args[1]}`).sort(); // `dev X` leaves dev out
  const names = new Map([[index, 'n0'], [m0, 'm0']]);
  // `ip neigh show` leaves out NOARP entries (such as the ff02::16 one MLD makes), so do we here.
  const fromUs = (list: { dst?: string; lladdr?: string; index: number; state?: number }[]): string[] => list
    .filter((n) => ((n.state ?? 0) & NUD.NOARP) === 0)
    .map((n) => `${n.dst} ${n.lladdr ?? '-'} ${names.get(n.index) ?? n.index}`).sort();

  assert.deepEqual(fromUs(await rtnl.neigh.list()), fromIp(undefined));
  assert.deepEqual(fromUs(await rtnl.neigh.list({ family: 4 })), fromIp('-4'));
  assert.deepEqual(fromUs(await rtnl.neigh.list({ family: 6 })), fromIp('-6'));
  assert.deepEqual(fromUs(await rtnl.neigh.list({ index: m0 })), fromIp(undefined, 'dev', 'm0'));
  const listed = await rtnl.neigh.list({ index, family: 4 });
  assert.equal(listed.find((n) => n.dst === '10.40.0.5')?.state, NUD.PERMANENT);
  assert.equal(listed.find((n) => n.dst === '10.40.0.6')?.state, NUD.STALE);
  const v6 = (await rtnl.neigh.list({ family: 6 })).find((n) => n.dst === '2001:db8:40::5');
  assert.ok(v6 && ((v6.flags ?? 0) & NTF.ROUTER) !== 0, 'NTF_ROUTER');
});

test('FDB entries with self on a vxlan device, with the remote VTEP as dst', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '100', 'dstport', '4789', 'local', '10.50.0.1', 'nolearning');
  const vx = ifindex(ns, 'vx0');
  const flood = { index: vx, family: 'bridge' as const, lladdr: '00:00:00:00:00:00', dst: '10.50.0.2', self: true };
  const unicast = { index: vx, family: 'bridge' as const, lladdr: '02:00:00:00:00:aa', dst: '10.50.0.3', self: true };
  await rtnl.neigh.add(flood);
  await rtnl.neigh.add(unicast);
  const fdb = bridgeFdb(ns.name, 'dev', 'vx0');
  const zero = fdb.find((e) => e.mac === '00:00:00:00:00:00');
  assert.equal(zero?.dst, '10.50.0.2');
  assert.ok(zero?.flags.includes('self'));
  assert.equal(zero?.state, 'permanent');
  const uni = fdb.find((e) => e.mac === '02:00:00:00:00:aa');
  assert.equal(uni?.dst, '10.50.0.3');
  assert.ok(uni?.flags.includes('self'));

  await assert.rejects(rtnl.neigh.add(unicast), isCode('EEXIST', 'RTM_NEWNEIGH'));
  await rtnl.neigh.replace({ ...unicast, dst: '10.50.0.4' });
  assert.equal(bridgeFdb(ns.name, 'dev', 'vx0').find((e) => e.mac === '02:00:00:00:00:aa')?.dst, '10.50.0.4');

  const ours = (await rtnl.neigh.list({ family: 'bridge', index: vx })).find((n) => n.lladdr === '02:00:00:00:00:aa');
  assert.equal(ours?.dst, '10.50.0.4');
  assert.ok(((ours?.flags ?? 0) & NTF.SELF) !== 0);

  await rtnl.neigh.del({ ...unicast, dst: '10.50.0.4' });
  await rtnl.neigh.del(flood);
  const left = bridgeFdb(ns.name, 'dev', 'vx0').map((e) => e.mac);
  assert.ok(!left.includes('02:00:00:00:00:aa') && !left.includes('00:00:00:00:00:00'), left.join(' '));
  await assert.rejects(rtnl.neigh.del(flood), isCode('ENOENT', 'RTM_DELNEIGH'));
});

test('FDB entries with master on a bridge port', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'br0', 'type', 'bridge');
  ip(ns.name, 'link', 'add', 'bp0', 'type', 'veth', 'peer', 'name', 'bp0p');
  ip(ns.name, 'link', 'set', 'bp0', 'master', 'br0');
  const port = ifindex(ns, 'bp0');
  const entry = { index: port, family: 'bridge' as const, lladdr: '02:00:00:00:00:bb', master: true };
  await rtnl.neigh.add(entry);
  const got = bridgeFdb(ns.name, 'dev', 'bp0').find((e) => e.mac === '02:00:00:00:00:bb');
  assert.ok(got, 'bridge fdb show dev bp0 lists it');
  assert.equal(got.master, 'br0');
  assert.ok(!got.flags.includes('self'), 'in the bridge, not the device');
  assert.equal(got.state, 'permanent');
  assert.ok(bridgeFdb(ns.name, 'br', 'br0').some((e) => e.mac === '02:00:00:00:00:bb' && e.ifname === 'bp0'));

  ip(ns.name, 'link', 'set', 'bp0', 'up'); // nothing learned yet, but the port is live
  const names = new Map([[port, 'bp0'], [ifindex(ns, 'br0'), 'br0']]);
  const fromIp = bridgeFdb(ns.name)
    .filter((e) => [...names.values()].includes(e.ifname))
    .map((e) => `${e.mac} ${e.ifname} ${e.flags.includes('self') ? 'self' : 'master'}`).sort();
  const mine = (await rtnl.neigh.list({ family: 'bridge' }))
    .filter((n) => names.has(n.index))
    .map((n) => `${n.lladdr} ${names.get(n.index)} ${((n.flags ?? 0) & NTF.SELF) !== 0 ? 'self' : 'master'}`).sort();
  assert.ok(mine.includes('02:00:00:00:00:bb bp0 master'));
  assert.deepEqual(mine, fromIp, 'neigh.list family bridge matches bridge fdb show');

  await rtnl.neigh.del(entry);
  assert.ok(!bridgeFdb(ns.name, 'dev', 'bp0').some((e) => e.mac === '02:00:00:00:00:bb'));
  await assert.rejects(rtnl.neigh.del(entry), isCode('ENOENT', 'RTM_DELNEIGH'));
});
