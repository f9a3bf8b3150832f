/**
 * Integration (root, throwaway host): rtnl.addr.* — add, replace, del, list; IPv4 and IPv6;
 * flags, labels and scopes. Checked with `ip -j addr show` in the test's own namespace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkError } from '../../../../src/errors.js';
import { makeNetns, type TestNetns } from '../../../helpers/netns.js';
import { ip, ipAddrs, ipJson, ipRoutes, ipTry, type IpAddrInfo } from '../../../helpers/iproute.js';
import { checkLeaksAfterAll, openRtnl } from '../../../helpers/rtnl.js';

checkLeaksAfterAll();

/** A veth pair in `ns` (both ends in it), up; returns the ifindex of `name`. */
function veth(ns: TestNetns, name: string, peer = `${name}p`): number {
  ip(ns.name, 'link', 'add', name, 'type', 'veth', 'peer', 'name', peer);
  ip(ns.name, 'link', 'set', name, 'up');
  ip(ns.name, 'link', 'set', peer, 'up');
  const [link] = ipJson<{ ifindex: number }[]>(ns.name, 'link', 'show', name);
  assert.ok(link);
  return link.ifindex;
}

function find(ns: TestNetns, dev: string, local: string): IpAddrInfo | undefined {
  return ipAddrs(ns.name, dev).find((a) => a.local === local);
}

const cidrs = (list: { local: string; prefixlen: number }[]): string[] => list.map((a) => `${a.local}/${a.prefixlen}`).sort();

test('addr.add IPv4 with label and scope; addr.del removes it', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const index = veth(ns, 'a0');
  await rtnl.addr.add({ index, address: '10.1.0.1/24', label: 'a0:web' });
  const a = find(ns, 'a0', '10.1.0.1');
  assert.ok(a, 'present');
  assert.equal(a.family, 'inet');
  assert.equal(a.prefixlen, 24);
  assert.equal(a.label, 'a0:web');
  assert.equal(a.scope, 'global');
  assert.ok(ipRoutes(ns.name).some((r) => r.dst === '10.1.0.0/24' && r.dev === 'a0'), 'the prefix route exists');

  await rtnl.addr.del({ index, address: '10.1.0.1/24' });
  assert.equal(find(ns, 'a0', '10.1.0.1'), undefined);
  await assert.rejects(rtnl.addr.del({ index, address: '10.1.0.1/24' }), { name: 'NetlinkError', code: 'EADDRNOTAVAIL', op: 'RTM_DELADDR' });
});

test('addr.add with scope host, link and global', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const index = veth(ns, 's0');
  await rtnl.addr.add({ index, address: '10.2.0.1/32', scope: 'host' });
  await rtnl.addr.add({ index, address: '10.2.0.2/32', scope: 'link' });
  await rtnl.addr.add({ index, address: '10.2.0.3/32', scope: 'global' });
  await rtnl.addr.add({ index, address: '2001:db8:2::3/64', scope: 'global', nodad: true });
  assert.equal(find(ns, 's0', '10.2.0.1')?.scope, 'host');
  assert.equal(find(ns, 's0', '10.2.0.2')?.scope, 'link');
  assert.equal(find(ns, 's0', '10.2.0.3')?.scope, 'global');
  assert.equal(find(ns, 's0', '2001:db8:2::3')?.scope, 'global');
});

test('addr.add IPv6 with nodad and noprefixroute', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const index = veth(ns, 'six0');
  await rtnl.addr.add({ index, address: '2001:db8:6::1/64', nodad: true });
  await rtnl.addr.add({ index, address: '2001:db8:7::1/64', nodad: true, noprefixroute: true });
  const a = find(ns, 'six0', '2001:db8:6::1');
  assert.ok(a);
  assert.equal(a.family, 'inet6');
  assert.equal(a.prefixlen, 64);
  assert.equal(a.nodad, true);
  assert.equal(a.noprefixroute, undefined);
  const b = find(ns, 'six0', '2001:db8:7::1');
  assert.ok(b);
  assert.equal(b.nodad, true);
  assert.equal(b.noprefixroute, true);
  const routes = ipRoutes(ns.name, 'main', 6).map((r) => r.dst);
  assert.ok(routes.includes('2001:db8:6::/64'), routes.join(' '));
  assert.ok(!routes.includes('2001:db8:7::/64'), 'noprefixroute: no prefix route');

  await rtnl.addr.add({ index, address: '10.3.0.1/24', noprefixroute: true });
  assert.equal(find(ns, 'six0', '10.3.0.1')?.noprefixroute, true);
  assert.ok(!ipRoutes(ns.name, 'main', 4).some((r) => r.dst === '10.3.0.0/24'), 'IPv4 noprefixroute too');

  await rtnl.addr.del({ index, address: '2001:db8:7::1/64' });
  assert.equal(find(ns, 'six0', '2001:db8:7::1'), undefined);
});

test('addr.replace adds when absent and changes the flags of an existing address', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const index = veth(ns, 'r0');
  await rtnl.addr.replace({ index, address: '2001:db8:8::1/64', nodad: true });
  const before = find(ns, 'r0', '2001:db8:8::1');
  assert.ok(before);
  assert.equal(before.noprefixroute, undefined);
  assert.ok(ipRoutes(ns.name, 'main', 6).some((r) => r.dst === '2001:db8:8::/64'));

  await rtnl.addr.replace({ index, address: '2001:db8:8::1/64', nodad: true, noprefixroute: true });
  const after = ipAddrs(ns.name, 'r0').filter((a) => a.local === '2001:db8:8::1');
  assert.equal(after.length, 1, 'still one address');
  assert.equal(after[0]?.noprefixroute, true, 'the flag changed');
  assert.equal(after[0]?.nodad, true);

  await rtnl.addr.replace({ index, address: '10.4.0.1/24' });
  await rtnl.addr.replace({ index, address: '10.4.0.1/24' });
  assert.deepEqual(cidrs(ipAddrs(ns.name, 'r0').filter((a) => a.family === 'inet')), ['10.4.0.1/24'], 'replace twice: one address');
});

test('addr.add of an existing address: EEXIST with the kernel\'s extack text, nothing changed', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const index = veth(ns, 'd0');
  ip(ns.name, 'addr', 'add', '10.5.0.1/24', 'dev', 'd0');
  ip(ns.name, 'addr', 'add', '2001:db8:5::1/64', 'dev', 'd0', 'nodad');
  const before = cidrs(ipAddrs(ns.name, 'd0'));
  for (const [address, text] of [['10.5.0.1/24', 'ipv4: Address already assigned'], ['2001:db8:5::1/64', 'ipv6: address already assigned']] as const) {
    await assert.rejects(rtnl.addr.add({ index, address, label: 'd0:x' }), (err: unknown) => {
      assert.ok(err instanceof NetlinkError, String(err));
      assert.equal(err.code, 'EEXIST');
      assert.equal(err.errno, -17);
      assert.equal(err.op, 'RTM_NEWADDR');
      assert.equal(err.extack?.message, text);
      assert.equal(err.message, `RTM_NEWADDR: EEXIST: ${text}`);
      return true;
    });
    const res = ipTry(ns.name, 'addr', 'add', address, 'dev', 'd0');
    assert.equal(res.ok, false);
    assert.ok(res.stderr.includes(text), `ip prints the same kernel text: ${res.stderr}`);
  }
  assert.deepEqual(cidrs(ipAddrs(ns.name, 'd0')), before);
  assert.equal(find(ns, 'd0', '10.5.0.1')?.label, 'd0', 'the label was not changed');
});

test('addr on a missing link: ENODEV, nothing created', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  await assert.rejects(rtnl.addr.add({ index: 9999, address: '10.6.0.1/24' }), { name: 'NetlinkError', code: 'ENODEV', op: 'RTM_NEWADDR' });
  assert.deepEqual(ipJson(ns.name, 'addr', 'show').flatMap((l) => (l.addr_info as unknown[])), []);
  await assert.rejects(rtnl.addr.add({ index: 1, address: '10.6.0.1/33' }), TypeError);
  await assert.rejects(rtnl.addr.add({ index: 1, address: 'not-an-ip/24' }), TypeError);
});

test('addr.list (all, { index }, { family }) matches ip -j addr show for addresses made with ip', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const l0 = veth(ns, 'l0');
  const l1 = veth(ns, 'l1');
  ip(ns.name, 'link', 'set', 'lo', 'up');
  ip(ns.name, 'addr', 'add', '10.7.0.1/24', 'dev', 'l0', 'label', 'l0:one');
  ip(ns.name, 'addr', 'add', '10.7.1.1/16', 'dev', 'l0', 'scope', 'link');
  ip(ns.name, 'addr', 'add', '2001:db8:70::1/64', 'dev', 'l0', 'nodad');
  ip(ns.name, 'addr', 'add', '10.8.0.1/24', 'dev', 'l1');
  ip(ns.name, 'addr', 'add', '2001:db8:80::1/48', 'dev', 'l1', 'nodad', 'noprefixroute');

  type IpAddrEntry = { ifindex: number; addr_info: IpAddrInfo[] };
  const ipAll = (...args: string[]): string[] =>
    ipJson<IpAddrEntry[]>(ns.name, ...args, 'addr', 'show').flatMap((l) => l.addr_info.map((a) => `${l.ifindex} ${a.local}/${a.prefixlen}`)).sort();
  const ours = (list: { index: number; cidr: string }[]): string[] => list.map((a) => `${a.index} ${a.cidr}`).sort();

  assert.deepEqual(ours(await rtnl.addr.list()), ipAll());
  assert.deepEqual(ours(await rtnl.addr.list({ family: 4 })), ipAll('-4'));
  assert.deepEqual(ours(await rtnl.addr.list({ family: 6 })), ipAll('-6'));
  const onL0 = await rtnl.addr.list({ index: l0 });
  assert.deepEqual(onL0.map((a) => a.cidr).sort(), cidrs(ipAddrs(ns.name, 'l0')));
  assert.ok(onL0.every((a) => a.index === l0));
  const v6OnL1 = await rtnl.addr.list({ index: l1, family: 6 });
  assert.deepEqual(v6OnL1.map((a) => a.cidr).sort(), cidrs(ipAddrs(ns.name, 'l1').filter((a) => a.family === 'inet6')));

  const one = onL0.find((a) => a.cidr === '10.7.0.1/24');
  assert.equal(one?.label, 'l0:one');
  assert.equal(onL0.find((a) => a.cidr === '10.7.1.1/16')?.scope, 253, 'scope link');
  const v6 = v6OnL1.find((a) => a.cidr === '2001:db8:80::1/48');
  assert.ok(v6 && v6.flags !== undefined);
  assert.ok((v6.flags & 0x02) !== 0, 'IFA_F_NODAD');
  assert.ok((v6.flags & 0x200) !== 0, 'IFA_F_NOPREFIXROUTE (above 8 bits: read from IFA_FLAGS)');
});
