/**
 * End-to-end (root, throwaway host, real etcd): partitions of one simulated host on an L3
 * overlay (research B3.4), two hosts as in hosts-overlay.test.ts (etcd-hosts.ts: a netns each on
 * the etcd fixture's bridge, `nsbox agent` with lease TTL 4 s and grace 3 s). Faults are nft
 * drops in h2's namespace; ping and a TCP probe between sandboxes (s1 on h1, s2 on h2) and a
 * watch of the test's own on etcd are the oracles.
 * - h2 cut from its peers only (etcd reachable): no key goes (the lease stays alive), h1 keeps
 *   h2's route; traffic fails (a black hole: the control plane cannot see a data-plane cut);
 *   healed, the path is back with the same agent and the same lease, nothing was removed;
 * - h2 cut from etcd and peers: its keys go after the TTL, h1 keeps its entries through the
 *   grace, then removes them and s1 → s2 fails fast (ICMP unreachable from s1's gateway);
 *   healed, h2's agent finds its lease gone, puts its keys on a new one, and traffic resumes
 *   both ways without any restart.
 * Skipped when etcd is not installed (CI installs it: scripts/setup.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { etcdAvailable } from '../../helpers/etcd.js';
import { waitUntil } from '../../helpers/wait.js';
import type { WatchEvent } from '../../../src/overlay/etcd.js';
import { overlayWorld, leaseOf, nftOn, nsboxOn, ok, onHost, ping, startAgent, tcpProbe, type SimHost } from './etcd-hosts.js';

const TTL = 4;
const GRACE = 3;

/** h1's route to a block (proto 110: nsbox's), as `ip -j route` has it, or undefined. */
function routeTo(h: SimHost, block: string): string | undefined {
  const r = onHost(h, ['ip', '-j', '-4', 'route', 'show', block]);
  const routes = JSON.parse(r.stdout || '[]') as { dst: string; gateway?: string; dev: string }[];
  return routes.length === 0 ? undefined : `${routes[0]!.dst} via ${routes[0]!.gateway} dev ${routes[0]!.dev}`;
}

test('partitions: a host cut from its peers only, then from etcd and peers', { skip: etcdAvailable(), timeout: 120_000 }, async (t) => {
  const { etcd, hosts, client } = await overlayWorld(t, 2, { ttl: TTL, grace: GRACE });
  const [h1, h2] = hosts as [SimHost, SimHost];
  const url = etcd.endpoints[0]!;
  const ks = '/nsbox/v1/';
  ok(nsboxOn(h1, 'network', 'create', 'pv3', '--driver', 'overlay', '--subnet', '10.93.0.0/16', '--etcd', url), 'create pv3');
  ok(nsboxOn(h2, 'network', 'create', 'pv3', '--driver', 'overlay', '--etcd', url), 'h2 joins pv3');
  for (const h of hosts) await startAgent(h);
  ok(nsboxOn(h1, 'create', 's1'), 'create s1');
  ok(nsboxOn(h1, 'connect', 'pv3', 's1'), 'connect s1');
  ok(nsboxOn(h2, 'create', 's2'), 'create s2');
  ok(nsboxOn(h2, 'connect', 'pv3', 's2'), 'connect s2');
  await waitUntil('s1 reaches s2', () => ping(h1, 's1', '10.93.1.2').code === 0, 20_000);

  const events: WatchEvent[] = [];
  const { revision } = await client.get(ks);
  const watcher = client.watch(ks, revision + 1, { onEvents: (e) => events.push(...e) });
  t.after(() => watcher.stop());
  const deletes = (from = 0): string[] => events.slice(from).filter((e) => e.type === 'delete').map((e) => e.kv.key);
  const route = routeTo(h1, '10.93.1.0/24');
  assert.ok(route !== undefined && route.startsWith('10.93.1.0/24 via 10.93.1.0 dev nsvx-'), `h1 routes h2's block through the vxlan: ${route}`);

  // 1. cut from its peers only: the underlay between h1 and h2 drops everything; etcd is still reachable
  const lease = leaseOf(h2);
  const agentPid = h2.agent!.pid;
  nftOn(h2, `table inet nsbt_peers {\n chain in {\n  type filter hook input priority 0;\n  ip saddr ${h1.ip} drop\n }\n chain out {\n  type filter hook output priority 0;\n  ip daddr ${h1.ip} drop\n }\n}\n`);
  const cut = ping(h1, 's1', '10.93.1.2');
  assert.notEqual(cut.code, 0, 's1 → s2 fails while the underlay between the hosts is cut');
  await sleep((TTL + GRACE + 1) * 1000); // longer than TTL + grace: nothing may go
  const blackHole = ping(h1, 's1', '10.93.1.2');
  assert.notEqual(blackHole.code, 0);
  assert.doesNotMatch(blackHole.stdout, /Unreachable/i, 'a black hole (research B3.4): h1 cannot tell a data-plane cut, and keeps h2\'s entries');
  assert.deepEqual(deletes(), [], 'nothing removed from etcd: h2\'s lease is alive');
  assert.equal(routeTo(h1, '10.93.1.0/24'), route, 'h1 keeps h2\'s route');
  onHost(h2, ['nft', 'delete', 'table', 'inet', 'nsbt_peers']);
  await waitUntil('s1 reaches s2 again after the heal', () => ping(h1, 's1', '10.93.1.2').code === 0, 20_000);
  assert.equal(await tcpProbe(h1, 's1', h2, 's2', '10.93.1.2', 7201), 's2 peer=10.93.0.2', 'TCP across the healed underlay');
  assert.equal(h2.agent?.pid, agentPid, 'the same agent (no restart)');
  assert.equal(leaseOf(h2), lease, 'the same lease');
  assert.doesNotMatch(h2.log, /was lost/, 'no new lease was taken');
  assert.deepEqual(deletes(), [], 'still nothing removed from etcd');

  // 2. cut from etcd and its peers: everything on its underlay link drops
  const seen = events.length;
  nftOn(h2, 'table inet nsbt_all {\n chain in {\n  type filter hook input priority 0;\n  iifname "eth0" drop\n }\n chain out {\n  type filter hook output priority 0;\n  oifname "eth0" drop\n }\n}\n');
  await waitUntil('h2\'s lease expired: its host key is deleted', () => deletes(seen).includes(`${ks}hosts/${h2.name}`), 20_000);
  assert.equal(routeTo(h1, '10.93.1.0/24'), route, 'h1 keeps h2\'s entries through the grace');
  await waitUntil('h1 removed h2\'s entries after the grace: s1 → s2 fails fast', () => /Unreachable/i.test(ping(h1, 's1', '10.93.1.2').stdout), 20_000);
  const dead = ping(h1, 's1', '10.93.1.2');
  assert.match(dead.stdout, /From 10\.93\.0\.1 .*Unreachable/i, 'an ICMP error from s1\'s gateway, not a timeout');
  assert.equal(routeTo(h1, '10.93.1.0/24'), undefined, 'h2\'s route is gone from h1');
  onHost(h2, ['nft', 'delete', 'table', 'inet', 'nsbt_all']);
  await waitUntil('h2 put its keys again on a new lease', () => h2.log.includes(`lease ${lease} was lost; keys put again on lease`), 20_000);
  await waitUntil('s1 reaches s2 again', () => ping(h1, 's1', '10.93.1.2').code === 0, 20_000);
  assert.equal(ping(h2, 's2', '10.93.0.2').code, 0, 's2 reaches s1');
  assert.equal(await tcpProbe(h2, 's2', h1, 's1', '10.93.0.2', 7202), 's1 peer=10.93.1.2', 'TCP from h2 to h1 after the heal');
  assert.equal(h2.agent?.pid, agentPid, 'the same agent throughout');
  assert.notEqual(leaseOf(h2), lease, 'the lease expired at etcd: a new one');
  assert.ok(await client.timeToLive(leaseOf(h2)) > 0);
  const { kv } = await client.get(`${ks}hosts/${h2.name}`);
  assert.equal(kv?.lease, leaseOf(h2), 'h2\'s host key is on its new lease');
});
