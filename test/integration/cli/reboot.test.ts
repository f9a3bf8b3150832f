/**
 * Integration (root, throwaway host): a simulated reboot. Two sandboxes with veth ends whose
 * peers stay in the host on a bridge, addresses, a gateway, a static route and a neighbour;
 * then every netns file is unmounted, so the namespaces and their veths die. `nsbox restore`
 * reports them gone, `nsbox restore --recreate` rebuilds them from the records. Checked with
 * `ip -n NAME -j addr/route/neigh`, the host's `ip -j -d link` and a ping through the bridge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { netnsMounts, nsbox, nsboxJson, nsboxOk, registerCliLeakCheck, rootForFile } from '../../helpers/cli.js';
import { hostBridge, hostLinkNames, hostVeth } from '../../helpers/host-links.js';
import { randomName } from '../../helpers/names.js';
import { waitUntil } from '../../helpers/wait.js';
import { ip, ipAddrs, ipJson, ipNeighs, ipRoutes, type IpLink } from '../../helpers/iproute.js';

registerCliLeakCheck();

function ping(name: string, address: string): { ok: boolean; out: string } {
  const res = spawnSync('ip', ['netns', 'exec', name, 'ping', '-c', '1', '-W', '2', address], { encoding: 'utf8' });
  return { ok: res.status === 0, out: `${res.stdout}${res.stderr}` };
}

test('after a simulated reboot, restore says gone and restore --recreate rebuilds both sandboxes from their records', async () => {
  const root = rootForFile();
  const bridge = hostBridge();
  ip(undefined, 'addr', 'add', '10.96.0.1/24', 'dev', bridge);
  const sandboxes = [
    { name: randomName(), ip: '10.96.0.11', dst: 'eth0', extra: [] as string[], neigh: ['10.96.0.99', '02:96:00:00:00:99'] },
    { name: randomName(), ip: '10.96.0.12', dst: 'lan0', extra: ['--name', 'lan0', '--mac', '02:96:00:00:00:12'], neigh: ['10.96.0.98', '02:96:00:00:00:98'] },
  ];
  const peers: string[] = [];
  for (const [i, s] of sandboxes.entries()) {
    const [src, peer] = hostVeth();
    peers.push(peer);
    ip(undefined, 'link', 'set', peer, 'master', bridge, 'up');
    await nsboxJson(root, 'create', s.name);
    await nsboxOk(root, 'iface', 'add', s.name, '--src', src, '--ip', `${s.ip}/24`, ...s.extra);
    await nsboxOk(root, 'gw', 'set', s.name, '10.96.0.1');
    await nsboxOk(root, 'route', 'add', s.name, '--dst', `10.97.${i}.0/24`, '--via', sandboxes[1 - i]!.ip);
    await nsboxOk(root, 'neigh', 'add', s.name, s.neigh[0]!, s.neigh[1]!);
  }
  /** What the kernel holds for a sandbox, in iproute2's words. */
  const kernelView = (s: (typeof sandboxes)[number]): unknown => ({
    addrs: ipAddrs(s.name, s.dst).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
    routes: ipRoutes(s.name, 'main', 4).map((r) => [r.dst, r.gateway ?? null, r.dev]).sort(),
    neigh: ipNeighs(s.name).filter((n) => n.state?.includes('PERMANENT')).map((n) => [n.dst, n.lladdr, n.dev]),
    mac: s.extra.includes('--mac') ? ipJson<IpLink[]>(s.name, 'link', 'show', s.dst)[0]?.address : undefined,
  });
  const expected = sandboxes.map((s, i) => ({
    addrs: [`${s.ip}/24`],
    routes: [['10.96.0.0/24', null, s.dst], [`10.97.${i}.0/24`, sandboxes[1 - i]!.ip, s.dst], ['default', '10.96.0.1', s.dst]].sort(),
    neigh: [[s.neigh[0], s.neigh[1], s.dst]],
    mac: s.extra.includes('--mac') ? '02:96:00:00:00:12' : undefined,
  }));
  assert.deepEqual(sandboxes.map(kernelView), expected, 'before the reboot');
  for (const s of sandboxes) assert.ok(ping(s.name, '10.96.0.1').ok, `ping from ${s.name} before the reboot`);
  const records = await nsboxJson<unknown[]>(root, 'ls');

  // The "reboot": every namespace file unmounted; the namespaces and their veth pairs die.
  for (const m of netnsMounts(root)) execFileSync('umount', ['-l', m]);
  assert.deepEqual(netnsMounts(root), []);
  await waitUntil('the host ends of the veths are gone', () => !hostLinkNames().some((n) => peers.includes(n)));

  const listed = await nsboxJson<{ name: string; state: string }[]>(root, 'ls');
  assert.deepEqual(listed.map((r) => [r.name, r.state]), sandboxes.map((s) => [s.name, 'gone']));
  const gone = sandboxes.map((s) => ({ name: s.name, status: 'gone', detail: 'network namespace gone; run `nsbox restore --recreate`' }));
  assert.deepEqual(await nsboxJson(root, 'restore'), gone);
  const goneExec = await nsbox(root, '--json', 'iface', 'add', sandboxes[0]!.name, '--src', peers[0]!);
  assert.equal(goneExec.code, 3, goneExec.stderr); // not found: the namespace is gone
  assert.equal((JSON.parse(goneExec.stderr) as { code: string }).code, 'NSBOX_ERR_NETNS_GONE');
  const inspected = await nsboxJson<Record<string, unknown>>(root, 'inspect', sandboxes[0]!.name);
  assert.equal(inspected.state, 'gone');
  assert.equal(inspected.kernel, undefined, 'no kernel section without a namespace');

  assert.deepEqual(await nsboxJson(root, 'restore', '--recreate'),
    sandboxes.map((s) => ({ name: s.name, status: 'recreated', detail: '1 interface(s), 1 route(s)' })));
  assert.deepEqual(await nsboxJson(root, 'ls'), records, 'the records are as before the reboot');
  assert.deepEqual(sandboxes.map(kernelView), expected, 'after restore --recreate');
  for (const peer of peers) {
    const link = ipJson<IpLink[]>(undefined, '-d', 'link', 'show', peer)[0];
    assert.equal(link?.master, bridge, `${peer} is back on the bridge`);
    assert.ok(link.flags.includes('UP'));
  }
  for (const s of sandboxes) {
    const res = ping(s.name, '10.96.0.1');
    assert.ok(res.ok, `ping from ${s.name} through the bridge after recreate: ${res.out}`);
  }
  assert.ok(ping(sandboxes[0]!.name, sandboxes[1]!.ip).ok, 'the sandboxes reach each other');

  assert.deepEqual(await nsboxJson(root, 'restore'), sandboxes.map((s) => ({ name: s.name, status: 'adopted', detail: '1 interface(s)' })));
  await nsboxOk(root, 'rm', '--all');
  assert.deepEqual(await nsboxJson(root, 'ls'), []);
});
