/**
 * Unit: the delay queue's pure parts: its counter-based randomness (lab/delay-random.ts), its
 * schedule (lab/delay-schedule.ts: fates, FIFO release times, what is due, updates) and the queue
 * numbers of a node's interfaces. No packets, no clock: every call is given `now`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSeed, lowbias32, packetDraw } from '../../../src/lab/delay-random.js';
import { DelaySchedule, checkDelayParams } from '../../../src/lab/delay-schedule.js';
import { DELAY_QUEUE_COUNT, DELAY_QUEUE_FIRST, delayQueueNumber } from '../../../src/lab/delay-queue.js';

void test('draws: replayable per (seed, stream, n), uniform enough, streams and seeds independent', () => {
  assert.equal(lowbias32(0), 0);
  assert.notEqual(lowbias32(1), 1);
  assert.equal(packetDraw(7, 'loss', 123), packetDraw(7, 'loss', 123));
  const n = 20000;
  const loss = Array.from({ length: n }, (_, i) => packetDraw(7, 'loss', i));
  const jitter = Array.from({ length: n }, (_, i) => packetDraw(7, 'jitter', i));
  const other = Array.from({ length: n }, (_, i) => packetDraw(8, 'loss', i));
  for (const xs of [loss, jitter, other]) {
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((s, x) => s + x, 0) / n;
    assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
    const tenth = xs.filter((x) => x < 0.1).length;
    assert.ok(tenth > 1700 && tenth < 2300, `${tenth} of ${n} below 0.1`); // binomial sd 42: > 7 sd wide
  }
  const same = loss.filter((x, i) => (x < 0.1) === (other[i]! < 0.1) && x < 0.1).length;
  assert.ok(same < 300, `seeds 7 and 8 share ${same} losses (about 200 by chance)`);
  assert.equal(checkSeed(5), 5);
  assert.ok(Number.isInteger(checkSeed(undefined)));
  assert.throws(() => checkSeed(-1), RangeError);
  assert.throws(() => checkSeed(2 ** 32), RangeError);
});

void test('the schedule: delay added, jitter within ±jitter, FIFO never earlier than the previous release', () => {
  const s = new DelaySchedule({ delayMs: 20, jitterMs: 10 }, 1);
  let last = -Infinity;
  for (let i = 0; i < 1000; i++) {
    const now = i * 0.5;
    const f = s.arrive(i + 1, now);
    assert.equal(f.drop, false);
    if (f.drop) continue;
    assert.ok(f.releaseAt >= now + 10, 'never before delay - jitter');
    assert.ok(f.releaseAt >= last, 'FIFO');
    last = f.releaseAt;
  }
  assert.equal(s.held, 1000);
  assert.equal(s.count, 1000);
});

void test('what is due: only release times <= now, oldest first, one batch up to the last id in FIFO order', () => {
  const s = new DelaySchedule({ delayMs: 10 }, 1);
  for (let id = 1; id <= 5; id++) s.arrive(id, id);
  assert.deepEqual(s.due(10.9), { ids: [], upTo: true });
  assert.equal(s.nextAt(), 11);
  assert.deepEqual(s.due(13), { ids: [1, 2, 3], upTo: true });
  assert.equal(s.held, 2);
  assert.deepEqual(s.all(), { ids: [4, 5], upTo: true });
  assert.equal(s.nextAt(), undefined);
});

void test('reorder: each packet keeps its own time, so a later one may go first; verdicts one by one', () => {
  const s = new DelaySchedule({ delayMs: 50, jitterMs: 50, reorder: true }, 3);
  const times = new Map<number, number>();
  for (let id = 1; id <= 200; id++) {
    const f = s.arrive(id, id);
    if (!f.drop) times.set(id, f.releaseAt);
  }
  const order = s.all();
  assert.equal(order.upTo, false);
  assert.equal(order.ids.length, 200);
  const released = order.ids.map((id) => times.get(id)!);
  assert.ok(released.every((t, i) => i === 0 || t >= released[i - 1]!), 'by release time');
  assert.notDeepEqual(order.ids, [...order.ids].sort((x, y) => x - y), 'some overtaking at ±50 ms on 1 ms spacing');
});

void test('loss: the n-th packet\'s fate depends on the seed only; update applies to packets arriving later', () => {
  const fates = (seed: number): boolean[] => {
    const s = new DelaySchedule({ delayMs: 1, loss: 0.1 }, seed);
    return Array.from({ length: 2000 }, (_, i) => s.arrive(i, i).drop);
  };
  assert.deepEqual(fates(42), fates(42));
  assert.notDeepEqual(fates(42), fates(43));
  const lost = fates(42).filter(Boolean).length;
  assert.ok(lost > 120 && lost < 280, `${lost} of 2000 at 10%`);
  const s = new DelaySchedule({ delayMs: 5 }, 1);
  const a = s.arrive(1, 0);
  s.update({ delayMs: 1 });
  const b = s.arrive(2, 0);
  assert.deepEqual([a, b], [{ drop: false, releaseAt: 5 }, { drop: false, releaseAt: 5 }], 'FIFO: the faster packet waits for the one before it');
  assert.throws(() => s.update({ reorder: true }), RangeError);
});

void test('bad parameters are refused with the name of what is wrong', () => {
  assert.throws(() => checkDelayParams({ delayMs: -1 }), /delayMs/);
  assert.throws(() => checkDelayParams({ delayMs: Number.NaN }), /delayMs/);
  assert.throws(() => checkDelayParams({ delayMs: 10, jitterMs: 11 }), /jitterMs/);
  assert.throws(() => checkDelayParams({ delayMs: 10, loss: 1.5 }), /loss/);
  assert.deepEqual(checkDelayParams({ delayMs: 10 }), { delayMs: 10, jitterMs: 0, loss: 0, reorder: false });
});

void test('queue numbers: deterministic per node interface set, distinct, in range, stable when a later name is added', () => {
  const names = Array.from({ length: 300 }, (_, i) => `eth${i}`);
  const qs = names.map((n) => delayQueueNumber(n, names));
  assert.equal(new Set(qs).size, names.length);
  assert.ok(qs.every((q) => q >= DELAY_QUEUE_FIRST && q < DELAY_QUEUE_FIRST + DELAY_QUEUE_COUNT));
  assert.deepEqual(names.map((n) => delayQueueNumber(n, [...names].reverse())), qs, 'order of the list does not matter');
  assert.equal(delayQueueNumber('eth0', ['eth0']), delayQueueNumber('eth0', ['eth0', 'zz9']));
});
