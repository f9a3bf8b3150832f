/**
 * Integration (root, throwaway host): rtnl.route.* — add, replace, del, list and the kernel's
 * route lookup (get); IPv4 and IPv6; gateway, dev, scope, table (incl. > 255), metric, type.
 * Checked with `ip -j route show table …` and `ip -j route get` in the test's own namespace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkError } from '../../../../src/errors.js';
import type { Route } from '../../../../src/netlink/route/ops/index.js';
import { makeNetns, type TestNetns } from '../../../helpers/netns.js';
import { ip, ipRouteGet, ipRoutes, wiredVeth, type IpRoute } from '../../../helpers/iproute.js';
import { checkLeaksAfterAll, openRtnl } from '../../../helpers/rtnl.js';

checkLeaksAfterAll();

/**
 * A veth pair r0/r0p in `ns`, both up, r0 with 10.20.0.1/24 and 2001:db8:20::1/64 (nodad). No
 * link-local addresses (addrgenmode none): nothing appears later, when DAD would end.
 */
function wired(ns: TestNetns): { r0: number; r0p: number } {
  ip(ns.name, 'link', 'set', 'lo', 'up');
  const { index, peerIndex } = wiredVeth(ns.name, 'r0', 'r0p', '10.20.0.1/24', '2001:db8:20::1/64');
  return { r0: index, r0p: peerIndex };
}

function only(routes: IpRoute[], dst: string): IpRoute {
  const found = routes.filter((r) => r.dst === dst);
  assert.equal(found.length, 1, `one route to ${dst} in ${JSON.stringify(routes)}`);
  return found[0]!;
}

/** iproute2 prints a host route without its /32 or /128. */
const ipDst = (r: Route): string => r.destination.replace(/\/(32|128)$/, '');

test('route.list with a filter the kernel cannot apply (no such table yet, a gone oif) is empty, not an error', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  // A fresh namespace with lo down has no IPv4 main table: the kernel says ENOENT to a filtered dump.
  assert.deepEqual(await rtnl.route.list({ family: 4 }), []);
  assert.deepEqual(await rtnl.route.list({ family: 4, table: 4242 }), []);
  ip(ns.name, 'link', 'add', 'rl0', 'type', 'veth', 'peer', 'name', 'rl1');
  const gone = (await rtnl.link.get({ name: 'rl0' })).index;
  ip(ns.name, 'link', 'del', 'rl0');
  assert.deepEqual(await rtnl.route.list({ family: 4, oif: gone }), []);
  ip(ns.name, 'link', 'set', 'lo', 'up');
  assert.ok((await rtnl.route.list({ family: 4, table: 'all' })).length > 0, 'lo up made the local routes');
});

test('route.add IPv4: via a gateway, by dev only, with scope; route.del; a second del is ESRCH', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const { r0 } = wired(ns);
  await rtnl.route.add({ dst: '10.30.0.0/24', gateway: '10.20.0.2' });
  await rtnl.route.add({ dst: '10.31.0.0/24', oif: r0 });
  await rtnl.route.add({ dst: '10.32.0.0/24', oif: r0, scope: 'host' });
  const routes = ipRoutes(ns.name);
  const gw = only(routes, '10.30.0.0/24');
  assert.equal(gw.gateway, '10.20.0.2');
  assert.equal(gw.dev, 'r0');
  assert.equal(gw.protocol, 'boot');
  assert.equal(gw.scope, 'global');
  assert.equal(gw.type, 'unicast');
  const dev = only(routes, '10.31.0.0/24');
  assert.equal(dev.gateway, undefined);
  assert.equal(dev.dev, 'r0');
  assert.equal(dev.scope, 'link');
  assert.equal(dev.protocol, 'boot');
  assert.equal(only(routes, '10.32.0.0/24').scope, 'host');

  await rtnl.route.del({ dst: '10.30.0.0/24' });
  await rtnl.route.del({ dst: '10.31.0.0/24', oif: r0 });
  assert.ok(!ipRoutes(ns.name).some((r) => r.dst === '10.30.0.0/24' || r.dst === '10.31.0.0/24'));
  await assert.rejects(rtnl.route.del({ dst: '10.30.0.0/24' }), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, 'ESRCH');
    assert.equal(err.op, 'RTM_DELROUTE');
    return true;
  });
  assert.ok(ipRoutes(ns.name).some((r) => r.dst === '10.32.0.0/24'), 'the other route is untouched');
});

test('route.add default routes, IPv4 and IPv6', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  wired(ns);
  await rtnl.route.add({ dst: 'default', gateway: '10.20.0.254' });
  await rtnl.route.add({ gateway: '2001:db8:20::fe' });
  const v4 = only(ipRoutes(ns.name, 'main', 4), 'default');
  assert.equal(v4.gateway, '10.20.0.254');
  assert.equal(v4.dev, 'r0');
  const v6 = only(ipRoutes(ns.name, 'main', 6), 'default');
  assert.equal(v6.gateway, '2001:db8:20::fe');
  assert.equal(v6.dev, 'r0');
  await rtnl.route.del({ dst: 'default', family: 4 });
  await rtnl.route.del({ dst: 'default', family: 6 });
  assert.ok(!ipRoutes(ns.name, 'all').some((r) => r.dst === 'default'));
});

test('route.add in table 100 and table 1000, with a metric', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const { r0 } = wired(ns);
  await rtnl.route.add({ dst: '10.40.0.0/16', gateway: '10.20.0.2', table: 100, metric: 50 });
  await rtnl.route.add({ dst: '10.41.0.0/16', oif: r0, table: 1000, metric: 7 });
  await rtnl.route.add({ dst: '2001:db8:41::/48', gateway: '2001:db8:20::2', table: 1000, metric: 300 });
  const t100 = only(ipRoutes(ns.name, 100), '10.40.0.0/16');
  assert.equal(t100.metric, 50);
  assert.equal(t100.gateway, '10.20.0.2');
  const t1000 = ipRoutes(ns.name, 1000, 4);
  assert.equal(only(t1000, '10.41.0.0/16').metric, 7);
  const t1000v6 = only(ipRoutes(ns.name, 1000, 6), '2001:db8:41::/48');
  assert.equal(t1000v6.metric, 300);
  assert.equal(t1000v6.gateway, '2001:db8:20::2');
  for (const dst of ['10.40.0.0/16', '10.41.0.0/16']) {
    assert.ok(!ipRoutes(ns.name).some((r) => r.dst === dst), `${dst} is not in main`);
  }
  const all = ipRoutes(ns.name, 'all', 4).filter((r) => r.dst === '10.41.0.0/16');
  assert.deepEqual(all.map((r) => r.table), ['1000']);

  // Same destination, another metric: a second route; delete picks by metric.
  await rtnl.route.add({ dst: '10.41.0.0/16', oif: r0, table: 1000, metric: 8 });
  assert.deepEqual(ipRoutes(ns.name, 1000, 4).map((r) => r.metric).sort(), [7, 8]);
  await rtnl.route.del({ dst: '10.41.0.0/16', table: 1000, metric: 7 });
  assert.deepEqual(ipRoutes(ns.name, 1000, 4).map((r) => r.metric), [8]);
  await rtnl.route.del({ dst: '2001:db8:41::/48', table: 1000 });
  assert.deepEqual(ipRoutes(ns.name, 1000, 6), []);
});

test('route.add blackhole and unreachable, IPv4 and IPv6', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  wired(ns);
  await rtnl.route.add({ dst: '10.50.0.0/24', type: 'blackhole' });
  await rtnl.route.add({ dst: '10.51.0.0/24', type: 'unreachable' });
  await rtnl.route.add({ dst: '2001:db8:50::/64', type: 'blackhole' });
  await rtnl.route.add({ dst: '2001:db8:51::/64', type: 'unreachable', table: 1000 });
  assert.equal(only(ipRoutes(ns.name, 'main', 4), '10.50.0.0/24').type, 'blackhole');
  assert.equal(only(ipRoutes(ns.name, 'main', 4), '10.51.0.0/24').type, 'unreachable');
  assert.equal(only(ipRoutes(ns.name, 'main', 6), '2001:db8:50::/64').type, 'blackhole');
  assert.equal(only(ipRoutes(ns.name, 1000, 6), '2001:db8:51::/64').type, 'unreachable');

  await rtnl.route.del({ dst: '10.50.0.0/24', type: 'blackhole' });
  await rtnl.route.del({ dst: '10.51.0.0/24' });
  await rtnl.route.del({ dst: '2001:db8:50::/64', type: 'blackhole' });
  await rtnl.route.del({ dst: '2001:db8:51::/64', table: 1000 });
  const left = ipRoutes(ns.name, 'all').map((r) => r.dst);
  for (const dst of ['10.50.0.0/24', '10.51.0.0/24', '2001:db8:50::/64', '2001:db8:51::/64']) assert.ok(!left.includes(dst), dst);
});

test('route.add of an existing route: EEXIST; route.replace changes it in place', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const { r0 } = wired(ns);
  await rtnl.route.add({ dst: '10.60.0.0/24', gateway: '10.20.0.2' });
  await assert.rejects(rtnl.route.add({ dst: '10.60.0.0/24', gateway: '10.20.0.3' }), { name: 'NetlinkError', code: 'EEXIST', op: 'RTM_NEWROUTE' });
  assert.equal(only(ipRoutes(ns.name), '10.60.0.0/24').gateway, '10.20.0.2', 'unchanged by the failed add');

  await rtnl.route.replace({ dst: '10.60.0.0/24', gateway: '10.20.0.3' });
  assert.equal(only(ipRoutes(ns.name), '10.60.0.0/24').gateway, '10.20.0.3');
  await rtnl.route.replace({ dst: '10.60.0.0/24', oif: r0 });
  const r = only(ipRoutes(ns.name), '10.60.0.0/24');
  assert.equal(r.gateway, undefined);
  assert.equal(r.scope, 'link');
  await rtnl.route.replace({ dst: '10.61.0.0/24', type: 'blackhole' });
  assert.equal(only(ipRoutes(ns.name), '10.61.0.0/24').type, 'blackhole', 'replace adds when absent');

  await rtnl.route.add({ dst: '2001:db8:60::/64', gateway: '2001:db8:20::2', metric: 10 });
  await rtnl.route.replace({ dst: '2001:db8:60::/64', gateway: '2001:db8:20::3', metric: 10 });
  const v6 = only(ipRoutes(ns.name, 'main', 6), '2001:db8:60::/64');
  assert.equal(v6.gateway, '2001:db8:20::3');
});

test('route.add with an unreachable gateway or a missing device fails and leaves nothing', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  wired(ns);
  const before = ipRoutes(ns.name, 'all');
  await assert.rejects(rtnl.route.add({ dst: '10.70.0.0/24', gateway: '192.0.2.1' }), { name: 'NetlinkError', code: 'ENETUNREACH', op: 'RTM_NEWROUTE' });
  await assert.rejects(rtnl.route.add({ dst: '10.70.0.0/24', oif: 9999 }), { name: 'NetlinkError', code: 'ENODEV' });
  await assert.rejects(rtnl.route.add({ dst: '10.70.0.0/33' }), TypeError);
  await assert.rejects(rtnl.route.add({ dst: '10.70.0.0/24', gateway: '2001:db8::1' }), TypeError, 'mixed families');
  assert.deepEqual(ipRoutes(ns.name, 'all'), before);
});

test('route.list (main, a table, all, { family }, { oif }) matches ip -j route show for routes made with ip', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const { r0, r0p } = wired(ns);
  ip(ns.name, 'route', 'add', '10.80.0.0/24', 'via', '10.20.0.2', 'metric', '5');
  ip(ns.name, 'route', 'add', '10.81.0.0/24', 'dev', 'r0p');
  ip(ns.name, 'route', 'add', 'blackhole', '10.82.0.0/24');
  ip(ns.name, 'route', 'add', '10.83.0.0/24', 'via', '10.20.0.2', 'table', '1000');
  ip(ns.name, 'route', 'add', '2001:db8:80::/64', 'via', '2001:db8:20::2');
  ip(ns.name, 'route', 'add', 'default', 'via', '10.20.0.2');

  const key = (dst: string, gw: string | undefined, table: string | number | undefined): string => `${dst} via ${gw ?? '-'} table ${table ?? '?'}`;
  const fromIp = (routes: IpRoute[], table: string): string[] => routes.map((r) => key(r.dst, r.gateway, r.table ?? table)).sort();
  const tableName = (t: number | undefined): string => (t === 254 ? 'main' : t === 255 ? 'local' : String(t));
  const fromUs = (routes: Route[]): string[] => routes.map((r) => key(ipDst(r), r.gateway, tableName(r.table))).sort();

  assert.deepEqual(fromUs(await rtnl.route.list({ family: 4 })), fromIp(ipRoutes(ns.name, 'main', 4), 'main'));
  assert.deepEqual(fromUs(await rtnl.route.list({ family: 6 })), fromIp(ipRoutes(ns.name, 'main', 6), 'main'));
  assert.deepEqual(fromUs(await rtnl.route.list({ table: 1000 })), fromIp(ipRoutes(ns.name, 1000), '1000'));
  assert.deepEqual(fromUs(await rtnl.route.list({ table: 'all', family: 4 })), fromIp(ipRoutes(ns.name, 'all', 4), 'main'));
  assert.deepEqual(fromUs(await rtnl.route.list({ table: 'all', family: 6 })), fromIp(ipRoutes(ns.name, 'all', 6), 'main'));
  const onR0p = await rtnl.route.list({ oif: r0p, family: 4 });
  assert.deepEqual(onR0p.map((r) => r.destination), ['10.81.0.0/24']);

  const listed = await rtnl.route.list({ family: 4 });
  const gw = listed.find((r) => r.destination === '10.80.0.0/24');
  assert.equal(gw?.gateway, '10.20.0.2');
  assert.equal(gw?.oif, r0);
  assert.equal(gw?.priority, 5);
  assert.equal(listed.find((r) => r.destination === '10.82.0.0/24')?.type, 6, 'RTN_BLACKHOLE');
  assert.equal(listed.find((r) => r.destination === 'default')?.gateway, '10.20.0.2');
});

test('route.get (the kernel\'s lookup) matches ip -j route get, IPv4 and IPv6', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const { r0 } = wired(ns);
  ip(ns.name, 'route', 'add', '10.90.0.0/16', 'via', '10.20.0.2');
  ip(ns.name, 'route', 'add', '2001:db8:90::/48', 'via', '2001:db8:20::2');
  ip(ns.name, 'route', 'add', 'default', 'via', '10.20.0.254');
  const names = new Map([[r0, 'r0']]);
  for (const dst of ['10.90.1.2', '10.20.0.9', '8.8.8.8', '2001:db8:90::5', '2001:db8:20::7']) {
    const ours = await rtnl.route.get({ dst });
    const theirs = ipRouteGet(ns.name, dst);
    assert.equal(ours.dst, dst, dst);
    assert.equal(ours.gateway, theirs.gateway, `${dst}: gateway`);
    assert.equal(names.get(ours.oif ?? 0), theirs.dev, `${dst}: dev`);
    assert.equal(ours.prefsrc, theirs.prefsrc, `${dst}: prefsrc`);
  }
  const loc = await rtnl.route.get({ dst: '10.20.0.1' });
  assert.equal(loc.type, 2, 'RTN_LOCAL: our own address');
  assert.equal(ipRouteGet(ns.name, '10.20.0.1').type, 'local');
  const from = await rtnl.route.get({ dst: '10.90.1.2', src: '10.20.0.1' });
  assert.equal(from.src, '10.20.0.1');
  assert.equal(from.gateway, ipRouteGet(ns.name, '10.90.1.2', 'from', '10.20.0.1').gateway);
});

test('route.get with no route: the kernel\'s error, as ip route get reports it', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  wired(ns);
  await assert.rejects(rtnl.route.get({ dst: '192.0.2.55' }), { name: 'NetlinkError', code: 'ENETUNREACH', op: 'RTM_GETROUTE' });
  assert.throws(() => ipRouteGet(ns.name, '192.0.2.55'), /unreachable/i);
});
