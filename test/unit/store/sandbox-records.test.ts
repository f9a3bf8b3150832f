/**
 * Unit (no root): src/store/sandbox-records.ts on a temporary database. Insert, get, list,
 * setState, update and delete; a taken name or key is refused; update is one read-modify-write
 * transaction, so two connections updating the same record lose nothing; the --dns servers
 * ride along in the configuration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SandboxRecords, emptyConfig, type SandboxConfig } from '../../../src/store/index.js';
import { impatientDb, inWorkers, openTestDb, tempStoreDir } from '../../helpers/store.js';

const config = (gateway: string): SandboxConfig => ({ ...emptyConfig(), gateway });

void test('insert, get, list, setState, update, delete', (t) => {
  const records = new SandboxRecords(openTestDb(t, tempStoreDir(t)));
  assert.equal(records.insert({ name: 'a', key: '/run/netns/a', labels: { team: 'net' }, config: config('10.0.0.1') }), true);
  assert.equal(records.insert({ name: 'b', key: '/run/netns/b', labels: {}, config: emptyConfig() }), true);
  const a = records.get('a');
  assert.ok(a);
  assert.deepEqual({ ...a, createdAt: '' }, {
    name: 'a', key: '/run/netns/a', state: 'creating', createdAt: '', labels: { team: 'net' }, config: config('10.0.0.1'),
  });
  assert.equal(new Date(a.createdAt).toISOString(), a.createdAt, 'createdAt is an ISO 8601 UTC time');
  assert.deepEqual(records.list().map((r) => r.name), ['a', 'b'], 'in creation order');
  assert.equal(records.get('nope'), undefined);

  records.setState('a', 'ready');
  assert.equal(records.get('a')?.state, 'ready');
  assert.equal(records.get('b')?.state, 'creating', 'only the named record');

  const updated = records.update('a', (c) => { c.routes.push({ destination: '10.1.0.0/16', nextHop: '10.0.0.1' }); });
  assert.deepEqual(updated?.config.routes, [{ destination: '10.1.0.0/16', nextHop: '10.0.0.1' }], 'returns the new record');
  assert.deepEqual(records.get('a'), updated, 'and stores it');
  let called = false;
  assert.equal(records.update('nope', () => { called = true; }), undefined);
  assert.equal(called, false, 'no change function for a missing record');

  assert.equal(records.delete('a'), true);
  assert.equal(records.delete('a'), false, 'already gone');
  assert.equal(records.get('a'), undefined);
  assert.deepEqual(records.list().map((r) => r.name), ['b']);
});

void test('insert of a taken name or a taken key returns false and changes nothing', (t) => {
  const records = new SandboxRecords(openTestDb(t, tempStoreDir(t)));
  assert.equal(records.insert({ name: 'a', key: '/k/a', labels: {}, config: config('10.0.0.1') }), true);
  const before = records.list();
  assert.equal(records.insert({ name: 'a', key: '/k/other', labels: { x: 'y' }, config: config('10.9.9.9') }), false, 'the name is taken');
  assert.equal(records.insert({ name: 'other', key: '/k/a', labels: {}, config: emptyConfig() }), false, 'the key is taken');
  assert.deepEqual(records.list(), before);
});

void test('a record stored with part of its configuration gets the defaults for the rest', (t) => {
  const db = openTestDb(t, tempStoreDir(t));
  db.prepare("INSERT INTO sandboxes (name, key, state, created_at, config) VALUES ('old', '/k', 'ready', '2020-01-01T00:00:00.000Z', ?)")
    .run(JSON.stringify({ gateway: '10.0.0.1' }));
  assert.deepEqual(new SandboxRecords(db).get('old')?.config, { interfaces: [], routes: [], neighbors: [], gateway: '10.0.0.1' });
  assert.equal(new SandboxRecords(db).get('old')?.config.dns, undefined, 'a record from before --dns: the host\'s servers');
});

void test('the --dns servers are kept with the configuration (no migration: the configuration is one JSON column)', (t) => {
  const records = new SandboxRecords(openTestDb(t, tempStoreDir(t)));
  records.insert({ name: 'a', key: '/k', labels: {}, config: { ...emptyConfig(), dns: ['192.0.2.53', '2001:db8::53'] } });
  records.update('a', (c) => { c.routes.push({ destination: '10.1.0.0/16', nextHop: '10.0.0.1' }); });
  assert.deepEqual(records.get('a')?.config.dns, ['192.0.2.53', '2001:db8::53']);
});

void test('update is read-modify-write in one transaction: another connection cannot write between the read and the write', (t) => {
  const dir = tempStoreDir(t);
  const a = new SandboxRecords(openTestDb(t, dir));
  const b = new SandboxRecords(impatientDb(t, dir));
  assert.equal(a.insert({ name: 's', key: '/k', labels: {}, config: emptyConfig() }), true);
  a.update('s', (c) => {
    c.routes.push({ destination: 'from-a', nextHop: '' });
    // Another process updating now must wait for a's transaction (here: SQLITE_BUSY at once),
    // or it would read the record without a's route and write it back without it.
    assert.throws(() => b.update('s', (c2) => { c2.routes.push({ destination: 'from-b', nextHop: '' }); }), { code: 'SQLITE_BUSY' });
    assert.throws(() => b.setState('s', 'removing'), { code: 'SQLITE_BUSY' });
  });
  b.update('s', (c) => { c.routes.push({ destination: 'from-b', nextHop: '' }); });
  assert.deepEqual(a.get('s')?.config.routes.map((r) => r.destination), ['from-a', 'from-b'], 'both updates are there');
});

void test('two connections updating one record at the same time lose no update', async (t) => {
  const dir = tempStoreDir(t);
  const records = new SandboxRecords(openTestDb(t, dir));
  assert.equal(records.insert({ name: 's', key: '/k', labels: {}, config: emptyConfig() }), true);
  const COUNT = 200;
  await inWorkers(dir, 2, { kind: 'update', name: 's', count: COUNT });
  const routes = records.get('s')!.config.routes.map((r) => r.destination);
  assert.equal(routes.length, 2 * COUNT, 'every update is in');
  for (const w of [0, 1]) {
    assert.deepEqual(routes.filter((r) => r.startsWith(`${w}:`)), Array.from({ length: COUNT }, (_, i) => `${w}:${i}`), `worker ${w}'s, in its order`);
  }
});
