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
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { Nft } from '../../../src/netlink/nftables/ops/index.js';
import { ip } from '../../helpers/iproute.js';
import { makeNetns, type TestNetns } from '../../helpers/netns.js';
import { rootForTest, waitForOutput, type NsboxRoot } from '../../helpers/cli.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { clientArgv, serverArgv } from '../../helpers/probe-servers.js';

const HOST = '192.0.2.1';
const WORLD = '192.0.2.254';
const WORLD_PORT = 9000;
let world: TestNetns;
let worldServer: ChildProcessWithoutNullStreams;
let uplink = '';

/** A free-looking high port for this file (the kernel picks none here: tests name them). */
let nextPort = 20000 + Math.floor(Math.random() * 20000);
const port = (): number => nextPort++;

/** Run a probe client somewhere: `in` is a namespace name, or undefined for the host. */
function probe(where: string | undefined, proto: 'tcp' | 'udp', host: string, p: number): { ok: boolean; out: string } {
  const argv = clientArgv(proto, host, p);
  const res = where === undefined ? spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' }) : spawnSync('ip', ['netns', 'exec', where, ...argv], { encoding: 'utf8' });
  return { ok: res.status === 0, out: `${res.stdout}${res.stderr}`.trim() };
}

before(async () => {
  world = makeNetns();
  uplink = `nsbup${world.name.slice(-6)}`;
  ip(undefined, 'link', 'add', uplink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', world.name);
  ip(undefined, 'addr', 'add', `${HOST}/24`, 'dev', uplink);
  ip(undefined, 'addr', 'add', '2001:db8::1/64', 'dev', uplink, 'nodad');
  ip(undefined, 'link', 'set', uplink, 'up');
  ip(world.name, 'addr', 'add', `${WORLD}/24`, 'dev', 'eth0');
  ip(world.name, 'addr', 'add', '2001:db8::254/64', 'dev', 'eth0', 'nodad');
  ip(world.name, 'link', 'set', 'eth0', 'up');
  ip(world.name, 'link', 'set', 'lo', 'up');
  const argv = serverArgv('world', WORLD_PORT);
  worldServer = spawn('ip', ['netns', 'exec', world.name, ...argv]);
  await waitForOutput(worldServer, 'stdout', 'ready');
});

after(() => {
  worldServer.kill();
  ip(undefined, 'link', 'del', uplink);
  world[Symbol.dispose]();
});

async function network(r: NsboxRoot, ...flags: string[]): Promise<{ name: string; base: string }> {
  const s = uniqueSubnet();
  const name = networkName();
  await r.ok('network', 'create', name, '--subnet', s.cidr, ...flags);
  return { name, base: s.base };
}

test('masquerade: a sandbox reaches the outside as the host; not with --no-masquerade, nor from an internal network', async (t) => {
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

test('published ports: TCP and UDP from the outside, from the host and 127.0.0.1, and from another sandbox; gone with the sandbox', async (t) => {
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

test('refused, changing nothing: a port a host process holds, a port already published', async (t) => {
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
