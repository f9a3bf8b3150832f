/**
 * Integration (root, throwaway host): regression tests for what the crash matrix
 * (scripts/crash-matrix.js) found. A `disconnect` killed after the kernel work but before its
 * row went left a ready interface row whose link was gone (gc did not see it, restore failed on
 * it): the row is now 'removing' first and gc finishes it. A removal (`rm`, gc of an
 * interrupted `lab down`) of a sandbox one of whose recorded links the kernel already deleted
 * (a veth whose peer's namespace was destroyed) failed to adopt it and reported an error: the
 * missing link is now skipped. A `network create` killed after inserting its record but before
 * making its bridge left a network without a bridge that gc did not see: the record is marked
 * `creating` until the host side is made, and gc (or a connect to it) finishes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { rootForTest } from '../../helpers/cli.js';
import { randomName } from '../../helpers/names.js';

interface GcJson { removed: { kind: string; name: string; reason: string }[]; errors: unknown[] }
interface Inspect { interfaces: { dstName: string; network?: string; state: string }[] }

test('disconnect SIGKILLed after the kernel work: gc finishes it, restore adopts, connect works again', async (t) => {
  const r = rootForTest(t);
  const net = `nd${randomName('').slice(0, 6)}`;
  const name = randomName();
  await r.ok('network', 'create', net, '--subnet', '10.243.0.0/24');
  await r.ok('create', name);
  await r.ok('connect', net, name);
  const ifname = (await r.json<Inspect>('inspect', name)).interfaces.find((i) => i.network === net)!.dstName;
  await r.killAt('disconnect:kernel', ['disconnect', net, name]);

  assert.deepEqual((await r.json<Inspect>('inspect', name)).interfaces.map((i) => [i.dstName, i.state]), [[ifname, 'removing']]);
  const gc = await r.json<GcJson>('gc');
  assert.deepEqual(gc.removed, [{ kind: 'interface', name: `${name}/${ifname}`, reason: `disconnect from ${net} was interrupted` }]);
  assert.deepEqual(gc.errors, []);
  assert.deepEqual((await r.json<Inspect>('inspect', name)).interfaces, []);
  assert.deepEqual((await r.json<{ name: string; status: string }[]>('restore')).filter((o) => o.name === name).map((o) => o.status), ['adopted']);
  assert.deepEqual((await r.json<{ leases: unknown[] }>('network', 'inspect', net)).leases, []);
  await r.ok('connect', net, name);
  await r.ok('rm', name);
  await r.ok('network', 'rm', net);
});

test('rm of a sandbox whose recorded veth the kernel already deleted: removed without an error', async (t) => {
  const r = rootForTest(t);
  const name = randomName();
  const a = `va${name.slice(5, 11)}`;
  const b = `vb${name.slice(5, 11)}`;
  execFileSync('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  t.after(() => { spawnSync('ip', ['link', 'del', b], { stdio: 'ignore' }); });
  await r.ok('create', name);
  await r.ok('iface', 'add', name, '--src', a, '--name', 'gone0');
  execFileSync('ip', ['link', 'del', b]); // takes gone0 (its peer) with it
  const res = await r.run('--json', 'rm', name);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(JSON.parse(res.stdout), [{ name, removed: true, errors: [] }]);
  assert.deepEqual((await r.json<GcJson>('gc', '--dry-run')).removed, []);
});

test('network create SIGKILLed between its record and its bridge: gc finishes it, restore and connect find it whole', async (t) => {
  const r = rootForTest(t);
  const net = `nc${randomName('').slice(0, 6)}`;
  const bridge = `br${net}`;
  await r.killAt('network-create:recorded', ['network', 'create', net, '--subnet', '10.238.0.0/24', '--bridge-name', bridge]);
  // the record is there, marked, and no bridge yet: restore alone does not paper over it
  assert.equal(spawnSync('ip', ['link', 'show', bridge], { stdio: 'ignore' }).status, 1);
  assert.deepEqual((await r.json<{ name: string; status: string }[]>('restore')).filter((o) => o.name === `network ${net}`).map((o) => o.status), ['interrupted']);
  const gc = await r.json<GcJson>('gc');
  assert.deepEqual(gc.removed, [{ kind: 'network', name: net, reason: 'network create was interrupted: finished' }]);
  assert.deepEqual(gc.errors, []);
  assert.equal(spawnSync('ip', ['link', 'show', bridge], { stdio: 'ignore' }).status, 0, 'gc made the bridge');
  assert.deepEqual((await r.json<{ name: string; status: string }[]>('restore')).filter((o) => o.name.startsWith('network ')), []);
  assert.deepEqual((await r.json<GcJson>('gc', '--dry-run')).removed, []);
  const name = randomName();
  await r.ok('create', name);
  await r.ok('connect', net, name);
  await r.ok('rm', name);
  await r.ok('network', 'rm', net);
  assert.equal(spawnSync('ip', ['link', 'show', bridge], { stdio: 'ignore' }).status, 1);
});

test('connect to a network whose create was SIGKILLed after its record: the network is finished first', async (t) => {
  const r = rootForTest(t);
  const net = `nk${randomName('').slice(0, 6)}`;
  await r.killAt('network-create:recorded', ['network', 'create', net, '--subnet', '10.239.0.0/24', '--bridge-name', `br${net}`]);
  const name = randomName();
  await r.ok('create', name);
  await r.ok('connect', net, name);
  assert.equal(spawnSync('ip', ['link', 'show', `br${net}`], { stdio: 'ignore' }).status, 0);
  assert.deepEqual((await r.json<GcJson>('gc', '--dry-run')).removed, []);
  await r.ok('rm', name);
  await r.ok('network', 'rm', net);
});
