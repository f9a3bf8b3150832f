/**
 * End-to-end (root, throwaway host, real etcd): an L2 overlay network across three simulated
 * hosts (etcd-hosts.ts; agents with lease TTL 10 s, grace 3 s), where every sandbox needs its
 * endpoint record in etcd to be reached (no flooding: nolearning vxlan, FDB and neighbour
 * entries per remote endpoint). Ping, a TCP probe and a watch of the test's own are the oracles.
 * A sandbox's ARP retries are 100 ms apart (its neighbours come from the agent, not the wire).
 * - compaction during a watch: h2's agent loses etcd (nft: its TCP to etcd reset) while a
 *   sandbox is connected on h1; the history is compacted past h2's watch; healed, h2's watch
 *   is refused as compacted, its agent lists again and h2's sandbox reaches the new one;
 * - an endpoint moving between hosts, make before break: a sandbox with s1's address (and so
 *   its MAC) is connected on h2 with --ip while s1 (10.92.0.2, talking with h2 and h3) is still
 *   on h1: the record stays h1's (h2 reports it held, no put/delete ping-pong); s1 disconnected
 *   on h1, the record follows to h2 (never deleted after h2 put it), h3's and h1's FDB entries
 *   for the MAC point at h2, and sandboxes on h3, h1 and h2 itself reach it at h2; then back to
 *   h1, break before make, and reached there from h3, h1 and h2.
 * Skipped when etcd is not installed (CI installs it: scripts/setup.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { etcdAvailable } from '../../helpers/etcd.js';
import { waitUntil } from '../../helpers/wait.js';
import type { WatchEvent } from '../../../src/overlay/etcd.js';
import { inSandbox, overlayWorld, nftOn, nsboxOn, ok, onHost, ping, startAgent, tcpProbe, type SimHost } from './etcd-hosts.js';

const MAC_OF_10_92_0_2 = '02:42:0a:5c:00:02';

/** Where host h's vxlan sends a MAC (its FDB entry's dst), or undefined. */
function fdbDst(h: SimHost, net: string, mac: string): string | undefined {
  const r = onHost(h, ['bridge', '-j', 'fdb', 'show', 'dev', `nsvx-${net}`]);
  const entries = JSON.parse(r.stdout || '[]') as { mac: string; dst?: string }[];
  return entries.find((e) => e.mac === mac && e.dst !== undefined)?.dst;
}

test('L2 overlay: compaction during a watch, and an endpoint moving between hosts', { skip: etcdAvailable(), timeout: 150_000 }, async (t) => {
  const { etcd, hosts, client } = await overlayWorld(t, 3, { ttl: 10, grace: 3 });
  const [h1, h2, h3] = hosts as [SimHost, SimHost, SimHost];
  const url = etcd.endpoints[0]!;
  const ks = '/nsbox/v1/';
  ok(nsboxOn(h1, 'network', 'create', 'lv2', '--driver', 'overlay', '--mode', 'l2', '--subnet', '10.92.0.0/24', '--etcd', url), 'create lv2');
  for (const h of [h2, h3]) ok(nsboxOn(h, 'network', 'create', 'lv2', '--driver', 'overlay', '--etcd', url), `${h.name} joins lv2`);
  for (const h of hosts) await startAgent(h);
  for (const [i, h] of hosts.entries()) {
    ok(nsboxOn(h, 'create', `s${i + 1}`), `create s${i + 1}`);
    ok(nsboxOn(h, 'connect', 'lv2', `s${i + 1}`), `connect s${i + 1}`);
  }
  // blocks in the order the hosts joined: .0/26, .64/26, .128/26
  await waitUntil('s2 reaches s1', () => ping(h2, 's2', '10.92.0.2').code === 0, 20_000);
  await waitUntil('s3 reaches s1', () => ping(h3, 's3', '10.92.0.2').code === 0, 20_000);
  assert.equal(ping(h1, 's1', '10.92.0.66').code, 0, 's1 reaches s2');
  // an address asked for before its entries arrived is asked again every 100 ms (3 s in all), not every second
  const neighSysctl = (key: string): string => ok(inSandbox(h3, 's3', ['cat', `/proc/sys/net/ipv4/neigh/eth0/${key}`]), key).trim();
  assert.deepEqual([neighSysctl('retrans_time_ms'), neighSysctl('mcast_solicit')], ['100', '30'], 'an L2 sandbox\'s ARP retries');

  // compaction during h2's watch
  const etcdIp = etcd.members[0]!.ip;
  const cutAt = h2.log.length;
  nftOn(h2, `table inet nsbt_etcd {\n chain in {\n  type filter hook input priority 0;\n  ip saddr ${etcdIp} tcp sport 2379 drop\n }\n chain out {\n  type filter hook output priority 0;\n  ip daddr ${etcdIp} tcp dport 2379 reject with tcp reset\n }\n}\n`);
  await waitUntil('h2\'s watch broke (its connection to etcd reset)', () => h2.log.slice(cutAt).includes('watch: '), 20_000);
  ok(nsboxOn(h1, 'create', 'n1'), 'create n1');
  ok(nsboxOn(h1, 'connect', 'lv2', 'n1'), 'connect n1 on h1 meanwhile');
  let rev = 0;
  for (const end = Date.now() + 20_000; Date.now() < end;) {
    const r = await client.get(`${ks}endpoints/lv2/10.92.0.3`);
    if (r.kv !== undefined) { rev = r.revision; break; }
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(rev > 0, 'h1 published n1\'s endpoint while h2 was cut off');
  await client.put(`${ks}unrelated`, 'more history');
  const { revision: now } = await client.get(`${ks}unrelated`);
  await client.compact(now);
  onHost(h2, ['nft', 'delete', 'table', 'inet', 'nsbt_etcd']);
  await waitUntil('h2\'s agent listed etcd again after the compaction', () => h2.log.slice(cutAt).includes('listed again at revision'), 20_000);
  await waitUntil('s2 on h2 reaches n1, connected on h1 while h2 was cut off', () => ping(h2, 's2', '10.92.0.3').code === 0, 20_000);
  assert.equal(await tcpProbe(h2, 's2', h1, 'n1', '10.92.0.3', 7301), 'n1 peer=10.92.0.66');
  await client.delete(`${ks}unrelated`);

  // an endpoint moving from h1 to h2: same IP, same MAC
  const events: WatchEvent[] = [];
  const { revision } = await client.get(ks);
  const watcher = client.watch(`${ks}endpoints/`, revision + 1, { onEvents: (e) => events.push(...e) });
  t.after(() => watcher.stop());
  assert.equal(fdbDst(h3, 'lv2', MAC_OF_10_92_0_2), h1.ip, 'h3 sends s1\'s MAC to h1');
  assert.equal(ping(h2, 's2', '10.92.0.2').code, 0, 's2 talks with s1 at h1 before the move');
  // make before break: the new one is connected on h2 while s1 is still on h1
  const key = `${ks}endpoints/lv2/10.92.0.2`;
  ok(nsboxOn(h2, 'create', 'mv'), 'create mv on h2');
  const moved = JSON.parse(ok(nsboxOn(h2, '--json', 'connect', 'lv2', 'mv', '--ip', '10.92.0.2'), 'connect mv on h2 with s1\'s address')) as { interface: { options: { ipv4: string } } };
  assert.equal(moved.interface.options.ipv4, '10.92.0.2/24');
  const before = events.length;
  await waitUntil('h2 reports the address as held by h1', () => h2.log.includes(`${key} is held by host ${h1.name}`), 20_000);
  await sleep(1500); // more ticks of both agents (each looks at its store on every write and every second)
  const fight = events.slice(before).filter((e) => e.kv.key === key).map((e) => `${e.type} ${e.kv.value}`);
  assert.deepEqual(fight, [], 'the record stays h1\'s while s1 is there: no two hosts fight over it');
  ok(nsboxOn(h1, 'disconnect', 'lv2', 's1'), 'disconnect s1 on h1');
  let holder = '';
  for (const end = Date.now() + 20_000; Date.now() < end && holder !== h2.name;) {
    const { kv } = await client.get(key);
    holder = kv === undefined ? '' : (JSON.parse(kv.value) as { hostId: string }).hostId;
    if (holder !== h2.name) await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(holder, h2.name, 'the endpoint record follows the move');
  await waitUntil('h3 sends the MAC to h2 now', () => fdbDst(h3, 'lv2', MAC_OF_10_92_0_2) === h2.ip, 20_000);
  assert.match(onHost(h2, ['bridge', 'fdb', 'show', 'br', 'nsob-lv2']).stdout, /02:42:0a:5c:00:02 dev vnsb\S+ sticky master nsob-lv2 static/, 'h2\'s bridge sends the MAC to mv\'s port, whatever it learned before');
  await waitUntil('s3 on h3 reaches the moved endpoint', () => ping(h3, 's3', '10.92.0.2').code === 0, 20_000);
  assert.equal(await tcpProbe(h3, 's3', h2, 'mv', '10.92.0.2', 7302), 'mv peer=10.92.0.130', 'TCP from h3 lands at h2');
  await waitUntil('n1 on h1 reaches the moved endpoint', () => ping(h1, 'n1', '10.92.0.2').code === 0, 20_000);
  assert.equal(await tcpProbe(h1, 'n1', h2, 'mv', '10.92.0.2', 7303), 'mv peer=10.92.0.3', 'TCP from h1 lands at h2');
  assert.equal(await tcpProbe(h2, 's2', h2, 'mv', '10.92.0.2', 7304), 'mv peer=10.92.0.66', 'and from s2, on the same host now');
  assert.equal(fdbDst(h1, 'lv2', MAC_OF_10_92_0_2), h2.ip, 'h1 sends the MAC to h2');
  assert.equal(fdbDst(h2, 'lv2', MAC_OF_10_92_0_2), undefined, 'h2 has no remote entry for its own endpoint');
  const firstPut = events.find((e) => e.kv.key === key && e.type === 'put' && (JSON.parse(e.kv.value) as { hostId: string }).hostId === h2.name)!;
  const later = events.filter((e) => e.kv.key === key && e.kv.modRevision > firstPut.kv.modRevision).map((e) => e.type);
  assert.deepEqual(later, [], 'once h2 put its record nothing changed it (h1\'s disconnect did not delete it)');
  assert.equal((JSON.parse((await client.get(key)).kv!.value) as { hostId: string }).hostId, h2.name, 'the record is still h2\'s');

  // and back to h1, break before make: disconnected on h2, s1 connected again on h1 at once
  ok(nsboxOn(h2, 'disconnect', 'lv2', 'mv'), 'disconnect mv on h2');
  ok(nsboxOn(h1, 'connect', 'lv2', 's1', '--ip', '10.92.0.2'), 'connect s1 on h1 again');
  await waitUntil('h3 sends the MAC to h1 again', () => fdbDst(h3, 'lv2', MAC_OF_10_92_0_2) === h1.ip, 20_000);
  await waitUntil('s3 on h3 reaches s1 at h1', () => ping(h3, 's3', '10.92.0.2').code === 0, 20_000);
  assert.equal(await tcpProbe(h3, 's3', h1, 's1', '10.92.0.2', 7305), 's1 peer=10.92.0.130');
  assert.equal(await tcpProbe(h1, 'n1', h1, 's1', '10.92.0.2', 7306), 's1 peer=10.92.0.3', 'n1 on h1 (its bridge had learned the MAC on the vxlan port)');
  await waitUntil('s2 on h2 reaches s1 at h1', () => ping(h2, 's2', '10.92.0.2').code === 0, 20_000);
  assert.equal((JSON.parse((await client.get(key)).kv!.value) as { hostId: string }).hostId, h1.name, 'the record is h1\'s');
});
