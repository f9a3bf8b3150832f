/**
 * Integration (root, throwaway host): delay and jitter by NFQUEUE (lab/delay-queue.ts) with real
 * traffic between two namespaces joined by a veth (a: va 10.91.0.1, b: vb 10.91.0.2). B's fault
 * table (`inet nsbox_fault`) sends what leaves through vb to a queue (the sender's side, so
 * ping's receive timestamps see the hold); a DelayQueue engine in this process, bound to that
 * queue in b's namespace, holds each packet's verdict. Pings go a -> b (b's replies are held),
 * datagrams b -> a.
 *
 * Checked with ping (run as a child process, never blocking this event loop, which the engine
 * runs on) and UDP datagrams from this process: the delay is a lower bound on every RTT (no
 * upper bound is asserted), jitter spreads RTTs and none is below delay - jitter, 2000 datagrams
 * all arrive, seeded loss drops the same sequence numbers in two runs and other ones with another
 * seed, the rule without a listener passes traffic (bypass), and close() unbinds the queue.
 * Counts come from the receiver, the engine and the kernel (/proc and the rule's counter).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultTable } from '../../../src/firewall/index.js';
import { DelayQueue, delayQueueNumber } from '../../../src/lab/delay-queue.js';
import { NfQueue, readNfqProcStats } from '../../../src/netlink/nfqueue/ops/index.js';
import { makeNetns, type TestNetns } from '../../helpers/netns.js';
import { ip } from '../../helpers/iproute.js';
import { checkLeaksAfterAll } from '../../helpers/rtnl.js';
import { UdpEndpoint } from '../../helpers/flows.js';
import { nft } from '../../helpers/nft.js';
import { waitUntil } from '../../helpers/wait.js';

const run = promisify(execFile);
const A = '10.91.0.1';
const B = '10.91.0.2';
let a: TestNetns, b: TestNetns;
let faults: FaultTable;
const QUEUE = delayQueueNumber('vb', ['vb']);
let nextPort = 30000 + Math.floor(Math.random() * 20000);
const port = (): number => nextPort++;

after(() => {
  faults?.close();
  for (const ns of [a, b]) ns?.[Symbol.dispose]();
});
checkLeaksAfterAll();

before(() => {
  [a, b] = [makeNetns(), makeNetns()];
  ip(a.name, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b.name);
  for (const [ns, dev, addr] of [[a, 'va', A], [b, 'vb', B]] as const) {
    ip(ns.name, 'link', 'set', dev, 'addrgenmode', 'none');
    ip(ns.name, 'addr', 'add', `${addr}/24`, 'dev', dev);
    ip(ns.name, 'link', 'set', dev, 'up');
  }
  faults = FaultTable.open({ netns: b.path });
});

interface Rtt {
  min: number;
  avg: number;
  max: number;
  mdev: number;
  received: number;
}

/** ping from a to b, `count` times every `interval` s, in a child process (this event loop keeps running the engine). */
async function ping(count: number, interval = 0.05): Promise<Rtt> {
  const { stdout } = await run('ip', ['netns', 'exec', a.name, 'ping', '-n', '-q', '-c', String(count), '-i', String(interval), '-W', '2', B]);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(stdout);
  const rx = /(\d+) received/.exec(stdout);
  assert.ok(rtt && rx, `ping output: ${stdout}`);
  return { min: Number(rtt[1]), avg: Number(rtt[2]), max: Number(rtt[3]), mdev: Number(rtt[4]), received: Number(rx[1]) };
}

/**
 * Send `count` datagrams b → a carrying their sequence numbers, `perMs` per millisecond; returns
 * the sequence numbers a received once `settled()` says nothing more can come.
 */
async function udpRun(count: number, perMs: number, settled: () => boolean): Promise<Set<number>> {
  using tx = new UdpEndpoint(b.fd, B, port());
  using rx = new UdpEndpoint(a.fd, A, port());
  const got = new Set<number>();
  const drain = (): void => {
    for (let d = rx.take(); d !== undefined; d = rx.take()) got.add(Number(d));
  };
  for (let i = 0; i < count; i++) {
    tx.send(A, rx.port, String(i));
    if (i % perMs === perMs - 1) {
      drain();
      await sleep(1);
    }
  }
  await waitUntil('every datagram arrived or was dropped', () => {
    drain();
    return got.size === count || settled();
  });
  await sleep(50);
  drain();
  return got;
}

test('the delay rule: one per interface, at postrouting, queue with bypass (compat target where nft has no queue expression), read back', async () => {
  await faults.setDelayQueue('vb', QUEUE);
  const listed = nft(b.name, 'list', 'chain', 'inet', 'nsbox_fault', 'post');
  assert.match(listed, /hook postrouting priority 300/);
  assert.match(listed, new RegExp(`oifname "vb" counter packets \\d+ bytes \\d+ queue (flags bypass )?(num|to) ${QUEUE}( bypass)? comment "delay vb"`));
  assert.doesNotMatch(nft(b.name, 'list', 'chain', 'inet', 'nsbox_fault', 'pre'), /queue/, 'nothing queued on arrival');
  await faults.setDelayQueue('vb', QUEUE); // the same again changes nothing
  assert.equal((nft(b.name, 'list', 'chain', 'inet', 'nsbox_fault', 'post').match(/queue/g) ?? []).length, 1);
  assert.deepEqual(Object.keys((await faults.state()).delayQueues), ['vb']);
  assert.equal((await faults.state()).delayQueues.vb?.queue, QUEUE);
  await assert.rejects(faults.setDelayQueue('vb', 70000), RangeError);
  await assert.rejects(faults.setDelayQueue('a-name-far-too-long', 1), TypeError);
});

test('with the rule and no listener, bypass passes traffic undelayed', async () => {
  await faults.setDelayQueue('vb', QUEUE);
  assert.equal(readNfqProcStats(b.fd).length, 0, 'nothing bound');
  const r = await ping(10, 0.02);
  assert.equal(r.received, 10);
  assert.ok(r.min < 5, `undelayed: min RTT ${r.min} ms`);
  assert.ok(((await faults.state()).delayQueues.vb?.packets ?? 0n) >= 10n, 'the packets went through the rule');
});

test('20 ms delay on what b sends: every RTT at least 20 ms; baseline below 5 ms', async () => {
  const base = await ping(10, 0.02);
  assert.ok(base.min < 5, `baseline min RTT ${base.min} ms`);
  const q = await DelayQueue.open({ netns: b.path, queue: QUEUE, delayMs: 20 });
  try {
    const r = await ping(20);
    assert.equal(r.received, 20);
    assert.ok(r.min >= 20, `min RTT ${r.min} ms with 20 ms delay`);
    const st = q.stats();
    assert.equal(st.received, 20);
    assert.equal(st.released, 20);
    assert.equal(st.held, 0);
    assert.equal(st.dropped, 0);
    assert.equal(st.userDropped, 0);
  } finally {
    await q.close();
  }
});

test('jitter 10 ms on 20 ms: RTTs spread (mdev > 1 ms), none below delay - jitter', async () => {
  const q = await DelayQueue.open({ netns: b.path, queue: QUEUE, delayMs: 20, jitterMs: 10 });
  try {
    const r = await ping(40);
    assert.equal(r.received, 40);
    assert.ok(r.min >= 10, `min RTT ${r.min} ms`);
    assert.ok(r.mdev > 1, `mdev ${r.mdev} ms`);
    q.update({ jitterMs: 0, delayMs: 30 });
    const r2 = await ping(5);
    assert.ok(r2.min >= 30, `after update: min RTT ${r2.min} ms`);
  } finally {
    await q.close();
  }
});

test('UDP: 2000 datagrams at about 2 per ms through 20 ms all arrive', async () => {
  const q = await DelayQueue.open({ netns: b.path, queue: QUEUE, delayMs: 20 });
  try {
    const got = await udpRun(2000, 2, () => false);
    assert.equal(got.size, 2000);
    const st = q.stats();
    assert.equal(st.received, 2000);
    assert.equal(st.released, 2000);
    assert.equal(st.queueDropped + st.userDropped + st.overruns, 0);
    assert.ok(st.verdictMessages <= 2000);
  } finally {
    await q.close();
  }
});

/** One run of 1000 sequence-numbered datagrams through 10% seeded loss: the numbers lost. */
async function lossRun(seed: number): Promise<number[]> {
  const q = await DelayQueue.open({ netns: b.path, queue: QUEUE, delayMs: 1, loss: 0.1, seed });
  try {
    const got = await udpRun(1000, 1, () => q.stats().received === 1000 && q.stats().held === 0);
    const st = q.stats();
    assert.equal(st.received, 1000);
    assert.equal(st.dropped + got.size, 1000, 'every datagram arrived or was dropped by the engine');
    return Array.from({ length: 1000 }, (_, i) => i).filter((i) => !got.has(i));
  } finally {
    await q.close();
  }
}

test('seeded loss 10%: the same seed drops the same sequence numbers, another seed others', async () => {
  const first = await lossRun(7);
  const again = await lossRun(7);
  const other = await lossRun(8);
  assert.ok(first.length > 50 && first.length < 150, `${first.length} of 1000 lost at 10%`);
  assert.deepEqual(again, first);
  assert.notDeepEqual(other, first);
});

test('a second engine on a bound queue is refused (EBUSY) and changes nothing', async () => {
  const q = await DelayQueue.open({ netns: b.path, queue: QUEUE, delayMs: 5 });
  try {
    await assert.rejects(NfQueue.bind({ netns: b.path, queue: QUEUE, onPacket: () => undefined }), /EBUSY|EPERM/);
    assert.equal((await ping(3, 0.02)).min >= 5, true);
  } finally {
    await q.close();
  }
});

test('close() unbinds: traffic flows undelayed, and after the rule is removed', async () => {
  const q = await DelayQueue.open({ netns: b.path, queue: QUEUE, delayMs: 50 });
  assert.equal(readNfqProcStats(b.fd).filter((s) => s.queue === QUEUE).length, 1);
  await q.close();
  await q.close();
  assert.equal(readNfqProcStats(b.fd).filter((s) => s.queue === QUEUE).length, 0);
  assert.ok((await ping(5, 0.02)).min < 5, 'undelayed after close');
  await faults.setDelayQueue('vb', undefined);
  assert.deepEqual((await faults.state()).delayQueues, {});
  assert.doesNotMatch(nft(b.name, 'list', 'table', 'inet', 'nsbox_fault'), /queue/);
  const r = await ping(5, 0.02);
  assert.equal(r.received, 5);
  assert.ok(r.min < 5);
  await faults.setDelayQueue('vb', QUEUE);
  await faults.heal();
  assert.deepEqual((await faults.state()).delayQueues, {}, 'heal deletes delay rules');
});
