/**
 * Integration (root, throwaway host): bridge networks end to end through the CLI. Sandboxes
 * on one network reach each other (ICMP and TCP), sandboxes on different networks do not,
 * the host reaches them through the bridge gateway; MACs derive from the IPv4 address, the
 * network MTU lands on both veth ends, --internal leaves no default route. Checked with
 * `ip -j` in the host and `ip -n NAME` in the sandboxes, and with `nsbox --json`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ipAddrs, ipJson, ipRoutes } from '../../helpers/iproute.js';
import { finished, rootForTest, waitForOutput, type NsboxRoot } from '../../helpers/cli.js';
import { links } from '../../helpers/host-links.js';
import { randomName } from '../../helpers/names.js';
import { hostPing, networkName, uniqueSubnet } from '../../helpers/networks.js';

const NODE = process.execPath;

/** `nsbox --json connect NET NAME [args…]`: the interface row. */
async function connect(r: NsboxRoot, net: string, name: string, ...args: string[]): Promise<{ dstName: string; ipv4: string; mac: string }> {
  const out = await r.json<{ interface: { dstName: string; options: { ipv4?: string; mac?: string } } }>('connect', net, name, ...args);
  return { dstName: out.interface.dstName, ipv4: out.interface.options.ipv4!.split('/')[0]!, mac: out.interface.options.mac! };
}

/** A bridge network with a fresh /24 and `count` sandboxes connected to it. */
async function networkWith(r: NsboxRoot, count: number, ...createArgs: string[]): Promise<{ net: string; base: string; sandboxes: { name: string; ipv4: string; mac: string; dstName: string }[] }> {
  const net = networkName();
  const { cidr, base } = uniqueSubnet();
  await r.json('network', 'create', net, '--subnet', cidr, ...createArgs);
  const sandboxes = [];
  for (let i = 0; i < count; i++) {
    const name = randomName();
    await r.json('create', name);
    sandboxes.push({ name, ...(await connect(r, net, name)) });
  }
  return { net, base, sandboxes };
}

test('two sandboxes on one bridge network ping each other and talk TCP', async (t) => {
  const r = rootForTest(t);
  const { net, base, sandboxes: [a, b] } = await networkWith(r, 2);
  assert.ok(a && b);
  assert.deepEqual([a.ipv4, b.ipv4], [`${base}2`, `${base}3`], 'the first free addresses after the gateway');
  const info = await r.network(net);
  assert.deepEqual(info.leases.map((l) => [l.address, l.sandbox, l.ifname]).sort(), [[a.ipv4, a.name, 'eth0'], [b.ipv4, b.name, 'eth0']].sort());
  for (const s of [a, b]) {
    assert.deepEqual(ipAddrs(s.name, 'eth0').filter((x) => x.family === 'inet').map((x) => `${x.local}/${x.prefixlen}`), [`${s.ipv4}/24`]);
  }
  const bridge = links().find((l) => l.ifname === info.bridge);
  assert.equal(bridge?.linkinfo?.info_kind, 'bridge');
  assert.equal(links().filter((l) => l.master === info.bridge).length, 2, 'two veth ends on the bridge');

  const ping = await r.run('exec', a.name, '--', 'ping', '-c', '1', '-W', '2', b.ipv4);
  assert.equal(ping.code, 0, `ping ${a.name} -> ${b.ipv4}: ${ping.stdout}${ping.stderr}`);
  assert.match(ping.stdout, /1 received/);

  const server = r.start(['exec', b.name, '--', NODE, '-e',
    "require('net').createServer((s) => s.end('hi from ' + s.localAddress)).listen(7777, '0.0.0.0', () => console.log('listening'))"]);
  const serverDone = finished(server);
  try {
    await waitForOutput(server, 'stdout', 'listening');
    const client = await r.run('exec', a.name, '--', NODE, '-e',
      `const s = require('net').connect(7777, ${JSON.stringify(b.ipv4)}); let d = ''; s.on('data', (x) => { d += x; });
       s.on('end', () => console.log(d + ' to ' + s.localAddress)); s.on('error', (e) => { console.error(e.message); process.exit(3); });`);
    assert.equal(client.code, 0, client.stderr);
    assert.equal(client.stdout.trim(), `hi from ${b.ipv4} to ${a.ipv4}`);
  } finally {
    server.kill('SIGTERM');
  }
  const ended = await serverDone;
  assert.equal(ended.signal, 'SIGTERM', 'exec forwarded SIGTERM to the server and died of it');
});

test('sandboxes on different networks cannot reach each other, although the host forwards', async (t) => {
  const r = rootForTest(t);
  const one = await networkWith(r, 1);
  const two = await networkWith(r, 1);
  // Making a bridge network turned forwarding on (NAT needs it): isolation is the firewall's.
  assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), '1', 'the host forwards');
  const a = one.sandboxes[0]!;
  const b = two.sandboxes[0]!;
  const same = await r.run('exec', a.name, '--', 'ping', '-c', '1', '-W', '2', `${one.base}1`);
  assert.equal(same.code, 0, `its own gateway answers: ${same.stdout}`);
  for (const [from, to] of [[a, b], [b, a]] as const) {
    const res = await r.run('exec', from.name, '--', 'ping', '-c', '1', '-W', '1', to.ipv4);
    assert.notEqual(res.code, 0, `${from.name} reached ${to.ipv4}: ${res.stdout}`);
    assert.match(res.stdout, /0 received/);
  }
});

test('the host reaches a sandbox through the bridge gateway', async (t) => {
  const r = rootForTest(t);
  const { net, base, sandboxes: [a] } = await networkWith(r, 1);
  const info = await r.network(net);
  assert.deepEqual(ipAddrs(undefined, info.bridge!).filter((x) => x.family === 'inet').map((x) => `${x.local}/${x.prefixlen}`), [`${base}1/24`]);
  const [route] = ipJson<{ dev: string; prefsrc: string }[]>(undefined, 'route', 'get', a!.ipv4);
  assert.deepEqual([route?.dev, route?.prefsrc], [info.bridge, `${base}1`], 'the host routes to it out of the bridge, from the gateway');
  const res = hostPing(a!.ipv4);
  assert.ok(res.ok, res.out);
  assert.deepEqual(ipRoutes(a!.name, 'main', 4).find((x) => x.dst === 'default')?.gateway, `${base}1`);
});

test('MAC from the IPv4 address, the network MTU on both veth ends, --internal gives no default route', async (t) => {
  const r = rootForTest(t);
  const { net, sandboxes: [a] } = await networkWith(r, 1, '--mtu', '1400', '--internal');
  const info = await r.network(net);
  assert.equal(info.mtu, 1400);
  assert.equal(info.internal, true);
  const inside = links(a!.name).find((l) => l.ifname === 'eth0');
  const octets = a!.ipv4.split('.').map((o) => Number(o).toString(16).padStart(2, '0'));
  assert.equal(inside?.address, `02:42:${octets.join(':')}`);
  assert.equal(a!.mac, inside?.address, 'the record holds the MAC the kernel has');
  assert.equal(inside?.mtu, 1400, 'sandbox end');
  assert.equal(inside?.linkinfo?.info_kind, 'veth');
  const hostEnd = links().filter((l) => l.master === info.bridge);
  assert.equal(hostEnd.length, 1);
  assert.equal(hostEnd[0]!.mtu, 1400, 'host end');
  assert.equal(hostEnd[0]!.linkinfo?.info_kind, 'veth');
  assert.equal(links().find((l) => l.ifname === info.bridge)?.mtu, 1400, 'bridge');
  assert.deepEqual(ipRoutes(a!.name, 'main', 4).map((x) => x.dst), [info.subnets[0]!.subnet], 'only the connected route');
  const sb = await r.sandbox(a!.name);
  assert.equal(sb.gateway, null);
});

test('a dual-stack network leases an IPv4 and an IPv6 address, sets both gateways, and IPv6 reaches across', async (t) => {
  const r = rootForTest(t);
  const net = networkName();
  const { cidr, base } = uniqueSubnet();
  const v6 = `fd00:${base.split('.')[1]}:${base.split('.')[2]}::`;
  await r.json('network', 'create', net, '--subnet', cidr, '--subnet', `${v6}/64`, '--ipv6');
  const [a, b] = [randomName(), randomName()];
  await r.json('create', a);
  await r.json('create', b);
  const ca = await r.json<{ interface: { options: { ipv4: string; ipv6: string } } }>('connect', net, a);
  // Right after the first port came up, the host can already solicit a sandbox's address: the
  // bridge's link-local address is fe80::1 without DAD, not one the kernel makes tentative.
  const bridge6 = ipAddrs(undefined, (await r.network(net)).bridge!).filter((x) => x.family === 'inet6');
  assert.deepEqual(bridge6.filter((x) => x.scope === 'link').map((x) => `${x.local}/${x.prefixlen}`), ['fe80::1/64'], 'one link-local address, fixed');
  assert.deepEqual(bridge6.filter((x) => x.tentative === true).map((x) => x.local), [], 'no address of the bridge is tentative');
  const cb = await r.json<{ interface: { options: { ipv4: string; ipv6: string } } }>('connect', net, b, '--ip6', `${v6}99`);
  assert.deepEqual([ca.interface.options.ipv4, ca.interface.options.ipv6], [`${base}2/24`, `${v6}2/64`]);
  assert.deepEqual([cb.interface.options.ipv4, cb.interface.options.ipv6], [`${base}3/24`, `${v6}99/64`]);
  assert.deepEqual(ipAddrs(a, 'eth0').filter((x) => x.scope === 'global').map((x) => `${x.local}/${x.prefixlen}`), [`${base}2/24`, `${v6}2/64`]);
  assert.equal(ipRoutes(a, 'main', 6).find((x) => x.dst === 'default')?.gateway, `${v6}1`);
  assert.equal(ipRoutes(a, 'main', 4).find((x) => x.dst === 'default')?.gateway, `${base}1`);
  assert.deepEqual((await r.network(net)).leases.map((l) => l.address).sort(), [`${base}2`, `${base}3`, `${v6}2`, `${v6}99`].sort());
  const ping = await r.run('exec', a, '--', 'ping', '-6', '-c', '1', '-W', '2', `${v6}99`);
  assert.equal(ping.code, 0, `${ping.stdout}${ping.stderr}`);
  const fromHost = hostPing(`${v6}2`);
  assert.ok(fromHost.ok, `the host reaches a sandbox over IPv6: ${fromHost.out}`);
  const c = randomName();
  await r.json('create', c);
  assert.match((await r.fails(2, 'connect', net, c, '--ip6', '10.0.0.1')).error, /^invalid IPv6 address "10\.0\.0\.1"$/);
  assert.match((await r.fails(2, 'connect', net, c, '--ip6', 'fd99::2')).error, /^address fd99::2 is outside the subnet/);
  assert.match((await r.fails(4, 'connect', net, c, '--ip6', `${v6}99`)).error, /already in use/);
  assert.equal((await r.network(net)).leases.length, 4, 'the failed connects leased nothing');
});
