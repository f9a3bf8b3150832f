/**
 * Integration (root, throwaway host): the Networks library under races the CLI can only hit
 * by chance — two users making the default network at the same moment, two creating the
 * same network name — and deleteHostLinks (gone when it returns, a refusal not waited for).
 * Checked with `ip -j` in the host and the records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Networks } from '../../../src/network/index.js';
import { NsboxError } from '../../../src/errors.js';
import { ipAddrs, ipTry } from '../../helpers/iproute.js';
import { delHostLinks, hostLinkNames, hostVeth, linkName } from '../../helpers/host-links.js';
import { randomName } from '../../helpers/names.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';

function openPair(t: { after: (fn: () => void) => void }): [Networks, Networks] {
  const root = `/run/${randomName('nsbt-net-')}`;
  const a = Networks.open({ root });
  const b = Networks.open({ root });
  t.after(() => {
    a.close();
    b.close();
    rmSync(root, { recursive: true, force: true });
  });
  return [a, b];
}

test('two users racing to make the default network both get the one nsbox0', async (t) => {
  assert.ok(!hostLinkNames().includes('nsbox0'), 'precondition: no nsbox0 in the throwaway host');
  const [a, b] = openPair(t);
  t.after(() => { ipTry(undefined, 'link', 'del', 'nsbox0'); });
  const [x, y] = await Promise.all([a.ensureDefault(), b.ensureDefault()]);
  assert.deepEqual(x.config.subnets, [{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }]);
  assert.deepEqual(y.config.subnets, x.config.subnets);
  assert.deepEqual(a.list().map((n) => n.name), ['nsbox0']);
  assert.deepEqual(ipAddrs(undefined, 'nsbox0').filter((i) => i.family === 'inet').map((i) => `${i.local}/${i.prefixlen}`), ['10.88.0.1/16']);
  await a.remove('nsbox0');
  assert.ok(!hostLinkNames().includes('nsbox0'));
});

test('creating a network whose name exists fails with NSBOX_ERR_EXISTS, also when racing', async (t) => {
  const [a, b] = openPair(t);
  const net = networkName();
  const { cidr } = uniqueSubnet();
  await a.create(net, { subnets: [cidr] });
  await assert.rejects(b.create(net, { subnets: [cidr] }), (err: unknown) => err instanceof NsboxError && err.code === 'NSBOX_ERR_EXISTS' && /already exists/.test(err.message));
  const other = networkName();
  const second = uniqueSubnet().cidr;
  const results = await Promise.allSettled([a.create(other, { subnets: [second] }), b.create(other, { subnets: [second] })]);
  assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  const failed = results.find((r) => r.status === 'rejected');
  assert.equal((failed?.reason as NsboxError).code, 'NSBOX_ERR_EXISTS', String(failed?.reason));
  assert.deepEqual(a.list().map((n) => n.name).sort(), [net, other].sort());
  await a.remove(net);
  await a.remove(other);
  assert.deepEqual(b.list(), []);
});

test('two users bringing back a missing bridge at the same moment both succeed', async (t) => {
  const [a, b] = openPair(t);
  const net = networkName();
  const { cidr, base } = uniqueSubnet();
  const info = await a.create(net, { subnets: [cidr] });
  const bridge = info.config.bridge!;
  t.after(() => { ipTry(undefined, 'link', 'del', bridge); });
  ipTry(undefined, 'link', 'del', bridge);
  const created = await Promise.all([a.ensureHostSide(info), b.ensureHostSide(info)]);
  assert.deepEqual(created.sort(), [false, true], 'one of them made it');
  assert.deepEqual(ipAddrs(undefined, bridge).filter((i) => i.family === 'inet').map((i) => `${i.local}/${i.prefixlen}`), [`${base}1/24`]);
  await a.remove(net);
  assert.ok(!hostLinkNames().includes(bridge));
});

test('deleteHostLinks: gone from the host when it returns, peers too; already gone is success; a refused deletion is reported, not waited for', async (t) => {
  const [a] = openPair(t);
  const [x, xPeer] = hostVeth();
  const [y, yPeer] = hostVeth();
  t.after(() => { delHostLinks(x, y); });
  const never = linkName('n');
  // `lo` cannot be deleted (EOPNOTSUPP): with a deadline of 10 minutes, only not waiting for it lets the test end.
  const errors = await a.deleteHostLinks([x, y, never, 'lo'], 600_000);
  assert.deepEqual(errors.map((e) => e.replace(/:.*/, '')), ['host link lo'], errors.join('; '));
  const left = new Set(hostLinkNames());
  for (const n of [x, xPeer, y, yPeer]) assert.ok(!left.has(n), `${n} is gone`);
  assert.ok(left.has('lo'));
});
