/**
 * Unit (no root): src/store/lab-records.ts on a temporary database. An `up` begins a record in
 * state applying (a second begin replaces spec, digest and file, keeps created_at and faults);
 * states move; faults are put (replacing one of the same name), listed per lab, listed by time
 * to heal across labs, removed; removing a lab removes its faults.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabRecords } from '../../../src/store/index.js';
import { openTestDb, tempStoreDir } from '../../helpers/store.js';

void test('beginApply makes or replaces the record in state applying; setState; list; remove', (t) => {
  const labs = new LabRecords(openTestDb(t, tempStoreDir(t)));
  const first = labs.beginApply('demo', { lab: 'demo', nodes: [] }, 'd1', '/tmp/demo.yaml');
  assert.equal(first.state, 'applying');
  assert.deepEqual(first.spec, { lab: 'demo', nodes: [] });
  assert.equal(labs.setState('demo', 'up'), true);
  assert.equal(labs.setState('other', 'up'), false, 'no such lab');
  const again = labs.beginApply('demo', { lab: 'demo', nodes: ['n1'] }, 'd2', undefined);
  assert.equal(again.state, 'applying');
  assert.equal(again.digest, 'd2');
  assert.equal(again.file, undefined);
  assert.equal(again.createdAt, first.createdAt, 'created once');
  labs.beginApply('alpha', {}, 'd3', undefined);
  assert.deepEqual(labs.list().map((l) => l.name), ['alpha', 'demo']);
  assert.equal(labs.remove('demo'), true);
  assert.equal(labs.remove('demo'), false, 'already gone');
  assert.equal(labs.get('demo'), undefined);
});

void test('faults: put replaces by name, timedFaults orders by time to heal, remove and lab removal drop them', (t) => {
  const labs = new LabRecords(openTestDb(t, tempStoreDir(t)));
  labs.beginApply('a', {}, 'x', undefined);
  labs.beginApply('b', {}, 'y', undefined);
  labs.putFault('a', 'split', { blocked: { 'a.n1': ['10.0.0.2'] } }, undefined);
  labs.putFault('a', 'slow', { link: 'wan' }, '2026-12-07T10:00:05.000Z');
  labs.putFault('b', 'cut', { link: 'l1' }, '2026-12-07T10:00:01.000Z');
  labs.putFault('a', 'split', { blocked: { 'a.n1': ['10.0.0.3'] } }, undefined);
  assert.deepEqual(labs.faults('a').map((f) => [f.name, f.spec]).sort(), [['slow', { link: 'wan' }], ['split', { blocked: { 'a.n1': ['10.0.0.3'] } }]]);
  assert.deepEqual(labs.timedFaults().map((f) => `${f.lab}/${f.name}`), ['b/cut', 'a/slow']);
  assert.equal(labs.removeFault('a', 'slow'), true);
  assert.equal(labs.removeFault('a', 'slow'), false);
  labs.remove('a');
  assert.deepEqual(labs.faults('a'), []);
  assert.deepEqual(labs.faults('b').map((f) => f.name), ['cut']);
});
