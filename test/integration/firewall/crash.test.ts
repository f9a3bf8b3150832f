/**
 * Integration (root, throwaway host): publishing and unpublishing killed with SIGKILL at each
 * of their crash points (NSBOX_TEST_PAUSE, managed/test-hooks.ts), on `run -p`, `connect -p`,
 * `disconnect` and `rm`, then healed by `nsbox gc`: no port row, no map element, the host port
 * free again, and the same command then succeeds. The kernel oracle is `nft -j list map`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { rootForTest, type NsboxRoot } from '../../helpers/cli.js';
import { randomName } from '../../helpers/names.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { publishedInKernel } from '../../helpers/nsbox-ruleset.js';

interface GcJson { removed: { kind: string; name: string; reason: string }[]; errors: unknown[] }
interface PortJson { sandbox: string; hostPort: number; protocol: string; state: string }

let nextPort = 20000 + Math.floor(Math.random() * 20000);
const port = (): number => nextPort++;

async function network(r: NsboxRoot): Promise<string> {
  const name = networkName();
  await r.ok('network', 'create', name, '--subnet', uniqueSubnet().cidr);
  return name;
}

/** The host port can be listened on again (no process of nsbox holds it). */
async function hostPortFree(p: number): Promise<void> {
  const server = createServer();
  server.listen({ port: p, host: '0.0.0.0', exclusive: true });
  await once(server, 'listening');
  server.close();
}

/** Published in the store (`port ls`) and in the kernel (map elements), by sandbox. */
async function published(r: NsboxRoot, sandbox: string): Promise<{ rows: string[]; kernel: string[] }> {
  const rows = (await r.json<PortJson[]>('port', 'ls')).filter((p) => p.sandbox === sandbox).map((p) => `${p.hostPort}/${p.protocol} ${p.state}`);
  return { rows, kernel: publishedInKernel().filter((e) => e.startsWith(`sandbox=${sandbox} `)) };
}

for (const point of ['publish:recorded', 'publish:kernel'] as const) {
  test(`run -p killed at ${point}: gc removes the sandbox, its rows and elements; the port is free and run -p works again`, async (t) => {
    const r = rootForTest(t);
    const net = await network(r);
    const name = randomName();
    const p = port();
    await r.killAt(point, ['run', '--name', name, '--network', net, '-p', `${p}:80`, '--', 'sleep', '60'], async () => {
      const mid = await published(r, name);
      assert.deepEqual(mid.rows, [`${p}/tcp adding`]);
      assert.equal(mid.kernel.length, point === 'publish:kernel' ? 1 : 0);
    });
    const gc = await r.json<GcJson>('gc');
    assert.deepEqual(gc.removed.map((a) => [a.kind, a.name]), [['sandbox', name]], JSON.stringify(gc));
    assert.deepEqual(gc.errors, []);
    assert.deepEqual(await published(r, name), { rows: [], kernel: [] });
    await hostPortFree(p);
    assert.deepEqual((await r.json<GcJson>('gc')).removed, [], 'a second gc finds nothing');
    const again = await r.run('run', '--name', name, '--network', net, '-p', `${p}:80`, '--', 'true');
    assert.equal(again.code, 0, again.stderr);
  });

  test(`connect -p killed at ${point}: gc drops the half-published port, the connection stays; disconnect and connect -p work again`, async (t) => {
    const r = rootForTest(t);
    const net = await network(r);
    const name = randomName();
    const p = port();
    await r.ok('create', name);
    await r.killAt(point, ['connect', '-p', `${p}:80/udp`, net, name]);
    const gc = await r.json<GcJson>('gc');
    assert.deepEqual(gc.removed, [{ kind: 'port', name: `${name} ${p}/udp`, reason: 'publish was interrupted' }]);
    assert.deepEqual(await published(r, name), { rows: [], kernel: [] });
    assert.deepEqual((await r.sandbox(name)).interfaces.map((i) => [i.network, i.state]), [[net, 'ready']], 'the connection itself completed');
    await r.ok('disconnect', net, name);
    await r.ok('connect', '-p', `${p}:80/udp`, net, name);
    assert.deepEqual((await published(r, name)).rows, [`${p}/udp active`]);
  });
}

for (const point of ['unpublish:recorded', 'unpublish:kernel'] as const) {
  test(`rm killed at ${point}: gc finishes the rm, rows and elements gone`, async (t) => {
    const r = rootForTest(t);
    const net = await network(r);
    const name = randomName();
    const p = port();
    await r.ok('create', name);
    await r.ok('connect', '-p', `${p}:80`, net, name);
    await r.killAt(point, ['rm', name], async () => {
      const mid = await published(r, name);
      assert.deepEqual(mid.rows, [`${p}/tcp removing`]);
      assert.equal(mid.kernel.length, point === 'unpublish:kernel' ? 0 : 1);
    });
    const gc = await r.json<GcJson>('gc');
    assert.deepEqual(gc.removed.map((a) => [a.kind, a.name, a.reason]), [['sandbox', name, 'rm was interrupted']], JSON.stringify(gc));
    assert.deepEqual(await published(r, name), { rows: [], kernel: [] });
    assert.deepEqual(await r.json('ls'), []);
  });

  test(`disconnect killed at ${point}: gc drops the port; the connection stays, disconnect works again`, async (t) => {
    const r = rootForTest(t);
    const net = await network(r);
    const name = randomName();
    const p = port();
    await r.ok('create', name);
    await r.ok('connect', '-p', `${p}:80`, net, name);
    await r.killAt(point, ['disconnect', net, name]);
    const gc = await r.json<GcJson>('gc');
    assert.deepEqual(gc.removed, [{ kind: 'port', name: `${name} ${p}/tcp`, reason: 'unpublish was interrupted' }]);
    assert.deepEqual(await published(r, name), { rows: [], kernel: [] });
    await r.ok('disconnect', net, name);
    assert.deepEqual((await r.sandbox(name)).interfaces, []);
  });
}
