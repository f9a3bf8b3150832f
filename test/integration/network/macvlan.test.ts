/**
 * Integration (root, throwaway host): macvlan networks. The parent is one end of a veth pair
 * (this kernel has no dummy driver). Each connected sandbox gets a macvlan link in bridge
 * mode on the parent, made inside it, with its leased address and the MAC derived from it;
 * two such sandboxes reach each other. Checked with `ip -n NAME -j -d link/addr` and
 * `nsbox --json network inspect`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ip, ipAddrs, ipRoutes } from '../../helpers/iproute.js';
import { rootForTest } from '../../helpers/cli.js';
import { hostLinkNames, hostVethUp, links } from '../../helpers/host-links.js';
import { randomName } from '../../helpers/names.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';

test('macvlan: two sandboxes get bridge-mode macvlan links on the parent with their addresses and ping each other', async (t) => {
  const r = rootForTest(t);
  const parent = hostVethUp(t, 'nsbtP', 'b');
  ip(undefined, 'link', 'set', `${parent}b`, 'up');
  const parentIndex = links().find((l) => l.ifname === parent)!.ifindex;

  const net = networkName();
  const { cidr, base } = uniqueSubnet();
  const created = await r.json<{ driver: string; parent: string; macvlanMode: string; bridge: string | null }>(
    'network', 'create', net, '--driver', 'macvlan', '--parent', parent, '--subnet', cidr);
  assert.deepEqual([created.driver, created.parent, created.macvlanMode, created.bridge], ['macvlan', parent, 'bridge', null]);
  const hostBefore = hostLinkNames().sort();

  const sandboxes = [randomName(), randomName()];
  const addrs: string[] = [];
  for (const name of sandboxes) {
    await r.json('create', name);
    const out = await r.json<{ interface: { dstName: string; options: { ipv4: string; mac: string } } }>('connect', net, name);
    assert.equal(out.interface.dstName, 'eth0');
    addrs.push(out.interface.options.ipv4.split('/')[0]!);
  }
  assert.deepEqual(addrs, [`${base}2`, `${base}3`]);
  for (const [i, name] of sandboxes.entries()) {
    const eth0 = links(name).find((l) => l.ifname === 'eth0');
    assert.equal(eth0?.linkinfo?.info_kind, 'macvlan', `${name}: a macvlan link`);
    assert.equal(eth0?.linkinfo?.info_data?.mode, 'bridge', `${name}: in bridge mode`);
    assert.equal(eth0?.link_netnsid !== undefined, true, 'its lower link is in another namespace (the host)');
    assert.ok(eth0?.flags.includes('UP'));
    const octets = addrs[i]!.split('.').map((o) => Number(o).toString(16).padStart(2, '0'));
    assert.equal(eth0?.address, `02:42:${octets.join(':')}`);
    assert.deepEqual(ipAddrs(name, 'eth0').filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), [`${addrs[i]}/24`]);
    assert.deepEqual(ipRoutes(name, 'main', 4).find((x) => x.dst === 'default')?.gateway, `${base}1`);
  }
  // The lower link of each macvlan is the parent: `ip -d link` shows it by index in the host's namespace.
  const lower = ip(sandboxes[0], '-d', 'link', 'show', 'eth0');
  assert.match(lower, new RegExp(`eth0@if${parentIndex}:`), 'the parent is the lower device');
  assert.deepEqual(hostLinkNames().sort(), hostBefore, 'nothing made in the host');
  assert.deepEqual((await r.network(net)).leases.map((l) => [l.address, l.sandbox]).sort(), [[addrs[0], sandboxes[0]], [addrs[1], sandboxes[1]]].sort());

  const ping = await r.run('exec', sandboxes[0]!, '--', 'ping', '-c', '1', '-W', '2', addrs[1]!);
  assert.equal(ping.code, 0, `${ping.stdout}${ping.stderr}`);
  const back = await r.run('exec', sandboxes[1]!, '--', 'ping', '-c', '1', '-W', '2', addrs[0]!);
  assert.equal(back.code, 0, `${back.stdout}${back.stderr}`);

  await r.ok('disconnect', net, sandboxes[0]!);
  assert.deepEqual(links(sandboxes[0]).map((l) => l.ifname), ['lo'], 'disconnect deletes the macvlan');
  assert.deepEqual((await r.network(net)).leases.map((l) => l.sandbox), [sandboxes[1]]);
  await r.ok('rm', ...sandboxes);
  await r.ok('network', 'rm', net);
  assert.ok(hostLinkNames().includes(parent), 'the parent is not nsbox\'s to delete');
});
