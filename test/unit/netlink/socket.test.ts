/**
 * Unit: NetlinkSocket over a fake kernel transport — sequence matching, acks answered inside
 * send, delayed replies, multipart dumps, NLM_F_DUMP_INTR retries, extended-ack errors,
 * timeouts and late answers, aborts, overruns, notifications, close, and requests sent from a
 * thread pool the test runs by hand. No root, no addon.
 * Batches: batch.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkSocket, DUMP_INTR_RETRIES, type NotificationSink } from '../../../src/netlink/socket.js';
import { NLM_F } from '../../../src/netlink/wire/header.js';
import { RTM } from '../../../src/netlink/route/schema/constants.js';
import { RTNETLINK } from '../../../src/netlink/route/family.js';
import type { NetlinkFamily } from '../../../src/netlink/family.js';
import { readU32, type AttrWriter } from '../../../src/netlink/wire/attr.js';
import { AbortError, ClosedError, DumpInterruptedError, NetlinkError, SysError, TimeoutError } from '../../../src/errors.js';
import { FakeKernel, ack, concat, done, hasSettled, reply } from '../../helpers/fake-kernel.js';
import { errnoNumber } from '../../../src/errno.js';
import { encodeMessage, type NlMessage } from '../../../src/netlink/wire/message.js';

const u32 = (n: number) => (w: AttrWriter): void => { w.u32(1, n); };
const readItem = (m: NlMessage): number => readU32(m.payload.subarray(4, 8), 'item');

test('a request answered inside send() settles without the event loop, with ACK and REQUEST set', async () => {
  const k = new FakeKernel((req) => [ack(req)]);
  const s = new NetlinkSocket(k, RTNETLINK);
  await s.request(RTM.NEWLINK, NLM_F.CREATE, () => {});
  assert.equal(k.sent.length, 1);
  assert.equal(k.sent[0]!.flags & (NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE), NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE);
  assert.deepEqual(k.refs, [false], 'never held the loop open');
  s.close();
});

test('many requests in flight are matched by sequence number, answered out of order', async () => {
  const k = new FakeKernel(() => 'later');
  const s = new NetlinkSocket(k, RTNETLINK);
  const ps = Array.from({ length: 5 }, (_, i) => s.request(RTM.GETLINK, 0, u32(i), (m) => readItem(m)));
  const reqs = [...k.sent].reverse();
  k.deliver(...reqs.map((r) => concat(reply(r, RTM.NEWLINK, u32(readItem(r) * 10)), ack(r))));
  assert.deepEqual(await Promise.all(ps), [[0], [10], [20], [30], [40]]);
  assert.equal(k.refs.at(-1), false, 'the loop is released once nothing waits');
  s.close();
});

test('a multipart dump spanning datagrams collects every message until DONE', async () => {
  const k = new FakeKernel((req) => [
    concat(reply(req, RTM.NEWLINK, u32(1), NLM_F.MULTI), reply(req, RTM.NEWLINK, u32(2), NLM_F.MULTI)),
    concat(reply(req, RTM.NEWLINK, u32(3), NLM_F.MULTI), done(req)),
  ]);
  const s = new NetlinkSocket(k, RTNETLINK);
  assert.deepEqual(await s.dump(RTM.GETLINK, () => {}, readItem), [1, 2, 3]);
  assert.equal(k.sent[0]!.flags & NLM_F.DUMP, NLM_F.DUMP);
  s.close();
});

test(`an interrupted dump is retried; after ${DUMP_INTR_RETRIES} retries it fails with a retryable DumpInterruptedError`, async () => {
  let attempts = 0;
  const interruptedFor = 2;
  const k = new FakeKernel((req) => {
    attempts++;
    const intr = attempts <= interruptedFor ? NLM_F.DUMP_INTR : 0;
    return [concat(reply(req, RTM.NEWLINK, u32(attempts), NLM_F.MULTI | intr), done(req, NLM_F.MULTI | intr))];
  });
  const s = new NetlinkSocket(k, RTNETLINK);
  assert.deepEqual(await s.dump(RTM.GETLINK, () => {}, readItem), [3], 'only the consistent third dump is returned');
  assert.equal(attempts, 3, 'dumped again after each interrupted dump, and no more');
  assert.equal(new Set(k.sent.map((m) => m.seq)).size, 3, 'each attempt a new request');
  const always = new NetlinkSocket(new FakeKernel((req) => [concat(reply(req, RTM.NEWLINK, u32(0), NLM_F.MULTI | NLM_F.DUMP_INTR), done(req))]), RTNETLINK);
  await assert.rejects(always.dump(RTM.GETLINK, () => {}, readItem), (err: unknown) => {
    assert.ok(err instanceof DumpInterruptedError);
    assert.equal(err.code, 'NSBOX_ERR_DUMP_INTR');
    assert.equal(err.retryable, true);
    assert.equal(err.attempts, DUMP_INTR_RETRIES + 1);
    assert.equal(err.op, 'RTM_GETLINK');
    return true;
  });
  s.close();
  always.close();
});

test('a kernel error becomes a NetlinkError with errno name, op and extack text', async () => {
  const k = new FakeKernel((req) => [ack(req, -95, { message: 'Unknown device type', offset: 36 })]);
  const s = new NetlinkSocket(k, RTNETLINK);
  await assert.rejects(s.request(RTM.NEWLINK, 0, () => {}), (err: unknown) => {
    assert.ok(err instanceof NetlinkError);
    assert.equal(err.code, 'EOPNOTSUPP');
    assert.equal(err.errno, -95);
    assert.equal(err.op, 'RTM_NEWLINK');
    assert.deepEqual(err.extack, { message: 'Unknown device type', offset: 36 });
    assert.equal(err.message, 'RTM_NEWLINK: EOPNOTSUPP: Unknown device type');
    return true;
  });
  s.close();
});

test('errors name the request in the socket\'s family: its own name for the type, or the family and number', async () => {
  const family: NetlinkFamily = { name: 'testnl', protocol: 31, messageName: (type) => (type === 0x20 ? 'TEST_MSG_HELLO' : undefined) };
  const k = new FakeKernel((req) => [ack(req, -22)]);
  const s = new NetlinkSocket(k, family);
  assert.equal(s.family, family);
  await assert.rejects(s.request(0x20, 0, () => {}), { name: 'NetlinkError', op: 'TEST_MSG_HELLO', message: 'TEST_MSG_HELLO: EINVAL' });
  await assert.rejects(s.request(RTM.NEWLINK, 0, () => {}), { op: 'testnl type 16' }, 'type 16 is RTM_NEWLINK only in rtnetlink');
  s.close();
});

test('a dump that fails part way (error in NLMSG_DONE) rejects', async () => {
  const k = new FakeKernel((req) => [concat(reply(req, RTM.NEWROUTE, u32(1), NLM_F.MULTI), done(req, NLM_F.MULTI, -22))]);
  const s = new NetlinkSocket(k, RTNETLINK);
  await assert.rejects(s.dump(RTM.GETROUTE, () => {}, readItem), { code: 'EINVAL', op: 'RTM_GETROUTE' });
  s.close();
});

test('no answer: TimeoutError naming the request; its late answer is dropped and settles no later request', async () => {
  const k = new FakeKernel(() => 'later');
  const s = new NetlinkSocket(k, RTNETLINK, { timeoutMs: 20 });
  const notified: NlMessage[] = [];
  s.setNotificationSink({ message: (m) => notified.push(m), overrun() {} });
  const decoded: number[] = [];
  const recordItem = (m: NlMessage): number => { decoded.push(readItem(m)); return readItem(m); };
  await assert.rejects(s.request(RTM.GETLINK, 0, () => {}, recordItem), (err: unknown) => {
    assert.ok(err instanceof TimeoutError, String(err));
    assert.equal(err.code, 'NSBOX_ERR_TIMEOUT');
    assert.equal(err.op, 'RTM_GETLINK');
    assert.equal(err.timeoutMs, 20);
    return true;
  });
  assert.equal(k.refs.at(-1), false, 'nothing holds the loop open any more');
  const timedOut = k.sent[0]!;

  // The late answer (a reply, then an error) is already queued when the next request goes out,
  // so the drain right after that send reads it first.
  k.answer = () => [reply(timedOut, RTM.NEWLINK, u32(1)), ack(timedOut, -16)];
  const next = s.request(RTM.GETLINK, 0, () => {}, recordItem, { timeoutMs: 1000 });
  assert.equal(await hasSettled(next), false, 'the late error did not reject the next request');
  const req = k.sent[1]!;
  assert.notEqual(req.seq, timedOut.seq);
  k.deliver(concat(reply(req, RTM.NEWLINK, u32(2)), ack(req)));
  assert.deepEqual(await next, [2], 'it settled with its own answer only');
  assert.deepEqual(decoded, [2], 'the late reply was never decoded');
  assert.deepEqual(notified, [], 'nor taken for a notification');
  s.close();
});

test('an AbortSignal cancels a waiting request (and refuses to send when already aborted)', async () => {
  const k = new FakeKernel(() => 'later');
  const s = new NetlinkSocket(k, RTNETLINK);
  const ac = new AbortController();
  const p = s.request(RTM.NEWLINK, 0, () => {}, undefined, { signal: ac.signal });
  ac.abort('stop');
  await assert.rejects(p, (err: unknown) => err instanceof AbortError && err.cause === 'stop');
  await assert.rejects(s.request(RTM.NEWLINK, 0, () => {}, undefined, { signal: ac.signal }), AbortError);
  assert.equal(k.sent.length, 1, 'nothing sent for the aborted signal');
  s.close();
});

test('a send that would block rejects with SysError EAGAIN from sendto, and nothing waits', async () => {
  const k = new FakeKernel((req) => [ack(req)]);
  k.sendWouldBlock = true;
  const s = new NetlinkSocket(k, RTNETLINK);
  await assert.rejects(s.request(RTM.NEWLINK, 0, () => {}), { name: 'SysError', code: 'EAGAIN', errno: -11, syscall: 'sendto' });
  await assert.rejects(s.requestBatch([{ type: RTM.NEWADDR, body: () => {} }]), { name: 'SysError', code: 'EAGAIN' });
  k.sendWouldBlock = false;
  await s.request(RTM.NEWLINK, 0, () => {});
  assert.deepEqual(k.refs, [false], 'never held the loop open');
  s.close();
});

test('ENOBUFS fails every waiting request and tells the notification sink to resync', async () => {
  const k = new FakeKernel(() => 'later');
  const s = new NetlinkSocket(k, RTNETLINK);
  const overruns: SysError[] = [];
  const sink: NotificationSink = { message() {}, overrun: (e) => overruns.push(e) };
  s.setNotificationSink(sink);
  const p = s.request(RTM.GETLINK, 0, () => {});
  k.recvError = new SysError(errnoNumber('ENOBUFS'), 'recv');
  k.deliver();
  await assert.rejects(p, { code: 'ENOBUFS' });
  assert.equal(overruns.length, 1);
  s.close();
});

test('notifications (sequence 0, or another process\'s request) go to the sink, not to requests', async () => {
  const k = new FakeKernel(() => 'later');
  const s = new NetlinkSocket(k, RTNETLINK);
  const got: number[] = [];
  s.setNotificationSink({ message: (m) => got.push(m.type), overrun() {} });
  const p = s.request(RTM.GETLINK, 0, () => {}, readItem);
  const req = k.sent[0]!;
  // Another process's request with the same sequence number: its notification is not our reply.
  const foreign = encodeMessage({ type: RTM.NEWLINK, flags: 0, seq: req.seq, pid: k.portId + 1 }, u32(7));
  const kernelEvent = encodeMessage({ type: RTM.DELLINK, flags: 0, seq: 0, pid: 0 }, u32(8));
  k.deliver(foreign, kernelEvent);
  assert.equal(await hasSettled(p), false);
  assert.deepEqual(got, [RTM.NEWLINK, RTM.DELLINK]);
  k.deliver(concat(reply(req, RTM.NEWLINK, u32(9)), ack(req)));
  assert.deepEqual(await p, [9], 'only the reply carrying our port id was decoded');
  assert.deepEqual(got, [RTM.NEWLINK, RTM.DELLINK], 'and it is not a notification');
  s.close();
});

test('close() rejects waiting requests with ClosedError and refuses new ones; it is idempotent', async () => {
  const k = new FakeKernel(() => 'later');
  const s = new NetlinkSocket(k, RTNETLINK);
  const p = s.request(RTM.NEWLINK, 0, () => {});
  s.close();
  s.close();
  await assert.rejects(p, ClosedError);
  await assert.rejects(s.request(RTM.NEWLINK, 0, () => {}), { code: 'NSBOX_ERR_CLOSED' });
  assert.equal(k.closed, true);
});

test('send(): messages in one datagram without NLM_F_ACK, consecutive sequence numbers, nothing awaited; false when the socket would block', () => {
  const k = new FakeKernel(() => 'later');
  const s = new NetlinkSocket(k, RTNETLINK);
  assert.equal(s.send([{ type: RTM.NEWLINK, body: u32(1) }, { type: RTM.NEWLINK, flags: NLM_F.CREATE, body: u32(2) }]), true);
  assert.equal(k.datagrams.length, 1);
  assert.deepEqual(k.sent.map((m) => m.flags), [NLM_F.REQUEST, NLM_F.REQUEST | NLM_F.CREATE]);
  assert.equal(k.sent[1]!.seq, k.sent[0]!.seq + 1);
  assert.deepEqual(k.refs, [false], 'nothing waits');
  k.sendWouldBlock = true;
  assert.equal(s.send([{ type: RTM.NEWLINK, body: u32(3) }]), false);
  s.close();
  assert.throws(() => s.send([{ type: RTM.NEWLINK, body: u32(4) }]), ClosedError);
});

/** A fake kernel whose sends may go through a "thread pool" the test runs by hand. */
class PoolKernel extends FakeKernel {
  readonly queued: (() => void)[] = [];
  sendInBackground(bytes: Uint8Array, sent: (err: Error | undefined) => void): void {
    const copy = bytes.slice();
    this.queued.push(() => { this.send(copy); sent(undefined); });
  }
  /** Run the queued sends, as pool threads would. */
  runPool(): void {
    for (const run of this.queued.splice(0)) run();
  }
}

test('background: the request goes out when the pool sends it, not before; its answer inside that send settles it; the socket is held open meanwhile', async () => {
  const k = new PoolKernel((req) => [ack(req)]);
  const s = new NetlinkSocket(k, RTNETLINK);
  const pending = s.request(RTM.DELLINK, 0, () => {}, undefined, { background: true });
  const inPlace = s.request(RTM.NEWLINK, 0, () => {});
  assert.equal(await hasSettled(inPlace), true, 'a request sent in place meanwhile is answered');
  assert.deepEqual(k.sent.map((m) => m.type), [RTM.NEWLINK], 'the background one not sent yet');
  assert.equal(k.refs.at(-1), true, 'the loop is held open while it waits for the pool');
  assert.equal(await hasSettled(pending), false);
  k.runPool();
  await pending;
  assert.deepEqual(k.sent.map((m) => m.type), [RTM.NEWLINK, RTM.DELLINK]);
  assert.equal(k.refs.at(-1), false, 'nothing holds the loop open any more');
  s.close();
});

test('background: the timeout counts from the send (a slow pool is not a late answer); a failed send rejects with its error; no pool: sent in place', async () => {
  const k = new PoolKernel((req) => [ack(req)]);
  const s = new NetlinkSocket(k, RTNETLINK, { timeoutMs: 20 });
  const slow = s.request(RTM.DELLINK, 0, () => {}, undefined, { background: true });
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(await hasSettled(slow), false, 'not timed out while the pool had not sent it');
  k.runPool();
  await slow;

  k.answer = () => 'later';
  const late = s.request(RTM.DELLINK, 0, () => {}, undefined, { background: true });
  k.runPool();
  await assert.rejects(late, { name: 'TimeoutError', timeoutMs: 20 }, 'once sent, the usual timeout');

  const failing = new PoolKernel();
  failing.sendInBackground = (_bytes, sent) => { setImmediate(() => sent(new SysError(errnoNumber('ENOBUFS'), 'sendmsg'))); };
  const f = new NetlinkSocket(failing, RTNETLINK);
  await assert.rejects(f.request(RTM.DELLINK, 0, () => {}, undefined, { background: true }), { name: 'SysError', code: 'ENOBUFS' });
  assert.equal(failing.refs.at(-1), false);
  f.close();

  const plain = new FakeKernel((req) => [ack(req)]);
  const p = new NetlinkSocket(plain, RTNETLINK);
  await p.request(RTM.DELLINK, 0, () => {}, undefined, { background: true });
  assert.deepEqual(plain.refs, [false], 'answered inside send(), in place: never held the loop open');
  p.close();
  s.close();
});
