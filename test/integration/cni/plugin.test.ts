/**
 * Integration (root, throwaway host): the nsbox-cni bin run as a runtime runs it (CNI_*
 * environment, the config on stdin, a namespace the "runtime" made with `ip netns add`), over
 * nsbox's own IPAM and a bridge network made from the config. ADD gives the container
 * CNI_IFNAME with the result's address, a default route with isDefaultGateway, and it pings
 * its gateway and another container; results checked in 1.0.0 and 0.4.0 shapes; `nsbox ls`
 * shows the attachments. DEL leaves nothing (records, leases, host links, the container's
 * interface), twice, and after the namespace was deleted. A failed ADD (pool exhausted, a bad
 * subnet, a config contradicting the network) leaves nothing. CHECK passes, then fails with
 * 101 once the interface is gone, and with 3 for an attachment nsbox never made. GC removes the
 * attachments of its network that are not valid (and nothing else), twice; STATUS is 50 while
 * the pool is exhausted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rootForTest, type NetworkJson, type NsboxRoot, type SandboxJson } from '../../helpers/cli.js';
import { addressesIn, cni, cniAsync, cniFails as fails, cniOk as ok, ipJson, pingFrom, runtimeNetns } from '../../helpers/cni-plugin.js';
import { links } from '../../helpers/host-links.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { randomName } from '../../helpers/names.js';

function conf(network: string, subnet: string, extra: Record<string, unknown> = {}, cniVersion = '1.0.0'): Record<string, unknown> {
  return { cniVersion, name: network, type: 'nsbox-cni', bridge: `br${network}`.slice(0, 15), isGateway: true, isDefaultGateway: true, ipMasq: true, ipam: { type: 'nsbox', subnet }, ...extra };
}

interface Result {
  cniVersion: string;
  interfaces: { name: string; mac?: string; sandbox?: string }[];
  ips: { address: string; gateway?: string; interface?: number; version?: string }[];
  routes?: { dst: string; gw?: string }[];
}

/** The result's shape in its version, and what it says of the container interface. */
function checkResult(raw: Record<string, unknown> | undefined, version: string, ifname: string, netns: string, gateway: string): string {
  const result = raw as unknown as Result;
  assert.equal(result.cniVersion, version);
  const ip = result.ips[0]!;
  assert.equal(result.ips.length, 1);
  if (version.startsWith('1.')) assert.equal(ip.version, undefined);
  else assert.equal(ip.version, '4');
  assert.equal(ip.gateway, gateway);
  const iface = result.interfaces[ip.interface!]!;
  assert.equal(iface.name, ifname);
  assert.equal(iface.sandbox, netns);
  assert.match(iface.mac ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  for (const i of result.interfaces) assert.match(i.mac ?? '', /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, JSON.stringify(i));
  assert.deepEqual(result.routes, [{ dst: '0.0.0.0/0', gw: gateway }]);
  return ip.address;
}

const cniRecords = async (root: NsboxRoot): Promise<SandboxJson[]> => (await root.json<SandboxJson[]>('ls')).filter((s) => s.name.startsWith('cni-'));
const hostVeths = (): string[] => links().filter((l) => l.ifname.startsWith('vnsb')).map((l) => l.ifname);

test('ADD: the interface with the result\'s address, pings to the gateway and between containers; CHECK ok; DEL leaves nothing, twice', async (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const { cidr, base } = uniqueSubnet();
  const gateway = `${base}1`;
  const a = runtimeNetns(t);
  const b = runtimeNetns(t);
  const config = conf(net, cidr);
  const ra = ok(root, { command: 'ADD', containerId: 'ctr-a', netns: a.path, config });
  const rb = ok(root, { command: 'ADD', containerId: 'ctr-b', netns: b.path, config });
  const addrA = checkResult(ra, '1.0.0', 'eth0', a.path, gateway);
  const addrB = checkResult(rb, '1.0.0', 'eth0', b.path, gateway);
  assert.deepEqual(addressesIn(a.name, 'eth0'), [addrA]);
  assert.deepEqual(addressesIn(b.name, 'eth0'), [addrB]);
  const routes = ipJson<{ dst: string; gateway?: string }[]>(a.name, 'route', 'show');
  assert.ok(routes.some((r) => r.dst === 'default' && r.gateway === gateway), JSON.stringify(routes));
  assert.ok(pingFrom(a.name, gateway), 'a pings its gateway');
  assert.ok(pingFrom(a.name, addrB.split('/')[0]!), 'a pings b');
  assert.ok(pingFrom(b.name, addrA.split('/')[0]!), 'b pings a');

  const network = await root.network(net);
  assert.equal(network.bridge, config.bridge);
  assert.deepEqual(network.subnets, [{ subnet: cidr, gateway }]);
  assert.equal(network.leases.length, 2);
  const listed = await cniRecords(root);
  assert.equal(listed.length, 2);
  assert.ok(listed.every((s) => s.state === 'ready'), JSON.stringify(listed));

  ok(root, { command: 'CHECK', containerId: 'ctr-a', netns: a.path, config: { ...config, prevResult: ra } });

  for (const [id, ns] of [['ctr-a', a], ['ctr-b', b]] as const) {
    assert.equal(ok(root, { command: 'DEL', containerId: id, netns: ns.path, config }), undefined);
    assert.deepEqual(addressesIn(ns.name, 'eth0'), []);
    assert.ok(!ipJson<{ ifname: string }[]>(ns.name, 'link', 'show').some((l) => l.ifname === 'eth0'));
    ok(root, { command: 'DEL', containerId: id, netns: ns.path, config }); // twice
  }
  assert.deepEqual(await cniRecords(root), []);
  assert.deepEqual((await root.network(net)).leases, []);
  assert.deepEqual(hostVeths(), []);
  // The runtime's namespaces are still there: nsbox only pinned them.
  assert.doesNotThrow(() => execFileSync('ip', ['-n', a.name, 'link', 'show', 'lo']));
});

test('0.4.0 results; DEL after the namespace was deleted, and with CNI_NETNS empty, cleans up', async (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const { cidr, base } = uniqueSubnet();
  const a = runtimeNetns(t);
  const b = runtimeNetns(t);
  const config = conf(net, cidr, {}, '0.4.0');
  checkResult(ok(root, { command: 'ADD', containerId: 'ctr-a', netns: a.path, config }), '0.4.0', 'eth0', a.path, `${base}1`);
  checkResult(ok(root, { command: 'ADD', containerId: 'ctr-b', netns: b.path, ifname: 'net1', config }), '0.4.0', 'net1', b.path, `${base}1`);
  assert.equal(hostVeths().length, 2);
  execFileSync('ip', ['netns', 'del', a.name]);
  ok(root, { command: 'DEL', containerId: 'ctr-a', netns: a.path, config });
  ok(root, { command: 'DEL', containerId: 'ctr-b', netns: '', ifname: 'net1', config });
  assert.deepEqual(await cniRecords(root), []);
  assert.deepEqual((await root.network(net)).leases, []);
  assert.deepEqual(hostVeths(), []);
  assert.ok(!ipJson<{ ifname: string }[]>(b.name, 'link', 'show').some((l) => l.ifname === 'net1'));
});

test('a failed ADD leaves nothing: pool exhausted (100), a bad subnet (7), a config contradicting the network (7 naming the field), DEL of the unknown succeeds', async (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const { base } = uniqueSubnet();
  const a = runtimeNetns(t);
  const b = runtimeNetns(t);
  const small = conf(net, `${base}0/30`); // gateway .1, one host .2
  ok(root, { command: 'ADD', containerId: 'ctr-a', netns: a.path, config: small });
  const exhausted = fails(root, { command: 'ADD', containerId: 'ctr-b', netns: b.path, config: small }, 100);
  assert.match(String(exhausted.details), /NSBOX_ERR_EXHAUSTED/);
  assert.equal((await cniRecords(root)).length, 1);
  assert.equal((await root.network(net)).leases.length, 1);
  assert.equal(hostVeths().length, 1);
  assert.ok(!ipJson<{ ifname: string }[]>(b.name, 'link', 'show').some((l) => l.ifname === 'eth0'));
  ok(root, { command: 'DEL', containerId: 'ctr-b', netns: b.path, config: small }); // what the runtime does after a failed ADD

  const contradicting = fails(root, { command: 'ADD', containerId: 'ctr-b', netns: b.path, config: conf(net, `${base}0/29`) }, 7);
  assert.match(String(contradicting.msg), /ipam\.ranges/);
  const masq = fails(root, { command: 'ADD', containerId: 'ctr-b', netns: b.path, config: { ...small, ipMasq: false } }, 7);
  assert.match(String(masq.msg), /ipMasq/);

  const other = networkName();
  const bad = fails(root, { command: 'ADD', containerId: 'ctr-b', netns: b.path, config: conf(other, `${base}5/24`) }, 7);
  assert.match(String(bad.msg), /ipam\.subnet/);
  assert.equal((await root.json<NetworkJson[]>('network', 'ls')).filter((n) => n.name === other).length, 0);
  assert.equal((await cniRecords(root)).length, 1);
  assert.equal(hostVeths().length, 1);

  ok(root, { command: 'DEL', containerId: 'ctr-a', netns: a.path, config: small });
  assert.deepEqual(await cniRecords(root), []);
  assert.deepEqual(hostVeths(), []);
});

test('CHECK: ok, then 101 once the interface is gone, 3 for an attachment nsbox never made', async (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const { cidr } = uniqueSubnet();
  const a = runtimeNetns(t);
  const config = conf(net, cidr, {}, '1.1.0');
  const result = ok(root, { command: 'ADD', containerId: 'ctr-a', netns: a.path, config });
  const withPrev = { ...config, prevResult: result };
  ok(root, { command: 'CHECK', containerId: 'ctr-a', netns: a.path, config: withPrev });
  fails(root, { command: 'CHECK', containerId: 'ctr-other', netns: a.path, config: withPrev }, 3);
  execFileSync('ip', ['-n', a.name, 'link', 'del', 'eth0']);
  const gone = fails(root, { command: 'CHECK', containerId: 'ctr-a', netns: a.path, config: withPrev }, 101);
  assert.match(String(gone.details), /no interface eth0/);
  ok(root, { command: 'DEL', containerId: 'ctr-a', netns: a.path, config });
  assert.deepEqual(await cniRecords(root), []);
  assert.deepEqual(hostVeths(), []);
});

test('parallel ADDs on a network nobody made yet: one network, distinct addresses; nsbox gc keeps them, nsbox rm of one unpins and leaves the runtime\'s namespace', async (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const { cidr } = uniqueSubnet();
  const config = conf(net, cidr);
  const spaces = Array.from({ length: 6 }, () => runtimeNetns(t));
  const outcomes = await Promise.all(spaces.map((ns, i) => cniAsync(root, { command: 'ADD', containerId: `ctr-${i}`, netns: ns.path, config })));
  for (const o of outcomes) assert.equal(o.status, 0, `${o.stdout}${o.stderr}`);
  const addresses = outcomes.map((o) => (o.json as unknown as Result).ips[0]!.address);
  assert.equal(new Set(addresses).size, spaces.length);
  assert.equal((await root.json<NetworkJson[]>('network', 'ls')).filter((n) => n.name === net).length, 1);

  await root.ok('gc');
  const listed = await cniRecords(root);
  assert.equal(listed.length, spaces.length);
  const first = listed.find((s) => addressesIn(spaces[0]!.name, 'eth0').length > 0 && s.interfaces[0]?.options.ipv4 === addressesIn(spaces[0]!.name, 'eth0')[0])!;
  await root.ok('rm', first.name);
  assert.ok(!ipJson<{ ifname: string }[]>(spaces[0]!.name, 'link', 'show').some((l) => l.ifname === 'eth0'));
  assert.doesNotThrow(() => execFileSync('ip', ['-n', spaces[0]!.name, 'link', 'show', 'lo']));
  const dels = await Promise.all(spaces.map((ns, i) => cniAsync(root, { command: 'DEL', containerId: `ctr-${i}`, netns: ns.path, config })));
  for (const o of dels) assert.equal(o.status, 0, `${o.stdout}${o.stderr}`);
  assert.deepEqual(await cniRecords(root), []);
  assert.deepEqual((await root.network(net)).leases, []);
  assert.deepEqual(hostVeths(), []);
});

test('GC: removes the attachments of this network not in the valid list, and nothing else; twice is fine', async (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const other = networkName();
  const { cidr, base } = uniqueSubnet();
  const { cidr: otherCidr } = uniqueSubnet();
  const gateway = `${base}1`;
  const config = conf(net, cidr, {}, '1.1.0');
  const spaces = [runtimeNetns(t), runtimeNetns(t), runtimeNetns(t)];
  const results = spaces.map((ns, i) => ok(root, { command: 'ADD', containerId: `ctr-${i}`, netns: ns.path, config }));
  const addrs = results.map((r, i) => checkResult(r, '1.1.0', 'eth0', spaces[i]!.path, gateway));
  // The same container id and ifname on another network: not this GC's.
  const o = runtimeNetns(t);
  const otherConfig = conf(other, otherCidr, {}, '1.1.0');
  ok(root, { command: 'ADD', containerId: 'ctr-2', netns: o.path, config: otherConfig });
  // A sandbox nsbox made, on the same network.
  const plain = randomName();
  await root.json('create', plain);
  await root.ok('connect', net, plain);
  assert.equal((await root.network(net)).leases.length, 4);
  const vethsBefore = hostVeths().length;

  const gc = { ...config, 'cni.dev/valid-attachments': [{ containerID: 'ctr-0', ifname: 'eth0' }], 'cni.dev/attachments': [{ containerID: 'ctr-1', ifname: 'eth0' }] };
  for (let round = 0; round < 2; round++) {
    assert.equal(ok(root, { command: 'GC', config: gc }), undefined);
    assert.ok(!ipJson<{ ifname: string }[]>(spaces[2]!.name, 'link', 'show').some((l) => l.ifname === 'eth0'), 'the third\'s interface is gone');
    const leases = (await root.network(net)).leases;
    assert.equal(leases.length, 3, JSON.stringify(leases));
    assert.ok(!leases.some((l) => l.address === addrs[2]!.split('/')[0]), JSON.stringify(leases));
    assert.equal(hostVeths().length, vethsBefore - 1);
    const names = (await root.json<SandboxJson[]>('ls')).map((s) => s.name).sort();
    assert.equal(names.filter((n) => n.startsWith('cni-')).length, 3);
    assert.ok(names.includes(plain));
    for (const i of [0, 1]) assert.ok(pingFrom(spaces[i]!.name, gateway), `ctr-${i} still pings its gateway`);
    assert.deepEqual(addressesIn(o.name, 'eth0').length, 1);
    assert.equal((await root.network(other)).leases.length, 1);
  }
  // The runtime's namespace of the removed attachment is still there: only unpinned.
  assert.doesNotThrow(() => execFileSync('ip', ['-n', spaces[2]!.name, 'link', 'show', 'lo']));
  // A GC with nothing to do on a network nsbox never saw.
  ok(root, { command: 'GC', config: { ...conf(networkName(), uniqueSubnet().cidr, {}, '1.1.0'), 'cni.dev/valid-attachments': [] } });

  for (const i of [0, 1]) ok(root, { command: 'DEL', containerId: `ctr-${i}`, netns: spaces[i]!.path, config });
  ok(root, { command: 'DEL', containerId: 'ctr-2', netns: o.path, config: otherConfig });
  await root.ok('rm', plain);
  assert.deepEqual(await cniRecords(root), []);
  assert.deepEqual(hostVeths(), []);
});

test('STATUS: ok on a network not made yet and with room; 50 once the /30 pool is exhausted; ok again after a DEL', (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const { base } = uniqueSubnet();
  const small = conf(net, `${base}0/30`, {}, '1.1.0'); // gateway .1, one host .2
  const a = runtimeNetns(t);
  ok(root, { command: 'STATUS', config: small });
  assert.equal(cni(root, { command: 'STATUS', config: small }).stdout, '');
  ok(root, { command: 'ADD', containerId: 'ctr-a', netns: a.path, config: small });
  const full = fails(root, { command: 'STATUS', config: small }, 50);
  assert.equal(full.cniVersion, '1.1.0');
  assert.match(String(full.details), new RegExp(`${base.replaceAll('.', '\\.')}0/30`));
  ok(root, { command: 'DEL', containerId: 'ctr-a', netns: a.path, config: small });
  ok(root, { command: 'STATUS', config: small });
});
