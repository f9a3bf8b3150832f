/**
 * End-to-end (root, throwaway host, real etcd): agents on a 3-member etcd cluster
 * (test/helpers/etcd.ts, --pre-vote), given all three client URLs; two simulated hosts
 * (etcd-hosts.ts) on an L2 overlay network, where a sandbox connected on h1 is reached from h2
 * only once h2's agent has its endpoint record from its watch. The member serving h2's watch is
 * found from the members' watcher gauges (/metrics).
 * - that member stopped: a sandbox connected on h1 meanwhile is reached from h2 (the watch and
 *   the unary calls fail over), and no lease is lost;
 * - then the member serving h2's watch cut from the other two (a minority partition; the hosts
 *   still reach it): its streams are cancelled for want of a leader (the watch asks for one),
 *   h2's watch re-opens on the majority, and a sandbox connected on h1 is reached from h2.
 * Skipped when etcd is not installed (CI installs it: scripts/setup.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { etcdAvailable, startEtcdCluster, type EtcdMember } from '../../helpers/etcd.js';
import { waitUntil } from '../../helpers/wait.js';
import { killAgent, makeHosts, nsboxOn, ok, ping, startAgent, tcpProbe, type SimHost } from './etcd-hosts.js';

/** Watchers each member serves now (etcd_debugging_mvcc_watcher_total); a stopped member counts 0. */
async function watchers(members: EtcdMember[]): Promise<number[]> {
  return Promise.all(members.map(async (m) => {
    if (m.process === undefined) return 0;
    const text = await (await fetch(`${m.clientUrl}/metrics`)).text();
    return Number(/^etcd_debugging_mvcc_watcher_total (\d+)/m.exec(text)?.[1] ?? NaN);
  }));
}

test('agents on a 3-member etcd cluster: a member stopped, then a minority partition', { skip: etcdAvailable(), timeout: 150_000 }, async (t) => {
  const etcd = await startEtcdCluster(3);
  const { hosts, dispose } = makeHosts(etcd, 2, { ttl: 6, grace: 3 });
  t.after(async () => {
    await dispose();
    await etcd.stop();
  });
  const [h1, h2] = hosts as [SimHost, SimHost];
  const urls = etcd.endpoints.join(',');
  ok(nsboxOn(h1, 'network', 'create', 'cv2', '--driver', 'overlay', '--mode', 'l2', '--subnet', '10.91.0.0/24', '--etcd', urls), 'create cv2');
  ok(nsboxOn(h2, 'network', 'create', 'cv2', '--driver', 'overlay', '--etcd', urls), 'h2 joins cv2');
  for (const h of hosts) await startAgent(h);
  const total = async (): Promise<number> => (await watchers(etcd.members)).reduce((x, y) => x + y, 0);
  for (const end = Date.now() + 20_000; (await total()) < 2;) {
    assert.ok(Date.now() < end, 'both agents\' watches are open');
    await new Promise((r) => setTimeout(r, 100));
  }
  /** The member serving h2's watch: h2's agent stopped (its watch closes), started again (resuming its lease), and the gauge that went up. */
  const h2WatchMember = async (): Promise<EtcdMember> => {
    const sum = (v: number[]): number => v.reduce((x, y) => x + y, 0);
    const gauge = await watchers(etcd.members);
    await killAgent(h2);
    let before = gauge;
    for (const end = Date.now() + 10_000; Date.now() < end && sum(before) >= sum(gauge);) {
      await new Promise((r) => setTimeout(r, 100));
      before = await watchers(etcd.members);
    }
    await startAgent(h2);
    for (const end = Date.now() + 10_000; Date.now() < end;) {
      const now = await watchers(etcd.members);
      const i = now.findIndex((n, k) => n > before[k]!);
      if (i >= 0) return etcd.members[i]!;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no member took h2\'s watch');
  };
  let member = await h2WatchMember();
  t.diagnostic(`h2 watches through ${member.name}; leader ${etcd.leader().name}`);
  for (const [i, h] of hosts.entries()) {
    ok(nsboxOn(h, 'create', `s${i + 1}`), `create s${i + 1}`);
    ok(nsboxOn(h, 'connect', 'cv2', `s${i + 1}`), `connect s${i + 1}`);
  }
  // blocks: h1 10.91.0.0/26, h2 10.91.0.64/26
  await waitUntil('s2 reaches s1', () => ping(h2, 's2', '10.91.0.2').code === 0, 20_000);

  // the member serving h2's watch stopped
  let cut = h2.log.length;
  await etcd.kill(member);
  ok(nsboxOn(h1, 'create', 'n1'), 'create n1');
  ok(nsboxOn(h1, 'connect', 'cv2', 'n1'), 'connect n1 on h1 with a member down');
  await waitUntil('s2 on h2 reaches n1', () => ping(h2, 's2', '10.91.0.3').code === 0, 30_000);
  assert.equal(await tcpProbe(h2, 's2', h1, 'n1', '10.91.0.3', 7401), 'n1 peer=10.91.0.66');
  assert.match(h2.log.slice(cut), /watch: /, 'h2\'s watch broke with its member and re-opened elsewhere');
  t.diagnostic(`h2: ${h2.log.slice(cut).split('\n').find((l) => l.includes('watch: '))}`);
  await etcd.restart(member);

  // a minority partition: the member now serving h2's watch cut from the other two
  member = await h2WatchMember();
  const others = etcd.members.filter((m) => m !== member);
  t.diagnostic(`h2 watches through ${member.name}; leader ${etcd.leader().name}; cutting ${member.name} from ${others.map((m) => m.name).join(', ')}`);
  const ips = others.map((m) => m.ip).join(', ');
  const nft = spawnSync('nsenter', [`--net=${member.ns.path}`, 'nft', '-f', '-'], {
    input: `table inet nsbt_minority {\n chain in {\n  type filter hook input priority 0;\n  ip saddr { ${ips} } drop\n }\n chain out {\n  type filter hook output priority 0;\n  ip daddr { ${ips} } drop\n }\n}\n`, encoding: 'utf8',
  });
  assert.equal(nft.status, 0, nft.stderr);
  t.after(() => spawnSync('nsenter', [`--net=${member.ns.path}`, 'nft', 'delete', 'table', 'inet', 'nsbt_minority']));
  cut = h2.log.length;
  ok(nsboxOn(h1, 'create', 'n2'), 'create n2');
  ok(nsboxOn(h1, 'connect', 'cv2', 'n2'), 'connect n2 on h1 during the partition');
  await waitUntil('h2\'s watch on the minority member was cancelled (no leader)', () => /watch: /.test(h2.log.slice(cut)), 30_000);
  t.diagnostic(`h2: ${h2.log.slice(cut).split('\n').find((l) => l.includes('watch: '))}`);
  await waitUntil('s2 on h2 reaches n2', () => ping(h2, 's2', '10.91.0.4').code === 0, 30_000);
  assert.equal(await tcpProbe(h2, 's2', h1, 'n2', '10.91.0.4', 7402), 'n2 peer=10.91.0.66');
  for (const h of hosts) assert.doesNotMatch(h.log, /was lost/, `${h.name} kept its lease throughout`);
});
