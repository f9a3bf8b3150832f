/**
 * Integration (root, throwaway host): 100 `nsbox run --keep` processes at once (20 at a
 * time), racing to create the default network nsbox0 and to lease addresses. Every one
 * gets its own address, the store's leases match what the kernel holds in each sandbox
 * (`ip -n NAME -j addr`), every host veth end hangs off the bridge; then all are removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipAddrs } from '../../helpers/iproute.js';
import { rootForTest } from '../../helpers/cli.js';
import { hostLinkNames, links } from '../../helpers/host-links.js';
import { randomName } from '../../helpers/names.js';
import { inPool } from '../../helpers/networks.js';

const COUNT = 100;
const AT_ONCE = 20;

test(`${COUNT} parallel runs on a fresh nsbox0 get ${COUNT} distinct addresses that match the kernel; then all are removed`, { timeout: 300_000 }, async (t) => {
  assert.ok(!hostLinkNames().includes('nsbox0'), 'precondition: no nsbox0 in the throwaway host');
  const r = rootForTest(t);
  const names = Array.from({ length: COUNT }, () => randomName());
  const results = await inPool(names, AT_ONCE, (name) => r.run('run', '--keep', '--name', name, '--', 'true'));
  const failed = results.map((res, i) => [names[i], res] as const).filter(([, res]) => res.code !== 0);
  assert.deepEqual(failed.map(([n, res]) => `${n}: exit ${res.code ?? res.signal}: ${res.stderr.trim()}`), [], 'every run succeeded');

  const net = await r.network('nsbox0');
  assert.deepEqual(net.subnets, [{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }], 'one nsbox0, made once');
  assert.equal(net.leases.length, COUNT);
  const leased = new Map(net.leases.map((l) => [l.sandbox, l.address]));
  assert.equal(new Set(leased.values()).size, COUNT, 'distinct addresses');
  assert.deepEqual([...leased.keys()].sort(), [...names].sort(), 'one lease per sandbox');
  assert.ok(![...leased.values()].includes('10.88.0.1'), 'nobody got the gateway');

  const kernel = new Map(names.map((name) => {
    const v4 = ipAddrs(name, 'eth0').filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
    return [name, v4] as const;
  }));
  for (const name of names) assert.deepEqual(kernel.get(name), [`${leased.get(name)}/16`], `${name}: kernel address = lease`);
  const records = await r.json<{ name: string; interfaces: { options: { ipv4?: string } }[] }[]>('ls');
  assert.equal(records.length, COUNT);
  for (const rec of records) assert.deepEqual(rec.interfaces.map((i) => i.options.ipv4), [`${leased.get(rec.name)}/16`], `${rec.name}: record = lease`);
  assert.equal(links().filter((l) => l.master === 'nsbox0').length, COUNT, 'a veth end per sandbox on the bridge');

  const rm = await r.run('rm', '--all');
  assert.equal(rm.code, 0, rm.stderr);
  assert.deepEqual(await r.json('ls'), []);
  assert.deepEqual((await r.network('nsbox0')).leases, []);
  assert.deepEqual(links().filter((l) => l.master === 'nsbox0'), [], 'every host veth end gone');
  assert.deepEqual(r.netnsMounts(), []);
  assert.deepEqual(r.netnsSymlinks(), []);
});
