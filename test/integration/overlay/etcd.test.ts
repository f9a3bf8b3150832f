/**
 * Integration (root, throwaway host): src/overlay/etcd.ts against a real etcd 3.4
 * (test/helpers/etcd.ts: members in namespaces of their own), etcdctl as the oracle.
 * Create-only conflict; create-only refused once the range it was chosen from changed, and
 * overlay networks defined side by side getting distinct VNIs; a put made between list and watch is delivered; a lease kept on the
 * same id survives an etcd outage longer than its TTL with its keys (no delete event, no new
 * lease); a lease no longer renewed expires and takes its keys; a watch from a compacted
 * revision reports it and listAndWatch lists again; a 3-member cluster losing a member still
 * serves the client. Durations are waited for, never asserted.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd, LeaseKeeper, type KeyValue, type WatchEvent } from '../../../src/overlay/etcd.js';
import { Keyspace } from '../../../src/overlay/keyspace.js';
import { defineNetwork } from '../../../src/overlay/join.js';
import { etcdAvailable, startEtcd, startEtcdCluster } from '../../helpers/etcd.js';
import { waitUntil } from '../../helpers/wait.js';

const skip = etcdAvailable();
const P = '/nsbox-test/v1/';

/** A fresh etcd member and `n` (≥ 2) clients of it, the first two also as `a` and `b`; all stopped after the test. */
async function etcdWithClients(t: TestContext, n = 2): Promise<{ etcd: Awaited<ReturnType<typeof startEtcd>>; a: Etcd; b: Etcd; clients: Etcd[] }> {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const connect = (): Etcd => Etcd.connect({ endpoints: etcd.endpoints });
  const a = connect();
  const b = connect();
  const clients = [a, b, ...Array.from({ length: n - 2 }, connect)];
  t.after(() => { for (const c of clients) c.close(); });
  return { etcd, a, b, clients };
}

test('createOnly: the first wins, the second learns who holds the key', { skip }, async (t) => {
  const { etcd, a, b } = await etcdWithClients(t);
  const first = await a.createOnly(`${P}blocks/n1/10.244.1.0-24`, 'host-a');
  assert.equal(first.created, true);
  const second = await b.createOnly(`${P}blocks/n1/10.244.1.0-24`, 'host-b');
  assert.equal(second.created, false);
  assert.equal(second.existing?.value, 'host-a');
  assert.equal((await b.createOnly(`${P}blocks/n1/10.244.2.0-24`, 'host-b')).created, true);
  assert.equal(etcd.etcdctl('get', '--print-value-only', `${P}blocks/n1/10.244.1.0-24`).trim(), 'host-a');
  const { kvs, revision } = await a.range(`${P}blocks/`);
  assert.deepEqual(kvs.map((kv) => [kv.key, kv.value]), [[`${P}blocks/n1/10.244.1.0-24`, 'host-a'], [`${P}blocks/n1/10.244.2.0-24`, 'host-b']]);
  assert.ok(revision >= 3);
  assert.equal((await a.get(`${P}nothing`)).kv, undefined);
  assert.equal(await a.delete(`${P}blocks/`, { prefix: true }), 2);
});

test('createOnly unchangedSince: refused once a key under the prefix was written after the revision read, granted on a fresh read', { skip }, async (t) => {
  const { a, b } = await etcdWithClients(t);
  const prefix = `${P}networks/`;
  const empty = await a.range(prefix);
  assert.equal((await a.createOnly(`${prefix}n1`, 'a', { unchangedSince: { prefix, revision: empty.revision } })).created, true, 'nothing written since: created');
  const seen = await a.range(prefix);
  await b.put(`${prefix}n2`, 'b');
  const stale = await a.createOnly(`${prefix}n3`, 'a', { unchangedSince: { prefix, revision: seen.revision } });
  assert.deepEqual([stale.created, stale.existing], [false, undefined], 'n2 was written after the read: refused, and n3 is not there');
  assert.equal((await a.get(`${prefix}n3`)).kv, undefined);
  const fresh = await a.range(prefix);
  assert.equal((await a.createOnly(`${prefix}n3`, 'a', { unchangedSince: { prefix, revision: fresh.revision } })).created, true);
  const taken = await b.createOnly(`${prefix}n3`, 'b', { unchangedSince: { prefix, revision: fresh.revision } });
  assert.deepEqual([taken.created, taken.existing?.value], [false, 'a'], 'the key itself taken: its holder is read back');
});

test('overlay networks created side by side get distinct VNIs; one --vni asked for twice is given once', { skip }, async (t) => {
  const { clients } = await etcdWithClients(t, 6);
  const ks = new Keyspace(P);
  const made = await Promise.all(clients.map((c, i) => defineNetwork(c, ks, `race${i}`, { subnet: `10.${100 + i}.0.0/16` })));
  assert.deepEqual(made.map((v) => v.vni).sort((x, y) => x - y), [100, 101, 102, 103, 104, 105], 'the lowest free VNIs, none twice');
  const asked = await Promise.allSettled(clients.slice(0, 2).map((c, i) => defineNetwork(c, ks, `same${i}`, { subnet: `10.${120 + i}.0.0/16`, vni: 500 })));
  assert.equal(asked.filter((r) => r.status === 'fulfilled').length, 1, 'one create gets VNI 500');
  const refused = asked.find((r) => r.status === 'rejected');
  assert.match(String((refused as PromiseRejectedResult).reason), /--vni 500 is taken in etcd by overlay network same[01]/);
  const vnis = (await clients[0]!.range(`${P}networks/`)).kvs.map((kv) => ks.networkValue(kv.key, kv.value).vni);
  assert.equal(new Set(vnis).size, vnis.length, `no VNI held by two networks: ${vnis.join(' ')}`);
});

test('list at R, a put, then watch from R+1: the put is delivered (no gap)', { skip }, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const c = Etcd.connect({ endpoints: etcd.endpoints });
  t.after(() => c.close());
  await c.put(`${P}hosts/h1`, 'one');
  const { kvs, revision } = await c.range(`${P}hosts/`);
  assert.equal(kvs.length, 1);
  etcd.etcdctl('put', `${P}hosts/h2`, 'two'); // between the list and the watch, by someone else
  const seen: WatchEvent[] = [];
  const w = c.watch(`${P}hosts/`, revision + 1, { onEvents: (events) => seen.push(...events) });
  t.after(() => w.stop());
  await waitUntil('the put made between list and watch', () => seen.length >= 1);
  assert.deepEqual(seen.map((e) => [e.type, e.kv.key, e.kv.value]), [['put', `${P}hosts/h2`, 'two']]);
  await c.put(`${P}other`, 'outside the prefix');
  await c.delete(`${P}hosts/h1`);
  await waitUntil('the delete', () => seen.length >= 2);
  assert.deepEqual(seen.map((e) => [e.type, e.kv.key]), [['put', `${P}hosts/h2`], ['delete', `${P}hosts/h1`]]);
});

test('a lease renewed on the same id survives an etcd outage longer than its TTL, with its keys', { skip }, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const agent = Etcd.connect({ endpoints: etcd.endpoints, callTimeoutMs: 1000 });
  const observer = Etcd.connect({ endpoints: etcd.endpoints });
  t.after(() => { agent.close(); observer.close(); });
  const ttl = 3;
  const newLeases: string[] = [];
  let errors = 0;
  const lease = await LeaseKeeper.start(agent, { ttl, onNewLease: (id) => newLeases.push(id), onError: () => errors++ });
  t.after(() => lease.stop());
  await agent.put(`${P}hosts/h1`, '192.0.2.1', { lease: lease.id });
  const deletes: WatchEvent[] = [];
  const { revision } = await observer.range(`${P}hosts/`);
  const w = observer.watch(`${P}hosts/`, revision + 1, { onEvents: (ev) => deletes.push(...ev.filter((e) => e.type === 'delete')) });
  t.after(() => w.stop());
  const id = lease.id;

  await etcd.kill();
  await new Promise((r) => setTimeout(r, (ttl * 2 + 1) * 1000)); // down for more than 2×TTL
  assert.ok(errors > 0, 'renewals failed while etcd was down');
  await etcd.restart();
  const renewedBefore = lease.renewals;
  await waitUntil('renewals on the same id after the restart', () => lease.renewals >= renewedBefore + 3, 20_000);
  assert.equal(lease.id, id, 'the same lease id');
  assert.deepEqual(newLeases, [], 'no new lease was granted');
  assert.equal(etcd.etcdctl('get', '--print-value-only', `${P}hosts/h1`).trim(), '192.0.2.1', 'the key is still there');
  assert.ok(Number(/remaining\((\d+)s\)/.exec(etcd.etcdctl('lease', 'timetolive', BigInt(id).toString(16)))?.[1]) > 0);
  assert.deepEqual(deletes, [], 'the observer saw no delete');

  await lease.revoke();
  await waitUntil('revoke deletes the key', () => deletes.length === 1);
  assert.equal(etcd.etcdctl('get', `${P}hosts/h1`).trim(), '');
});

test('a lease no longer renewed expires and its keys go; a keeper given a dead id grants a new one', { skip }, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const c = Etcd.connect({ endpoints: etcd.endpoints });
  t.after(() => c.close());
  const lease = await LeaseKeeper.start(c, { ttl: 2 });
  await c.put(`${P}hosts/h1`, 'x', { lease: lease.id });
  await c.put(`${P}endpoints/n1/10.244.1.2`, 'y', { lease: lease.id });
  const gone: string[] = [];
  const { revision } = await c.range(P);
  const w = c.watch(P, revision + 1, { onEvents: (ev) => gone.push(...ev.filter((e) => e.type === 'delete').map((e) => e.kv.key)) });
  t.after(() => w.stop());
  lease.stop(); // the host dies
  await waitUntil('both keys deleted by expiry', () => gone.length === 2, 15_000);
  assert.deepEqual(gone.sort(), [`${P}endpoints/n1/10.244.1.2`, `${P}hosts/h1`]);
  assert.ok((await c.timeToLive(lease.id)) <= 0);
  const next = await LeaseKeeper.start(c, { ttl: 2, id: lease.id });
  t.after(() => next.stop());
  assert.notEqual(next.id, lease.id, 'a restarted agent whose lease expired gets a new one');
  assert.ok((await c.timeToLive(next.id)) > 0);
});

test('a watch from a compacted revision is told so; listAndWatch lists again and goes on watching', { skip }, async (t) => {
  const etcd = await startEtcd();
  t.after(() => etcd.stop());
  const c = Etcd.connect({ endpoints: etcd.endpoints });
  t.after(() => c.close());
  const old = await c.put(`${P}hosts/h1`, 'a');
  await c.put(`${P}hosts/h2`, 'b');
  const latest = await c.put(`${P}hosts/h1`, 'a2');
  await c.compact(latest);

  let compactedAt: number | undefined;
  const w = c.watch(`${P}hosts/`, old, { onEvents: () => undefined, onCompacted: (rev) => { compactedAt = rev; } });
  t.after(() => w.stop());
  await waitUntil('the compaction reported', () => compactedAt !== undefined);
  assert.equal(compactedAt, latest);

  const resets: KeyValue[][] = [];
  const events: WatchEvent[] = [];
  const lw = c.listAndWatch(`${P}hosts/`, { onReset: (kvs) => resets.push(kvs), onEvents: (ev) => events.push(...ev) }, { resumeRevision: old + 1 });
  t.after(() => lw.stop());
  await waitUntil('a re-list after the compaction', () => resets.length === 1);
  assert.deepEqual(resets[0]!.map((kv) => [kv.key, kv.value]), [[`${P}hosts/h1`, 'a2'], [`${P}hosts/h2`, 'b']]);
  assert.equal(lw.lists, 1);
  await waitUntil('watching after the list', () => lw.nextRevision !== undefined);
  await c.put(`${P}hosts/h3`, 'c');
  await waitUntil('the next put', () => events.length === 1);
  assert.equal(events[0]!.kv.key, `${P}hosts/h3`);
});

for (const victim of ['leader', 'follower'] as const) {
  test(`a 3-member cluster losing a member (the ${victim}) keeps serving a client given every endpoint; a watch keeps delivering`, { skip }, async (t) => {
    const etcd = await startEtcdCluster(3);
    t.after(() => etcd.stop());
    const c = Etcd.connect({ endpoints: etcd.endpoints });
    t.after(() => c.close());
    const { revision } = await c.range(P);
    const seen = new Set<string>(); // a Put retried after an attempt's deadline may be applied twice: count keys
    const w = c.watch(P, revision + 1, { onEvents: (ev) => ev.forEach((e) => seen.add(e.kv.key)) });
    t.after(() => w.stop());
    await c.put(`${P}a`, '1');
    const leader = etcd.leader();
    await etcd.kill(victim === 'leader' ? leader : etcd.members.find((m) => m !== leader));
    // round robin meets the dead member (UNAVAILABLE: next member); a put a follower forwarded
    // to the dead leader is dropped (its attempt runs out: retried) until a new leader is elected
    for (let i = 0; i < 6; i++) await c.put(`${P}b${i}`, String(i));
    assert.equal((await c.get(`${P}b5`)).kv?.value, '5');
    await waitUntil('every put delivered to the watch', () => seen.size === 7, 15_000);
    const live = etcd.members.filter((m) => m.process !== undefined).map((m) => m.clientUrl);
    assert.equal(live.length, 2);
    assert.equal(etcd.etcdctl('--endpoints', live.join(','), 'get', '--print-value-only', `${P}b5`).trim(), '5');
  });
}
