/**
 * Integration (root, throwaway host): NAT, published ports and isolation with real traffic.
 * A namespace plays the outside world over a veth (192.0.2.254, 2001:db8::254; the host is
 * 192.0.2.1) and has no route back to any sandbox subnet, so only masqueraded traffic gets an
 * answer. Probe servers answer with the source address they saw (helpers/probe-servers.ts).
 * Checked: masquerade (and its opt-out, and internal networks), published TCP and UDP ports
 * reached from the outside, from the host's own addresses and 127.0.0.1, and from another
 * sandbox (hairpin); the ports gone with their sandbox; refusals (a port a host process holds,
 * a port published twice) that change nothing; `nsbox gc` rebuilding a table someone flushed;
 * a foreign table untouched throughout.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Nft } from '../../../src/netlink/nftables/ops/index.js';
import { ip } from '../../helpers/iproute.js';
import { makeNetns } from '../../helpers/netns.js';
import { HOST_ADDRESS, HOST_ADDRESS6, WORLD_ADDRESS, WORLD_ADDRESS6, makeWorld, type World } from '../../helpers/world.js';
import { rootForTest, waitForOutput, type NsboxRoot } from '../../helpers/cli.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { clientArgv, serverArgv } from '../../helpers/probe-servers.js';

const HOST = HOST_ADDRESS;
const WORLD = WORLD_ADDRESS;
const HOST6 = HOST_ADDRESS6;
const WORLD6 = WORLD_ADDRESS6;
const WORLD_PORT = 9000;
let world: World;

/** A free-looking high port for this file (the kernel picks none here: tests name them). */
let nextPort = 20000 + Math.floor(Math.random() * 20000);
const port = (): number => nextPort++;

/** Run a probe client somewhere: `in` is a namespace name, or undefined for the host. */
function probe(where: string | undefined, proto: 'tcp' | 'udp', host: string, p: number, options?: { ms?: number; from?: number }): { ok: boolean; out: string } {
  const argv = clientArgv(proto, host, p, options);
  const res = where === undefined ? spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' }) : spawnSync('ip', ['netns', 'exec', where, ...argv], { encoding: 'utf8' });
  return { ok: res.status === 0, out: `${res.stdout}${res.stderr}`.trim() };
}

before(async () => {
  world = makeWorld();
  await world.serve(serverArgv('world', WORLD_PORT));
});

after(() => world.dispose());

async function network(r: NsboxRoot, ...flags: string[]): Promise<{ name: string; base: string }> {
  const s = uniqueSubnet();
  const name = networkName();
  await r.ok('network', 'create', name, '--subnet', s.cidr, ...flags);
  return { name, base: s.base };
}

/** br_netfilter's call-iptables knobs of the throwaway host set for one test (nsbox never touches them: it must work both ways). */
function brNetfilter(t: TestContext, on: boolean): void {
  const knobs = ['bridge-nf-call-iptables', 'bridge-nf-call-ip6tables'].map((k) => `/proc/sys/net/bridge/${k}`);
  const before = knobs.map((k) => readFileSync(k, 'utf8').trim());
  t.after(() => knobs.forEach((k, i) => writeFileSync(k, before[i]!)));
  for (const k of knobs) writeFileSync(k, on ? '1' : '0');
}

for (const brnf of [false, true]) {
const mode = `br_netfilter ${brnf ? 'on' : 'off'}`;

test(`masquerade: a sandbox reaches the outside as the host; not with --no-masquerade, nor from an internal network (${mode})`, async (t) => {
  brNetfilter(t, brnf);
  const r = rootForTest(t);
  const nat = await network(r);
  for (const proto of ['tcp', 'udp'] as const) {
    const res = await r.run('run', '--network', nat.name, '--', ...clientArgv(proto, WORLD, WORLD_PORT));
    assert.equal(res.code, 0, `${proto}: ${res.stdout}${res.stderr}`);
    assert.equal(res.stdout.trim(), `world peer=${HOST}`, `${proto}: the outside sees the host's address`);
  }
  const routed = await network(r, '--no-masquerade');
  const plain = await r.run('run', '--network', routed.name, '--', ...clientArgv('tcp', WORLD, WORLD_PORT));
  assert.notEqual(plain.code, 0, 'unmasqueraded, the outside cannot answer (it has no route back)');
  assert.equal(plain.stdout.trim(), 'timeout');
  const internal = await network(r, '--internal');
  const none = await r.run('run', '--network', internal.name, '--', ...clientArgv('tcp', WORLD, WORLD_PORT));
  assert.notEqual(none.code, 0);
  assert.match(none.stdout, /timeout|error ENETUNREACH/, 'no way out');
});

test(`published ports: TCP and UDP from the outside, from the host and 127.0.0.1, and from another sandbox; gone with the sandbox (${mode})`, async (t) => {
  brNetfilter(t, brnf);
  const r = rootForTest(t);
  const net = await network(r);
  const tcp = port();
  const udp = port();
  const web = r.start(['run', '--name', `web${tcp}`, '--network', net.name, '-p', `${tcp}:80`, '-p', `${udp}:80/udp`, '--', ...serverArgv('web', 80)]);
  await waitForOutput(web, 'stdout', 'ready');
  const gateway = `${net.base}1`;
  const expect: [string | undefined, 'tcp' | 'udp', string, number, RegExp][] = [
    [world.name, 'tcp', HOST, tcp, new RegExp(`^web peer=${WORLD}$`)],
    [world.name, 'udp', HOST, udp, new RegExp(`^web peer=${WORLD}$`)],
    [undefined, 'tcp', HOST, tcp, /^web peer=/],
    [undefined, 'tcp', '127.0.0.1', tcp, new RegExp(`^web peer=${gateway.replaceAll('.', '\\.')}$`)],
  ];
  for (const [where, proto, host, p, answer] of expect) {
    const res = probe(where, proto, host, p);
    assert.match(res.out, answer, `${where ?? 'host'} -> ${host}:${p}/${proto}`);
  }
  const hairpin = await r.run('run', '--network', net.name, '--', ...clientArgv('tcp', HOST, tcp));
  assert.match(hairpin.stdout.trim(), /^web peer=/, `a sandbox of the same network reaches the published port: ${hairpin.stdout}${hairpin.stderr}`);
  const listed = await r.json<{ sandbox: string; protocol: string; hostPort: number; port: number; state: string }[]>('port', 'ls');
  assert.deepEqual(listed.map((p) => [p.protocol, p.hostPort, p.port, p.state]).sort(), [['tcp', tcp, 80, 'active'], ['udp', udp, 80, 'active']]);
  // An unpublished port of the sandbox is not reachable from outside, even with a route to it.
  ip(world.name, 'route', 'add', `${net.base}0/24`, 'via', HOST);
  try {
    const sandboxIp = (await r.sandbox(`web${tcp}`)).interfaces[0]!.options.ipv4!.split('/')[0]!;
    assert.equal(probe(world.name, 'tcp', sandboxIp, 80).out, 'timeout', 'no direct access from outside');
  } finally {
    ip(world.name, 'route', 'del', `${net.base}0/24`);
  }
  web.kill('SIGTERM');
  await once(web, 'exit');
  assert.deepEqual(await r.json('port', 'ls'), [], 'the ports went with the sandbox');
  assert.doesNotMatch(probe(world.name, 'tcp', HOST, tcp).out, /^web/, 'and the mapping with them');
});

test(`isolation: networks cannot reach each other although the host forwards, only each other's published ports; inside a network all is open (${mode})`, async (t) => {
  brNetfilter(t, brnf);
  const r = rootForTest(t);
  const a = await network(r);
  const b = await network(r);
  const p = port();
  const name = `srv${p}`;
  const srv = r.start(['run', '--name', name, '--network', b.name, '-p', `${p}:80`, '--', ...serverArgv('b', 80)]);
  await waitForOutput(srv, 'stdout', 'ready');
  const bIp = (await r.sandbox(name)).interfaces[0]!.options.ipv4!.split('/')[0]!;
  assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), '1', 'the host forwards');
  const direct = await r.run('run', '--network', a.name, '--', ...clientArgv('tcp', bIp, 80));
  assert.equal(direct.stdout.trim(), 'timeout', 'A cannot open a connection into B');
  const published = await r.run('run', '--network', a.name, '--', ...clientArgv('tcp', HOST, p));
  assert.match(published.stdout.trim(), new RegExp(`^b peer=${a.base.replaceAll('.', '\\.')}\\d+$`), 'A reaches B\'s published port, seen with its own address');
  const inside = await r.run('run', '--network', b.name, '--', ...clientArgv('tcp', bIp, 80));
  assert.match(inside.stdout.trim(), /^b peer=/, 'inside B, directly');
  const back = await r.run('run', '--network', b.name, '--', 'sh', '-c', `ping -c 1 -W 1 ${a.base}1 >/dev/null && echo gateway`);
  assert.equal(back.stdout.trim(), 'gateway', 'a sandbox still reaches the host side of another network (the host, not the network)');
  srv.kill('SIGTERM');
  await once(srv, 'exit');
});
}

test('IPv6: masquerade to the outside and a port published on [::], with forwarding turned on safely', async (t) => {
  const r = rootForTest(t);
  const name = networkName();
  const v4 = uniqueSubnet();
  const v6 = `fd${randomBytes(1).toString('hex')}:${randomBytes(2).toString('hex')}::/64`;
  await r.ok('network', 'create', name, '--subnet', v4.cidr, '--ipv6', '--subnet', v6);
  assert.equal(readFileSync('/proc/sys/net/ipv6/conf/all/forwarding', 'utf8').trim(), '1');
  const out = await r.run('run', '--network', name, '--', ...clientArgv('tcp', WORLD6, WORLD_PORT));
  assert.equal(out.stdout.trim(), `world peer=${HOST6}`, `masqueraded as the host: ${out.stderr}`);
  const p = port();
  const q = port();
  const web = r.start(['run', '--network', name, '-p', `[::]:${p}:80`, '-p', `0.0.0.0:${q}:80`, '--', ...serverArgv('web6', 80)]);
  await waitForOutput(web, 'stdout', 'ready');
  assert.equal(probe(world.name, 'tcp', HOST6, p).out, `web6 peer=${WORLD6}`, 'from the outside over IPv6');
  assert.equal(probe(world.name, 'udp', HOST6, p).ok, false, 'only TCP was published');
  assert.doesNotMatch(probe(world.name, 'tcp', HOST, p).out, /^web6/, '[::] is IPv6 only');
  assert.equal(probe(world.name, 'tcp', HOST, q).out, `web6 peer=${WORLD}`, '0.0.0.0 is every IPv4 address');
  assert.doesNotMatch(probe(world.name, 'tcp', HOST6, q).out, /^web6/, 'and IPv4 only');
  web.kill('SIGTERM');
  await once(web, 'exit');
});

test('a frame from the wire for 127.0.0.1 is never DNATed (moby#41872); a port published on 127.0.0.1 is not reachable on other addresses', async (t) => {
  const r = rootForTest(t);
  const net = await network(r);
  const p = port();
  const web = r.start(['run', '--network', net.name, '-p', `127.0.0.1:${p}:80`, '--', ...serverArgv('local', 80)]);
  await waitForOutput(web, 'stdout', 'ready');
  assert.match(probe(undefined, 'tcp', '127.0.0.1', p).out, /^local peer=/, 'the host reaches it on 127.0.0.1');
  assert.doesNotMatch(probe(world.name, 'tcp', HOST, p).out, /^local/, 'not on the host\'s other addresses');
  // An attacker next to the host sends a SYN for 127.0.0.1 to it, as anyone on the LAN can: its
  // lo is down (no local 127/8 routes), a route sends 127/8 to the host, and route_localnet
  // lets it put 127/8 on the wire.
  const seen: string[] = [];
  web.stdout.on('data', (d: Buffer) => seen.push(String(d)));
  using attacker = makeNetns();
  const link = `nsbat${attacker.name.slice(-6)}`;
  ip(undefined, 'link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', attacker.name);
  ip(undefined, 'addr', 'add', '198.51.100.1/24', 'dev', link);
  ip(undefined, 'link', 'set', link, 'up');
  ip(attacker.name, 'addr', 'add', '198.51.100.66/24', 'dev', 'eth0');
  ip(attacker.name, 'link', 'set', 'eth0', 'up');
  ip(attacker.name, 'route', 'add', '127.0.0.0/8', 'via', '198.51.100.1');
  spawnSync('ip', ['netns', 'exec', attacker.name, 'sysctl', '-qw', 'net.ipv4.conf.eth0.route_localnet=1']);
  assert.equal(probe(attacker.name, 'tcp', '198.51.100.1', WORLD_PORT).out, 'error ECONNREFUSED', 'the attacker reaches the host');
  assert.equal(probe(attacker.name, 'tcp', '127.0.0.1', p).out, 'timeout', 'the spoofed SYN got nowhere');
  await new Promise((resolve) => setTimeout(resolve, 200)); // the server's log, if it saw anything
  assert.deepEqual(seen.join('').split('\n').filter((l) => l.includes('198.51.100.')), [], 'the sandbox never saw the attacker');
  web.kill('SIGTERM');
  await once(web, 'exit');
});

test('a UDP flow that reached the host before a port was published goes to the sandbox right after (its conntrack entry is dropped)', async (t) => {
  const r = rootForTest(t);
  const net = await network(r);
  const name = `udp${port()}`;
  const srv = r.start(['run', '--keep', '--name', name, '--network', net.name, '--', ...serverArgv('udp', 80)]);
  await waitForOutput(srv, 'stdout', 'ready');
  const p = port();
  const from = port();
  const flow = (): string => probe(world.name, 'udp', HOST, p, { from, ms: 700 }).out;
  assert.equal(flow(), 'timeout', 'nothing listens on the host');
  await r.ok('port', 'add', name, `${p}:80/udp`);
  assert.equal(flow(), `udp peer=${WORLD}`, 'the same flow (same source port) now reaches the sandbox');
  await r.ok('port', 'rm', name);
  assert.equal(flow(), 'timeout', 'and stops with the mapping');
  srv.kill('SIGTERM');
  await once(srv, 'exit');
});

test('refused, changing nothing: a port a host process holds (run -p, connect -p), a port already published', async (t) => {
  const r = rootForTest(t);
  const net = await network(r);
  const held = port();
  const server = createServer();
  server.listen({ port: held, host: '0.0.0.0' });
  await once(server, 'listening');
  try {
    const err = await r.fails(4, 'run', '--network', net.name, '-p', `${held}:80`, '--', 'true');
    assert.equal(err.code, 'NSBOX_ERR_IN_USE');
    assert.match(err.error, new RegExp(`host port 0\\.0\\.0\\.0:${held}/tcp is in use on the host`));
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const idle = `idle${held}`;
  await r.ok('create', idle);
  server.listen({ port: held, host: '0.0.0.0' });
  await once(server, 'listening');
  try {
    const err = await r.fails(4, 'connect', '-p', `${held}:80`, net.name, idle);
    assert.equal(err.code, 'NSBOX_ERR_IN_USE');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  assert.deepEqual((await r.sandbox(idle)).interfaces, [], 'the refused connect -p undid the connection');
  assert.deepEqual((await r.network(net.name)).leases, [], 'and released its address');
  await r.ok('rm', idle);
  const taken = port();
  const first = r.start(['run', '--network', net.name, '-p', `${taken}:80`, '--', ...serverArgv('first', 80)]);
  await waitForOutput(first, 'stdout', 'ready');
  const second = await r.fails(4, 'run', '--network', net.name, '-p', `${taken}:81`, '--', 'true');
  assert.equal(second.code, 'NSBOX_ERR_IN_USE');
  assert.equal((await r.json<unknown[]>('port', 'ls')).length, 1, 'only the first run\'s port');
  assert.equal((await r.json<unknown[]>('ls')).length, 1, 'the refused run left no sandbox');
  first.kill('SIGTERM');
  await once(first, 'exit');
});

test('bad input changes nothing: a bad spec, uneven ranges, a macvlan network, a host address this host does not have', async (t) => {
  const r = rootForTest(t);
  const net = await network(r);
  for (const [spec, why] of [
    ['80-81:80', /the host range 80-81 and the sandbox range 80 are not the same length/],
    ['8080:80/sctp', /protocol "sctp" is not tcp or udp/],
    ['70000:80', /host port 70000 is not between 1 and 65535/],
    ['::1:8080:80', /an IPv6 host address must be written in brackets/],
  ] as const) {
    const err = await r.fails(2, 'run', '--network', net.name, '-p', spec, '--', 'true');
    assert.equal(err.code, 'NSBOX_ERR_USAGE', spec);
    assert.match(err.error, why, spec);
  }
  const parent = `nsbmp${port()}`;
  ip(undefined, 'link', 'add', parent, 'type', 'veth', 'peer', 'name', `${parent}b`);
  t.after(() => ip(undefined, 'link', 'del', parent));
  const mv = networkName();
  await r.ok('network', 'create', mv, '--driver', 'macvlan', '--parent', parent, '--subnet', uniqueSubnet().cidr);
  const macvlan = await r.fails(2, 'run', '--network', mv, '-p', `${port()}:80`, '--', 'true');
  assert.equal(macvlan.code, 'NSBOX_ERR_CONFIG');
  assert.match(macvlan.error, /no address on a bridge network, so no port can be published to it \(macvlan/);
  const foreign = await r.fails(2, 'run', '--network', net.name, '-p', `203.0.113.9:${port()}:80`, '--', 'true');
  assert.match(foreign.error, /203\.0\.113\.9/);
  assert.deepEqual([await r.json('ls'), await r.json('port', 'ls'), (await r.network(mv)).leases, (await r.network(net.name)).leases], [[], [], [], []],
    'no sandbox, port or lease left');
});

test('port add and port rm on a running sandbox: reachable, then not; rm of what is gone succeeds', async (t) => {
  const r = rootForTest(t);
  const net = await network(r);
  const name = `live${port()}`;
  const web = r.start(['run', '--keep', '--name', name, '--network', net.name, '--', ...serverArgv('live', 80)]);
  await waitForOutput(web, 'stdout', 'ready');
  const p = port();
  assert.doesNotMatch(probe(world.name, 'tcp', HOST, p).out, /^live/, 'not published yet');
  assert.equal((await r.ok('port', 'add', name, `${p}:80`)).trim(), `0.0.0.0:${p}->80/tcp`);
  assert.match(probe(world.name, 'tcp', HOST, p).out, new RegExp(`^live peer=${WORLD}$`));
  const removed = await r.json<{ hostPort: number }[]>('port', 'rm', name, `${p}/tcp`);
  assert.deepEqual(removed.map((x) => x.hostPort), [p]);
  assert.doesNotMatch(probe(world.name, 'tcp', HOST, p).out, /^live/, 'unpublished');
  assert.deepEqual(await r.json('port', 'rm', name, `${p}`), [], 'already gone: nothing to do');
  const bad = await r.fails(2, 'port', 'rm', name, '80/sctp');
  assert.match(bad.error, /bad host port "80\/sctp"/);
  web.kill('SIGTERM');
  await once(web, 'exit');
});

test('gc rebuilds the table someone flushed, from the store, and published ports work again; a foreign table is never touched', async (t) => {
  const r = rootForTest(t);
  const nft = Nft.open();
  const foreign = { family: 'inet', name: 'hostfw' } as const;
  t.after(async () => {
    await nft.transaction().destroyTable(foreign).commit();
    nft.close();
  });
  await nft.transaction().addTable(foreign).addChain({ ...foreign, table: 'hostfw', name: 'fwd', base: { type: 'filter', hook: 'forward', priority: 10, policy: 'accept' } }).commit();
  const net = await network(r);
  const p = port();
  const web = r.start(['run', '--network', net.name, '-p', `${p}:80`, '--', ...serverArgv('web', 80)]);
  await waitForOutput(web, 'stdout', 'ready');
  assert.match(probe(world.name, 'tcp', HOST, p).out, /^web/);
  await nft.transaction().destroyTable({ family: 'inet', name: 'nsbox' }).commit(); // `nft flush ruleset`, as far as nsbox is concerned
  assert.doesNotMatch(probe(world.name, 'tcp', HOST, p).out, /^web/, 'the table is gone');
  const gc = await r.json<{ removed: { kind: string; name: string }[] }>('gc');
  assert.ok(gc.removed.some((a) => a.kind === 'firewall' && a.name === 'inet nsbox'), JSON.stringify(gc));
  assert.match(probe(world.name, 'tcp', HOST, p).out, /^web/, 'rebuilt with the published port');
  assert.deepEqual((await r.json<{ removed: unknown[] }>('gc')).removed, [], 'nothing left to repair');
  web.kill('SIGTERM');
  await once(web, 'exit');
  const chains = await nft.listChains({ family: 'inet', table: 'hostfw' });
  assert.deepEqual(chains.map((c) => c.name), ['fwd'], 'the foreign table is as it was');
});
