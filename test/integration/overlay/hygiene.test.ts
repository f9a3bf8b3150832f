/**
 * End-to-end (root, throwaway host, real etcd): what the overlay leaves behind, and what cleans
 * it. Simulated hosts as in hosts-overlay.test.ts (a netns each on the etcd fixture's bridge, a
 * root each, every command through `nsenter --net=H nsbox --root DIR --host H`). Checked:
 * - a refused `network create --driver overlay` leaves nothing: a bad --subnet and an
 *   unreachable etcd (no etcd.json in the root), a --vni another network holds in etcd, a name
 *   a local network holds (the definition it made in etcd is deleted again, no block kept);
 * - L2 endpoints are published with the interface's real MAC (`connect --mac`): etcd holds it,
 *   and a peer's sandbox reaches the sandbox through the entries made from it (ping);
 * - `nsbox gc` removes this root's overlay devices of a network it has no record of (and the
 *   nsbox routes through them, and the allowlist's set and rule of its VNI), never a live
 *   network's, another root's or unowned ones; once no overlay network is left, the table
 *   goes too. `nsbox doctor` warns about such leftovers, fails on a live network's missing vxlan;
 * - `nsbox overlay gc`: a host that dies and never returns keeps its block while --gone-for
 *   runs, then its block is released, and a new host claims it.
 * Skipped when etcd is not installed (CI installs it: scripts/setup.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { etcdAvailable } from '../../helpers/etcd.js';
import { waitUntil } from '../../helpers/wait.js';
import { overlayWorld, killAgent, nsboxOn, ok, onHost, startAgent, type Res, type SimHost } from './etcd-hosts.js';
import { ensureOverlayDevices, reconcileOverlay, type OverlayNetworkSpec } from '../../../src/overlay/dataplane/index.js';

const inHost = (h: SimHost, ...argv: string[]): Res => onHost(h, argv);

const links = (h: SimHost): string[] => (JSON.parse(inHost(h, 'ip', '-j', 'link', 'show').stdout) as { ifname: string }[]).map((l) => l.ifname);

interface Doctor { checks: { name: string; status: string; summary: string; details: string[] }[] }
const doctorOf = (h: SimHost): Doctor => JSON.parse(nsboxOn(h, '--json', 'doctor').stdout) as Doctor;

test('overlay hygiene: refused creates leave nothing, real MACs in L2, gc and doctor know the overlay, overlay gc frees dead hosts\' blocks', { skip: etcdAvailable(), timeout: 150_000 }, async (t) => {
  // resync 60 s: the checks below see only what events and gc change
  const { etcd, hosts, client } = await overlayWorld(t, 3, { ttl: 2, grace: 1, resync: 60 });
  const url = etcd.endpoints[0]!;
  const [h1, h2, h3] = hosts as [SimHost, SimHost, SimHost];
  const ks = '/nsbox/v1/';
  const keys = async (prefix: string): Promise<string[]> => (await client.range(`${ks}${prefix}`)).kvs.map((kv) => kv.key.slice(ks.length));

  // refused creates leave nothing: not even the etcd settings in the root
  const badSubnet = nsboxOn(h1, 'network', 'create', 'ova', '--driver', 'overlay', '--subnet', '10.300.0.0/16', '--etcd', url);
  assert.equal(badSubnet.code, 2, badSubnet.stderr);
  assert.match(badSubnet.stderr, /invalid --subnet "10\.300\.0\.0\/16"/);
  const unreachable = nsboxOn(h1, 'network', 'create', 'ova', '--driver', 'overlay', '--subnet', '10.91.0.0/24', '--etcd', `http://${etcd.subnetPrefix}.99:2379`);
  assert.notEqual(unreachable.code, 0);
  assert.match(unreachable.stderr, new RegExp(`etcd at http://${etcd.subnetPrefix.replace(/\./g, '\\.')}\\.99:2379`));
  assert.equal(existsSync(`${h1.root}/overlay/etcd.json`), false, 'no etcd settings remembered from refused creates');
  assert.deepEqual(await keys('networks/'), []);

  ok(nsboxOn(h1, 'network', 'create', 'ova', '--driver', 'overlay', '--mode', 'l2', '--subnet', '10.91.0.0/24', '--vni', '300', '--etcd', url), 'create ova');
  assert.ok(existsSync(`${h1.root}/overlay/etcd.json`), 'a create that succeeded remembers etcd');
  const takenVni = nsboxOn(h1, 'network', 'create', 'ovb', '--driver', 'overlay', '--subnet', '10.92.0.0/24', '--vni', '300');
  assert.notEqual(takenVni.code, 0);
  assert.match(takenVni.stderr, /--vni 300 is taken in etcd by overlay network ova/);
  ok(nsboxOn(h1, 'network', 'create', 'ovc', '--subnet', '10.93.0.0/24'), 'a local bridge network ovc');
  const takenName = nsboxOn(h1, 'network', 'create', 'ovc', '--driver', 'overlay', '--subnet', '10.94.0.0/16');
  assert.notEqual(takenName.code, 0);
  assert.match(takenName.stderr, /a local network named ovc exists/);
  assert.deepEqual(await keys('networks/'), ['networks/ova'], 'the refused creates left no definition in etcd');
  assert.deepEqual(await keys('blocks/ovc/'), []);
  ok(nsboxOn(h1, 'network', 'rm', 'ovc'), 'rm ovc');

  // L2 with a MAC of our own: etcd has it, and the peer's entries made from it carry traffic
  ok(nsboxOn(h2, 'network', 'create', 'ova', '--driver', 'overlay', '--etcd', url), 'h2 joins ova');
  for (const h of [h1, h2]) await startAgent(h);
  const mac = '02:aa:bb:cc:dd:01';
  ok(nsboxOn(h1, 'create', 's1'), 'create s1');
  const c1 = JSON.parse(ok(nsboxOn(h1, '--json', 'connect', 'ova', 's1', '--mac', mac.toUpperCase()), 'connect s1 --mac')) as { interface: { options: { ipv4: string } } };
  const ip1 = c1.interface.options.ipv4.split('/')[0]!;
  const badMac = nsboxOn(h1, 'connect', 'ova', 's1', '--mac', '01:00:5e:00:00:01');
  assert.equal(badMac.code, 2);
  assert.match(badMac.stderr, /--mac "01:00:5e:00:00:01": give a unicast MAC/);
  ok(nsboxOn(h2, 'create', 's2'), 'create s2');
  ok(nsboxOn(h2, 'connect', 'ova', 's2'), 'connect s2');
  let published = '';
  for (let i = 0; i < 100 && published === ''; i++) {
    published = (await client.get(`${ks}endpoints/ova/${ip1}`)).kv?.value ?? '';
    if (published === '') await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal((JSON.parse(published) as { mac: string }).mac, mac, 'the interface\'s MAC, not one derived from its address');
  await waitUntil('s2 reaches s1 (the FDB entry of its real MAC)', () => spawnSync('nsenter', [`--net=/run/netns/s2@${h2.name}`, 'ping', '-c', '1', '-W', '1', ip1]).status === 0, 20_000);
  assert.ok(inHost(h2, 'bridge', 'fdb', 'show', 'dev', 'nsvx-ova').stdout.includes(`${mac} dst ${h1.ip}`), 'h2 holds s1\'s MAC → h1');

  // doctor and gc on h1: leftovers of a gone network of this root, devices of another root and of none
  const owner = `${h1.root}/run/netns`;
  const spec = (name: string, vni: number, subnet: string): OverlayNetworkSpec => ({ name, vni, subnet, blockPrefixLength: 26, mode: 'l3', port: 4789 });
  const gone = spec('gone1', 311, '10.95.0.0/24');
  await reconcileOverlay({
    network: gone, local: { hostId: h1.name, underlay: h1.ip, block: '10.95.0.0/26', owner },
    peers: [{ hostId: 'peer', underlay: `${etcd.subnetPrefix}.222`, vtepMac: '02:00:00:00:02:22', blocks: ['10.95.0.64/26'] }], endpoints: [],
  }, { netns: h1.ns.path });
  await ensureOverlayDevices(spec('other1', 312, '10.96.0.0/24'), { hostId: h1.name, underlay: h1.ip, block: '10.96.0.0/26', owner: '/elsewhere/run/netns' }, { netns: h1.ns.path });
  await ensureOverlayDevices(spec('plain1', 313, '10.97.0.0/24'), { hostId: h1.name, underlay: h1.ip, block: '10.97.0.0/26' }, { netns: h1.ns.path });
  assert.match(inHost(h1, 'ip', 'route', 'show', 'proto', '110').stdout, /10\.95\.0\.64\/26 via 10\.95\.0\.64 dev nsvx-gone1/);
  let doc = doctorOf(h1);
  const ov = doc.checks.find((c) => c.name === 'overlay')!;
  assert.equal(ov.status, 'warn', JSON.stringify(ov));
  assert.deepEqual(ov.details.sort(), ['nsob-gone1 (bridge, network gone1, VNI 311)', 'nsvx-gone1 (vxlan, network gone1, VNI 311)']);
  await waitUntil('doctor: the kernel holds what etcd says', () => doctorOf(h1).checks.find((c) => c.name === 'overlay-drift')?.status === 'ok', 10_000);

  const dry = JSON.parse(ok(nsboxOn(h1, '--json', 'gc', '--dry-run'), 'gc --dry-run')) as { removed: { kind: string; name: string; reason: string }[] };
  assert.ok(links(h1).includes('nsvx-gone1'), 'a dry run removes nothing');
  const res = JSON.parse(ok(nsboxOn(h1, '--json', 'gc'), 'gc')) as { removed: { kind: string; name: string; reason: string }[] };
  const overlayActions = res.removed.filter((a) => a.kind === 'overlay');
  assert.deepEqual(overlayActions.map((a) => a.name).sort(), [
    'inet nsbox_overlay rule "vni 311 port 4789"', 'inet nsbox_overlay set allow_v311', 'nsob-gone1 (bridge)', 'nsvx-gone1 (vxlan)',
  ]);
  assert.deepEqual(dry.removed.filter((a) => a.kind === 'overlay'), overlayActions, 'the dry run said the same');
  assert.match(overlayActions.find((a) => a.name.startsWith('nsvx'))!.reason, /its overlay network gone1 no longer exists; its routes 10\.95\.0\.64\/26 go with it/);
  const after = links(h1);
  for (const l of ['nsvx-ova', 'nsob-ova', 'nsvx-other1', 'nsob-other1', 'nsvx-plain1', 'nsob-plain1']) assert.ok(after.includes(l), `${l} kept`);
  assert.ok(!after.includes('nsvx-gone1') && !after.includes('nsob-gone1'));
  assert.equal(inHost(h1, 'ip', 'route', 'show', 'proto', '110').stdout.includes('10.95.0.64'), false, 'the route went with the vxlan');
  const table = inHost(h1, 'nft', 'list', 'table', 'inet', 'nsbox_overlay').stdout;
  for (const v of [300, 312, 313]) assert.ok(table.includes(`set allow_v${v}`), `the set of VNI ${v} kept`);
  assert.equal(table.includes('allow_v311'), false);
  assert.equal(doctorOf(h1).checks.find((c) => c.name === 'overlay')!.status, 'ok');

  // a live network's vxlan missing: doctor fails and names it
  assert.equal(inHost(h1, 'ip', 'link', 'del', 'nsvx-ova').code, 0);
  const broken = nsboxOn(h1, '--json', 'doctor');
  assert.notEqual(broken.code, 0);
  doc = JSON.parse(broken.stdout) as Doctor;
  const bad = doc.checks.find((c) => c.name === 'overlay')!;
  assert.equal(bad.status, 'fail');
  assert.ok(bad.details.includes('ova: vxlan nsvx-ova is missing'), bad.details.join('; '));

  // a host that dies and never returns: its block waits for --gone-for, then goes, and a new host gets it
  const b2 = (JSON.parse(ok(nsboxOn(h2, '--json', 'network', 'inspect', 'ova'), 'inspect')) as { overlay: { block: string } }).overlay.block;
  const blockKey = `blocks/ova/${b2.replace('/', '_')}`;
  await killAgent(h2);
  for (let i = 0; i < 100 && (await client.get(`${ks}hosts/${h2.name}`)).kv !== undefined; i++) await new Promise((r) => setTimeout(r, 200));
  assert.equal((await client.get(`${ks}hosts/${h2.name}`)).kv, undefined, 'h2\'s lease expired');
  const waiting = JSON.parse(ok(nsboxOn(h1, '--json', 'overlay', 'gc', '--gone-for', '3600'), 'overlay gc --gone-for 3600')) as { hosts: { hostId: string; released: string[]; waiting: string[] }[] };
  assert.deepEqual(waiting.hosts.map((h) => [h.hostId, h.released, h.waiting]), [[h2.name, [], [blockKey]]]);
  assert.ok((await keys('blocks/ova/')).includes(blockKey), 'kept while --gone-for runs');
  assert.deepEqual(await keys('gone/'), [`gone/${h2.name}`]);
  const released = JSON.parse(ok(nsboxOn(h1, '--json', 'overlay', 'gc', '--gone-for', '0'), 'overlay gc --gone-for 0')) as { hosts: { hostId: string; released: string[] }[] };
  assert.deepEqual(released.hosts.map((h) => [h.hostId, h.released]), [[h2.name, [blockKey]]]);
  assert.equal((await keys('blocks/ova/')).includes(blockKey), false);
  assert.deepEqual(await keys('gone/'), [], 'the mark goes with the last of its records');
  const j3 = JSON.parse(ok(nsboxOn(h3, '--json', 'network', 'create', 'ova', '--driver', 'overlay', '--etcd', url), 'h3 joins ova')) as { overlay: { block: string } };
  assert.equal(j3.overlay.block, b2, 'the dead host\'s block is claimed again');
  // h3 has no agent yet (no host key): it counts as gone, and --gone-for is what protects its fresh block
  const early = JSON.parse(ok(nsboxOn(h1, '--json', 'overlay', 'gc', '--gone-for', '3600'), 'overlay gc, h3 without agent')) as { hosts: { hostId: string; released: string[] }[] };
  assert.deepEqual(early.hosts.map((h) => [h.hostId, h.released]), [[h3.name, []]]);
  await startAgent(h3);
  await waitUntil('h3\'s host key', () => h3.log.includes('lease'), 10_000);
  for (let i = 0; i < 50 && (await client.get(`${ks}hosts/${h3.name}`)).kv === undefined; i++) await new Promise((r) => setTimeout(r, 200));
  const back = JSON.parse(ok(nsboxOn(h1, '--json', 'overlay', 'gc', '--gone-for', '0'), 'overlay gc, h3 back')) as { hosts: unknown[]; back: string[] };
  assert.deepEqual([back.hosts, back.back], [[], [h3.name]], 'a host back keeps everything, its mark goes');
  assert.deepEqual(await keys('gone/'), []);
  assert.ok((await keys('blocks/ova/')).includes(blockKey));

  // no overlay network left on h1: gc takes the other roots' sets only once their devices are gone, then the table
  await killAgent(h1);
  ok(nsboxOn(h1, 'disconnect', 'ova', 's1'), 'disconnect s1');
  ok(nsboxOn(h1, 'network', 'rm', 'ova'), 'h1 leaves ova');
  ok(nsboxOn(h1, 'gc'), 'gc');
  assert.ok(inHost(h1, 'nft', 'list', 'table', 'inet', 'nsbox_overlay').stdout.includes('allow_v312'), 'another root\'s device still there: its set stays');
  for (const l of ['nsvx-other1', 'nsob-other1', 'nsvx-plain1', 'nsob-plain1']) assert.equal(inHost(h1, 'ip', 'link', 'del', l).code, 0);
  const last = JSON.parse(ok(nsboxOn(h1, '--json', 'gc'), 'gc')) as { removed: { kind: string; name: string }[] };
  assert.ok(last.removed.some((a) => a.name === 'inet nsbox_overlay'), JSON.stringify(last.removed));
  assert.notEqual(inHost(h1, 'nft', 'list', 'table', 'inet', 'nsbox_overlay').code, 0, 'the table is gone');
});
