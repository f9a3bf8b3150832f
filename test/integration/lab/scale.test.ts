/**
 * Integration (root, throwaway host): what makes `lab up` scale.
 *
 * - Names: inside `Manager.deferNames` connects leave the hosts files alone and one refresh at
 *   the end writes them; a plain connect still writes them at once. A star lab's every hosts
 *   file names every other node once after `up`; an `up` SIGKILLed before it wrote the names it
 *   deferred (`lab-up:names`) leaves them stale, and the next `up` writes them all.
 * - Links: a lab link is a veth pair born in both nodes' namespaces (Manager.addVethPair): its
 *   ends have the file's names, MTU, MAC and addresses, are recorded in both sandboxes, no end
 *   ever appears in the host (`ip monitor link` in the host sees none during the whole `up`),
 *   traffic crosses it, and `down` removes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Manager } from '../../../src/managed/index.js';
import { ETC_NETNS_DIR } from '../../../src/managed/names.js';
import { hostVethName } from '../../../src/lab/naming.js';
import { labRootForTest } from '../../helpers/lab-root.js';
import { randomName } from '../../helpers/names.js';
import { writeLab } from '../../helpers/lab.js';

const NODES = ['n0', 'n1', 'n2', 'n3'];
const lanAddress = (i: number): string => `10.71.0.${10 + i}`;

/** A star of four nodes on one network, and a link n0 <-> n1 with an MTU and a MAC. */
const star = (lab: string): string => `lab: ${lab}
networks:
  lan: { subnet: 10.71.0.0/24 }
nodes:
${NODES.map((n, i) => `  ${n}: { interfaces: { eth0: { network: lan, address: ${lanAddress(i)}/24 } } }`).join('\n')}
links:
  - name: l1
    mtu: 1400
    a: { node: n0, iface: p2p0, address: 10.72.0.1/30, mac: "02:00:00:00:72:01" }
    b: { node: n1, iface: p2p1, address: 10.72.0.2/30 }
`;

/** Ping from a node through `ip netns exec`, which binds the node's /etc/netns hosts file (names resolve as the node sees them). */
const pings = (sandbox: string, to: string): boolean => spawnSync('ip', ['netns', 'exec', sandbox, 'ping', '-c', '2', '-i', '0.2', '-W', '1', '-q', to]).status === 0;

const hostsOf = (sandbox: string): string => readFileSync(join(ETC_NETNS_DIR, sandbox, 'hosts'), 'utf8');
/** The lines of a hosts file that name `name` first. */
const linesFor = (hosts: string, name: string): string[] => hosts.split('\n').filter((l) => l.split('\t')[1]?.split(' ')[0] === name);

/** Every node's hosts file: its own addresses, and each other node of the star exactly once. */
function assertStarNames(lab: string): void {
  for (const [i, n] of NODES.entries()) {
    const hosts = hostsOf(`${lab}.${n}`);
    for (const [j, m] of NODES.entries()) {
      const want = i === j ? [`${lanAddress(j)}\t${lab}.${m} ${lab}.${m}.${lab}.lan`, ...(j < 2 ? [`10.72.0.${j + 1}\t${lab}.${m}`] : [])]
        : [`${lanAddress(j)}\t${lab}.${m} ${lab}.${m}.${lab}.lan`];
      assert.deepEqual(linesFor(hosts, `${lab}.${m}`), want, `${n}'s hosts file names ${m}`);
    }
  }
}

const ipJson = <T>(sandbox: string, ...args: string[]): T => JSON.parse(spawnSync('ip', ['-n', sandbox, '-j', ...args], { encoding: 'utf8' }).stdout || '[]') as T;

test('deferNames: connects inside write no hosts file until the scope ends, then all of them; a plain connect writes them at once', async (t) => {
  const r = labRootForTest(t);
  const m = Manager.open({ root: r.root });
  t.after(() => m.close());
  const net = randomName('nsbt-dn');
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => randomName(`nsbt-${x}`)) as [string, string, string, string];
  await m.createNetwork(net, { subnets: ['10.73.0.0/24'] });
  for (const s of [a, b, c, d]) await m.createSandbox(s);
  await m.deferNames(async () => {
    await m.connect(net, a, { ip: '10.73.0.2' });
    await m.connect(net, b, { ip: '10.73.0.3' });
    await m.connect(net, c, { ip: '10.73.0.4' });
    assert.deepEqual(linesFor(hostsOf(a), b), [], 'inside the scope, a does not know b yet');
    assert.deepEqual(linesFor(hostsOf(c), c), [], 'nor c its own address');
  });
  for (const [x, y, ip] of [[a, b, '10.73.0.3'], [a, c, '10.73.0.4'], [c, a, '10.73.0.2'], [b, b, '10.73.0.3']] as const) {
    assert.deepEqual(linesFor(hostsOf(x), y), [`${ip}\t${y} ${y}.${net}`], `after the scope, ${x} knows ${y}`);
  }
  await m.connect(net, d, { ip: '10.73.0.5' });
  assert.deepEqual(linesFor(hostsOf(a), d), [`10.73.0.5\t${d} ${d}.${net}`], 'a plain connect rewrites the peers at once');
  await m.removeSandboxes([a, b, c, d]);
  await m.removeNetworks([net]);
});

test('lab up of a star: a link is a veth pair born in both nodes (names, MTU, MAC, addresses; never in the host), every hosts file names every node; down removes it', async (t) => {
  const r = labRootForTest(t);
  const lab = randomName('sc');
  const file = writeLab(t, star(lab));
  const monitor = spawn('ip', ['-o', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let seen = '';
  monitor.stdout.on('data', (chunk: Buffer) => { seen += chunk.toString(); });
  t.after(() => monitor.kill());
  await new Promise((res) => setTimeout(res, 200)); // the monitor subscribed
  await r.ok('lab', 'up', '-f', file);
  await new Promise((res) => setTimeout(res, 200));
  monitor.kill();
  const ends = [hostVethName(lab, 'l1', 'a'), hostVethName(lab, 'l1', 'b'), 'p2p0', 'p2p1'];
  assert.deepEqual(seen.split('\n').filter((l) => ends.some((e) => l.includes(` ${e}`) || l.includes(`${e}@`) || l.includes(`${e}:`))), [], 'no end of the link ever appeared in the host');
  assert.ok(seen.includes('veth') || seen.length > 0, 'the monitor saw the lab\'s network veths (it was listening)');

  const [a, b] = [`${lab}.n0`, `${lab}.n1`];
  const linkA = ipJson<{ ifname: string; mtu: number; address: string; link_netnsid?: number; linkinfo?: { info_kind: string } }[]>(a, '-d', 'link', 'show', 'p2p0')[0]!;
  const linkB = ipJson<{ ifname: string; mtu: number; address: string; linkinfo?: { info_kind: string } }[]>(b, '-d', 'link', 'show', 'p2p1')[0]!;
  assert.deepEqual([linkA.linkinfo?.info_kind, linkA.mtu, linkA.address], ['veth', 1400, '02:00:00:00:72:01']);
  assert.deepEqual([linkB.linkinfo?.info_kind, linkB.mtu], ['veth', 1400]);
  const addr = (s: string, dev: string): string[] => ipJson<{ addr_info: { family: string; local: string; prefixlen: number }[] }[]>(s, 'addr', 'show', dev)[0]!.addr_info
    .filter((x) => x.family === 'inet').map((x) => `${x.local}/${x.prefixlen}`);
  assert.deepEqual([addr(a, 'p2p0'), addr(b, 'p2p1')], [['10.72.0.1/30'], ['10.72.0.2/30']]);
  assert.ok(pings(a, '10.72.0.2'), 'traffic crosses the link');
  const row = (await r.sandbox(a)).interfaces.find((i) => i.dstName === 'p2p0');
  assert.deepEqual([row?.srcName, row?.state, row?.options.ipv4], [hostVethName(lab, 'l1', 'a'), 'ready', '10.72.0.1/30'], 'recorded in the node');
  assert.equal((await r.sandbox(b)).interfaces.find((i) => i.dstName === 'p2p1')?.state, 'ready');
  assertStarNames(lab);
  assert.ok(pings(`${lab}.n3`, `${lab}.n0`), 'n3 reaches n0 by name');

  await r.ok('lab', 'down', lab);
  assert.deepEqual(await r.json('ls'), []);
  const host = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
  assert.ok(!ends.slice(0, 2).some((e) => host.includes(e)), 'down left no end in the host');
});

test('lab up SIGKILLed before it wrote the names it deferred: the files are stale, the next up writes them all', async (t) => {
  const r = labRootForTest(t);
  const lab = randomName('sc');
  const file = writeLab(t, star(lab));
  await r.killAt('lab-up:names', ['lab', 'up', '-f', file]);
  assert.deepEqual(linesFor(hostsOf(`${lab}.n0`), `${lab}.n3`), [], 'killed before the names were written: n0 does not know n3');
  const resumed = await r.json<{ changed: boolean }>('lab', 'up', '-f', file);
  assert.equal(resumed.changed, false, 'everything was made: the resumed up only writes the names');
  assertStarNames(lab);
  assert.ok(pings(`${lab}.n3`, `${lab}.n0`), 'n3 reaches n0 by name');
  await r.ok('lab', 'down', lab);
  assert.deepEqual(await r.json('ls'), []);
});
