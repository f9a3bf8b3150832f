/**
 * Integration (root, throwaway host): nsbox processes killed with SIGKILL in the middle of
 * network work (NSBOX_TEST_PAUSE stops them exactly there), then healed by `nsbox gc`: no
 * lease, no host veth end, no interface row, no namespace left of what was interrupted.
 * Checked with `ip -j` in the host, `ip -n NAME` in the sandbox, and `nsbox --json`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { rootForTest, waitForOutput, type NsboxRoot } from '../../helpers/cli.js';
import { links } from '../../helpers/host-links.js';
import { randomName } from '../../helpers/names.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';

interface GcJson {
  dryRun: boolean;
  removed: { kind: string; name: string; reason: string }[];
  inUse: string[];
  errors: unknown[];
}

async function bridgeNetwork(r: NsboxRoot): Promise<{ net: string; base: string; bridge: string }> {
  const net = networkName();
  const { cidr, base } = uniqueSubnet();
  const info = await r.json<{ bridge: string }>('network', 'create', net, '--subnet', cidr);
  return { net, base, bridge: info.bridge };
}

test('a connect killed after the kernel work is skipped by gc while alive, then undone by gc', async (t) => {
  const r = rootForTest(t);
  const { net, base, bridge } = await bridgeNetwork(r);
  const name = randomName();
  await r.json('create', name);
  await r.killAt('connect:kernel', ['connect', net, name], async () => {
    // Mid-connect: leased, wired, recorded as 'adding'; gc must leave a live process's work alone.
    assert.deepEqual((await r.network(net)).leases.map((l) => [l.address, l.sandbox]), [[`${base}2`, name]]);
    assert.equal(links().filter((l) => l.master === bridge).length, 1);
    const gc = await r.json<GcJson>('gc');
    assert.deepEqual([gc.removed, gc.inUse], [[], [name]]);
    assert.equal((await r.network(net)).leases.length, 1, 'gc kept the lease of a live connect');
  });
  const rec = await r.sandbox(name);
  assert.deepEqual(rec.interfaces.map((i) => [i.dstName, i.network, i.state]), [['eth0', net, 'adding']]);
  assert.equal(r.taggedHostLinks().filter((l) => l !== bridge).length, 1, 'the host veth end is still there');
  assert.ok(links(name).some((l) => l.ifname === 'eth0'), 'and its peer in the sandbox');

  const gc = await r.json<GcJson>('gc');
  assert.deepEqual(gc.removed, [{ kind: 'interface', name: `${name}/eth0`, reason: `connect to ${net} was interrupted` }]);
  assert.deepEqual(gc.errors, []);
  assert.deepEqual((await r.network(net)).leases, [], 'no lease');
  assert.deepEqual(links().filter((l) => l.master === bridge), [], 'no host veth on the bridge');
  assert.deepEqual(r.taggedHostLinks(), [bridge], 'no tagged host veth');
  assert.deepEqual(links(name).map((l) => l.ifname), ['lo'], 'nothing left in the sandbox');
  const after = await r.sandbox(name);
  assert.deepEqual([after.state, after.interfaces, after.gateway], ['ready', [], null], 'no interface row, no gateway');
  assert.deepEqual((await r.json<GcJson>('gc')).removed, [], 'a second gc finds nothing');
  // The address is free again and the sandbox can connect normally.
  const again = await r.json<{ interface: { options: { ipv4: string } } }>('connect', net, name);
  assert.equal(again.interface.options.ipv4, `${base}2/24`);
});

test('a run killed right after making its namespace is collected by gc', async (t) => {
  const r = rootForTest(t);
  const { net, bridge } = await bridgeNetwork(r);
  const name = randomName();
  await r.killAt('create:netns', ['run', '--name', name, '--network', net, '--', 'true']);
  const listed = await r.json<{ name: string; state: string }[]>('ls');
  assert.deepEqual(listed.map((s) => [s.name, s.state]), [[name, 'creating']]);
  assert.equal(r.netnsMounts().length, 1, 'its namespace is mounted');
  const gc = await r.json<GcJson>('gc');
  assert.deepEqual(gc.removed.map((a) => [a.kind, a.name, a.reason]), [['sandbox', name, 'create was interrupted']]);
  assert.deepEqual(await r.json('ls'), []);
  assert.deepEqual(r.netnsMounts(), []);
  assert.equal(existsSync(join(r.netnsDir, name)), false, 'no netns file');
  assert.deepEqual(r.netnsSymlinks(), []);
  assert.deepEqual((await r.network(net)).leases, []);
  assert.deepEqual(r.taggedHostLinks(), [bridge]);
});

test('a run killed in the middle of connecting: gc removes the dead run\'s sandbox with its lease and host veth', async (t) => {
  const r = rootForTest(t);
  const { net, bridge } = await bridgeNetwork(r);
  const name = randomName();
  await r.killAt('connect:kernel', ['run', '--name', name, '--network', net, '--', 'true']);
  assert.equal((await r.network(net)).leases.length, 1);
  const dry = await r.json<GcJson>('gc', '--dry-run');
  assert.deepEqual(dry.removed.map((a) => [a.kind, a.name]), [['sandbox', name]], 'the run holds no lock any more: its sandbox is an orphan');
  assert.equal((await r.network(net)).leases.length, 1, 'dry run changed nothing');
  const gc = await r.json<GcJson>('gc');
  assert.deepEqual(gc.removed.map((a) => [a.kind, a.name, a.reason]), [['sandbox', name, 'its `nsbox run` process died']]);
  assert.deepEqual(gc.errors, []);
  assert.deepEqual((await r.network(net)).leases, [], 'no lease');
  assert.deepEqual(r.taggedHostLinks(), [bridge], 'no host veth');
  assert.deepEqual(await r.json('ls'), [], 'no record');
  assert.deepEqual(r.netnsMounts(), [], 'no netns mount');
});

test('a live `nsbox run` is never collected by gc', async (t) => {
  const r = rootForTest(t);
  const { net } = await bridgeNetwork(r);
  const name = randomName();
  const child = r.start(['run', '--name', name, '--network', net, '--', 'sh', '-c', 'echo ready; exec sleep 30']);
  try {
    await waitForOutput(child, 'stdout', 'ready');
    const gc = await r.json<GcJson>('gc');
    assert.deepEqual(gc.removed, [], 'nothing collected while the run lives');
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('close', resolve));
  }
  assert.deepEqual(await r.json('ls'), [], 'the run cleaned up after itself');
});

test('a sandbox removed behind nsbox\'s back: gc releases its lease and deletes its host veth', async (t) => {
  const r = rootForTest(t);
  const { net, bridge } = await bridgeNetwork(r);
  const name = randomName();
  await r.json('create', name);
  await r.json('connect', net, name);
  // Kill the namespace under nsbox: unmount its file (a reboot-like loss), then gc.
  for (const m of r.netnsMounts()) execFileSync('umount', ['-l', m]);
  const gc = await r.json<GcJson>('gc');
  assert.deepEqual(gc.removed.map((a) => [a.kind, a.name]), [['sandbox', name]]);
  assert.deepEqual(gc.errors, []);
  assert.deepEqual((await r.network(net)).leases, []);
  assert.deepEqual(r.taggedHostLinks(), [bridge]);
  assert.deepEqual(await r.json('ls'), []);
});
