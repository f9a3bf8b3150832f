/**
 * Integration (root, throwaway host): the batched rtnetlink writes the overlay data plane uses
 * (NeighOps.replaceMany/delMany, RouteOps.replaceMany/delMany: 256 messages to a datagram),
 * with iproute2 as the oracle: 600 FDB entries and 600 neighbours (three datagrams each) written
 * twice (replace: the same 600), a refused entry in the middle rejecting with its batch index,
 * deletes counting entries already gone, and 300 onlink routes of proto 110 written and removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkError } from '../../../src/errors.js';
import { NSBOX_ROUTE_PROTOCOL } from '../../../src/netlink/route/ops/route.js';
import { makeNetns } from '../../helpers/netns.js';
import { checkLeaksAfterAll, openRtnl } from '../../helpers/rtnl.js';
import { bridgeFdb, ipJson, ipNeighs } from '../../helpers/iproute.js';

checkLeaksAfterAll();

const hex = (n: number): string => n.toString(16).padStart(2, '0');

test('replaceMany/delMany: 600 FDB entries and neighbours, 300 routes, in batches of 256', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  await rtnl.link.set({ name: 'lo' }, { up: true });
  await rtnl.link.add({ name: 'eth0', kind: 'veth', up: true, peer: { name: 'eth0p' } });
  const eth0 = (await rtnl.link.get({ name: 'eth0' })).index;
  await rtnl.addr.add({ index: eth0, address: '192.0.2.1/24' });
  await rtnl.link.add({ name: 'vx0', kind: 'vxlan', id: 5, local: '192.0.2.1', dev: eth0, port: 4789, learning: false, up: true });
  const vx = (await rtnl.link.get({ name: 'vx0' })).index;

  const fdb = Array.from({ length: 600 }, (_, i) => ({ index: vx, family: 'bridge' as const, self: true, lladdr: `02:00:00:00:${hex(i >> 8)}:${hex(i & 255)}`, dst: `192.0.2.${2 + (i % 200)}` }));
  const neigh = Array.from({ length: 600 }, (_, i) => ({ index: vx, dst: `10.9.${i >> 8}.${i & 255}`, lladdr: fdb[i]!.lladdr }));
  for (let round = 0; round < 2; round++) {
    await rtnl.neigh.replaceMany(fdb);
    await rtnl.neigh.replaceMany(neigh);
  }
  const oracle = bridgeFdb(ns.name, 'show', 'dev', 'vx0').filter((e) => e.dst !== undefined);
  assert.equal(oracle.length, 600);
  assert.deepEqual(oracle.map((e) => `${e.mac} ${e.dst} ${e.state}`).sort(), fdb.map((e) => `${e.lladdr} ${e.dst} permanent`).sort());
  assert.equal(ipNeighs(ns.name, 'dev', 'vx0').filter((n) => (n.state ?? []).includes('PERMANENT')).length, 600);

  // a refused entry (an ifindex that does not exist) in the middle of the second datagram
  const bad = [...neigh.slice(0, 300), { index: 99999, dst: '10.9.9.9', lladdr: '02:00:00:00:99:99' }, ...neigh.slice(300)];
  await assert.rejects(rtnl.neigh.replaceMany(bad), (err: unknown) => {
    assert.ok(err instanceof NetlinkError, String(err));
    assert.equal(err.code, 'ENODEV');
    assert.equal(err.batchIndex, 300 - 256);
    return true;
  });

  // deletes: 100 removed by hand first are counted as gone
  for (const e of fdb.slice(0, 100)) await rtnl.neigh.del(e);
  assert.deepEqual(await rtnl.neigh.delMany(fdb), { deleted: 500, gone: 100 });
  assert.deepEqual(await rtnl.neigh.delMany(neigh), { deleted: 600, gone: 0 });
  assert.deepEqual(bridgeFdb(ns.name, 'show', 'dev', 'vx0').filter((e) => e.dst !== undefined), []);

  const routes = Array.from({ length: 300 }, (_, i) => ({ dst: `10.${100 + (i >> 8)}.${i & 255}.0/24`, gateway: `10.9.0.${1 + (i % 250)}`, oif: vx, onlink: true, protocol: NSBOX_ROUTE_PROTOCOL }));
  await rtnl.route.replaceMany(routes);
  await rtnl.route.replaceMany(routes);
  const shown = ipJson<{ dst: string; flags: string[] }[]>(ns.name, 'route', 'show', 'proto', String(NSBOX_ROUTE_PROTOCOL));
  assert.equal(shown.length, 300);
  assert.ok(shown.every((r) => r.flags.includes('onlink')));
  await rtnl.route.del({ dst: routes[0]!.dst, protocol: NSBOX_ROUTE_PROTOCOL });
  assert.deepEqual(await rtnl.route.delMany(routes.map((r) => ({ dst: r.dst, oif: vx, protocol: NSBOX_ROUTE_PROTOCOL }))), { deleted: 299, gone: 1 });
  assert.deepEqual(ipJson(ns.name, 'route', 'show', 'proto', String(NSBOX_ROUTE_PROTOCOL)), []);
});
