/**
 * Integration (root, throwaway host): bad input to network commands gets a clear error and
 * a documented exit code (2 usage, 3 not found, 4 conflict, 1 failure), and changes nothing:
 * the state (`nsbox --json ls`, `network ls`), the host's links and addresses (`ip -j`) and
 * the sandboxes' links (`ip -n NAME -j link`) are the same before and after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ip, ipJson } from '../../helpers/iproute.js';
import { rootForTest, type NsboxRoot } from '../../helpers/cli.js';
import { hostVethUp, links } from '../../helpers/host-links.js';
import { randomName } from '../../helpers/names.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';

/** Everything a failed command must leave as it was. */
async function snapshot(r: NsboxRoot, sandboxes: readonly string[]): Promise<unknown> {
  return {
    records: await r.json('ls'),
    networks: await r.json('network', 'ls'),
    hostLinks: links().map((l) => [l.ifname, l.master ?? null, l.linkinfo?.info_kind ?? null]),
    hostAddrs: ipJson<{ ifname: string; addr_info: { local: string }[] }[]>(undefined, 'addr', 'show').map((e) => [e.ifname, e.addr_info.map((a) => a.local)]),
    inside: sandboxes.map((s) => links(s).map((l) => l.ifname)),
    mounts: r.netnsMounts(),
    symlinks: r.netnsSymlinks(),
  };
}

/** A bridge network on a fresh /24 and a sandbox connected to it. */
async function setup(r: NsboxRoot, subnet?: string): Promise<{ net: string; base: string; a: string; b: string }> {
  const net = networkName();
  const s = uniqueSubnet();
  await r.json('network', 'create', net, '--subnet', subnet ?? s.cidr);
  const a = randomName();
  const b = randomName();
  await r.json('create', a);
  await r.json('create', b);
  await r.json('connect', net, a);
  return { net, base: s.base, a, b };
}

test('connect: unknown network (3), address outside the subnet or reserved (2, bad configuration), address in use (4), already connected (4)', async (t) => {
  const r = rootForTest(t);
  const { net, base, a, b } = await setup(r);
  const before = await snapshot(r, [a, b]);
  const cases: [number, string, RegExp, string[]][] = [
    [3, 'NSBOX_ERR_NOT_FOUND', /no network named "nope"/, ['connect', 'nope', b]],
    [3, 'NSBOX_ERR_NOT_FOUND', /no sandbox named "nope"/, ['connect', net, 'nope']],
    [2, 'NSBOX_ERR_CONFIG', new RegExp(`address 10\\.250\\.0\\.5 is outside the subnet ${base.replaceAll('.', '\\.')}0/24`), ['connect', net, b, '--ip', '10.250.0.5']],
    [2, 'NSBOX_ERR_CONFIG', /is the gateway of/, ['connect', net, b, '--ip', `${base}1`]],
    [2, 'NSBOX_ERR_CONFIG', /is the network address of/, ['connect', net, b, '--ip', `${base}0`]],
    [2, 'NSBOX_ERR_CONFIG', /is the broadcast address of/, ['connect', net, b, '--ip', `${base}255`]],
    [2, 'NSBOX_ERR_CONFIG', /invalid IPv4 address "banana"/, ['connect', net, b, '--ip', 'banana']],
    [4, 'NSBOX_ERR_IN_USE', new RegExp(`address ${base.replaceAll('.', '\\.')}2 is already in use on network ${net}`), ['connect', net, b, '--ip', `${base}2`]],
    [4, 'NSBOX_ERR_EXISTS', new RegExp(`already connected to ${net}`), ['connect', net, a]],
  ];
  for (const [exit, code, message, args] of cases) {
    const err = await r.fails(exit, ...args);
    assert.equal(err.code, code, args.join(' '));
    assert.match(err.error, message, args.join(' '));
    assert.deepEqual(await snapshot(r, [a, b]), before, `${args.join(' ')} changed nothing`);
  }
});

test('run with a bad --ip fails like connect and leaves no sandbox behind', async (t) => {
  const r = rootForTest(t);
  const { net, base, a, b } = await setup(r);
  const before = await snapshot(r, [a, b]);
  const outside = await r.fails(2, 'run', '--network', net, '--ip', '10.250.0.5', '--', 'true');
  assert.match(outside.error, /outside the subnet/);
  assert.deepEqual(await snapshot(r, [a, b]), before);
  const inUse = await r.fails(4, 'run', '--network', net, '--ip', `${base}2`, '--', 'true');
  assert.match(inUse.error, /already in use/);
  assert.deepEqual(await snapshot(r, [a, b]), before);
  const notIp = await r.fails(2, 'run', '--network', net, '--ip', 'banana', '--', 'true');
  assert.match(notIp.error, /invalid --ip "banana"/);
  assert.deepEqual(await snapshot(r, [a, b]), before);
});

test('network create: missing macvlan parent (2), overlapping subnets (2), bad subnet (2), duplicate name (4)', async (t) => {
  const r = rootForTest(t);
  const { net, base, a, b } = await setup(r);
  const before = await snapshot(r, [a, b]);
  const other = uniqueSubnet().cidr;
  const cases: [number, RegExp, string[]][] = [
    [2, /parent interface nope not found in the host/, ['network', 'create', networkName(), '--driver', 'macvlan', '--parent', 'nope', '--subnet', other]],
    [2, /a macvlan network needs --parent/, ['network', 'create', networkName(), '--driver', 'macvlan', '--subnet', other]],
    [2, new RegExp(`overlaps ${base.replaceAll('.', '\\.')}0/24 of network ${net}`), ['network', 'create', networkName(), '--subnet', `${base}128/25`]],
    [2, /overlaps/, ['network', 'create', networkName(), '--subnet', `${base.split('.').slice(0, 2).join('.')}.0.0/16`]],
    [2, /host bits are set \(the network is /, ['network', 'create', networkName(), '--subnet', `${base}1/24`]],
    [2, /too small/, ['network', 'create', networkName(), '--subnet', `${base}0/31`]],
    [2, /invalid subnet "nonsense"/, ['network', 'create', networkName(), '--subnet', 'nonsense']],
    [2, /invalid MTU/, ['network', 'create', networkName(), '--subnet', other, '--mtu', '20']],
    [2, /invalid network name/, ['network', 'create', 'bad/name', '--subnet', other]],
    [4, new RegExp(`a network named ${net} already exists`), ['network', 'create', net, '--subnet', other]],
  ];
  for (const [exit, message, args] of cases) {
    const err = await r.fails(exit, ...args);
    assert.match(err.error, message, args.join(' '));
    assert.deepEqual(await snapshot(r, [a, b]), before, `${args.join(' ')} changed nothing`);
  }
});

test('network create refuses a subnet a host route already covers (2)', async (t) => {
  const r = rootForTest(t);
  const veth = hostVethUp(t, 'nsbtO', 'p');
  const s = uniqueSubnet();
  ip(undefined, 'addr', 'add', `${s.base}1/24`, 'dev', veth);
  const before = await snapshot(r, []);
  const err = await r.fails(2, 'network', 'create', networkName(), '--subnet', s.cidr);
  assert.match(err.error, new RegExp(`overlaps the host route ${s.cidr.replaceAll('.', '\\.')} on ${veth}`));
  assert.deepEqual(await snapshot(r, []), before);
});

test('an exhausted subnet: a /30 has one address after the gateway; the second connect fails clearly (4, a conflict)', async (t) => {
  const r = rootForTest(t);
  const s = uniqueSubnet();
  const net = networkName();
  await r.json('network', 'create', net, '--subnet', `${s.base}4/30`);
  const [a, b] = [randomName(), randomName()];
  await r.json('create', a);
  await r.json('create', b);
  const first = await r.json<{ interface: { options: { ipv4: string } } }>('connect', net, a);
  assert.equal(first.interface.options.ipv4, `${s.base}6/30`, 'the only address: .5 is the gateway, .7 the broadcast');
  const before = await snapshot(r, [a, b]);
  const err = await r.fails(4, 'connect', net, b);
  assert.equal(err.code, 'NSBOX_ERR_EXHAUSTED');
  assert.equal(err.error, `network ${net} has no free address left in ${s.base}4/30`);
  assert.deepEqual(await snapshot(r, [a, b]), before);
  // Freed, it can be leased again.
  await r.ok('disconnect', net, a);
  const second = await r.json<{ interface: { options: { ipv4: string } } }>('connect', net, b);
  assert.equal(second.interface.options.ipv4, `${s.base}6/30`);
});

test('network rm while in use fails (4) and keeps the network and its bridge; inspect of an unknown network (3)', async (t) => {
  const r = rootForTest(t);
  const { net, a, b } = await setup(r);
  const before = await snapshot(r, [a, b]);
  const err = await r.fails(4, 'network', 'rm', net);
  assert.equal(err.code, 'NSBOX_ERR_IN_USE');
  assert.match(err.error, new RegExp(`network ${net} is in use by ${a}; disconnect them first`));
  assert.deepEqual(await snapshot(r, [a, b]), before);
  const unknown = await r.fails(3, 'network', 'inspect', 'nope');
  assert.equal(unknown.code, 'NSBOX_ERR_NOT_FOUND');
  // Once nobody uses it, it goes, with its bridge.
  const bridge = (await r.network(net)).bridge!;
  await r.ok('disconnect', net, a);
  await r.ok('network', 'rm', net);
  assert.ok(!links().some((l) => l.ifname === bridge), 'the bridge is gone');
  assert.deepEqual(await r.json('network', 'ls'), []);
});
