/**
 * Unit: NetlinkSocket.requestBatch over fake kernels. An rtnetlink-like one answers each message
 * in order as it reads it; FakeNfTables answers the way nfnetlink does (errors after the whole
 * batch, all or nothing). One datagram per batch, acks matched per message by sequence number,
 * the failing message identified, late answers dropped, messages without ack, timeouts, aborts.
 * No root, no addon.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkSocket } from '../../../src/netlink/socket.js';
import type { BatchMessage } from '../../../src/netlink/batch.js';
import { NLM_F } from '../../../src/netlink/wire/header.js';
import { readU32, type AttrWriter } from '../../../src/netlink/wire/attr.js';
import type { NlMessage } from '../../../src/netlink/wire/message.js';
import { RTM } from '../../../src/netlink/route/schema/constants.js';
import { RTNETLINK } from '../../../src/netlink/route/family.js';
import { AbortError, ClosedError, NetlinkError, TimeoutError } from '../../../src/errors.js';
import { FakeKernel, ack, concat, hasSettled, reply } from '../../helpers/fake-kernel.js';
import { FakeNfTables } from '../../helpers/fake-nfnetlink.js';
import { NFNETLINK, NFNL_MSG, NFT_MSG, batchBegin, batchEnd, delTable, newTable, nftType } from '../../helpers/nfnetlink.js';

const u32 = (n: number) => (w: AttrWriter): void => { w.u32(1, n); };
const readItem = (m: NlMessage): number => readU32(m.payload.subarray(4, 8), 'item');
/** An RTM_NEWADDR-like message carrying `n`. */
const item = (n: number, extra: Partial<BatchMessage> = {}): BatchMessage => ({ type: RTM.NEWADDR, flags: NLM_F.CREATE, body: u32(n), ...extra });

test('a batch goes out as one datagram: consecutive sequence numbers, REQUEST on each, ACK unless declined', async () => {
  const k = new FakeKernel((req) => ((req.flags & NLM_F.ACK) !== 0 ? [ack(req)] : []));
  const s = new NetlinkSocket(k, RTNETLINK);
  const results = await s.requestBatch([item(1), item(2, { ack: false, flags: NLM_F.CREATE | NLM_F.EXCL }), item(3)]);
  assert.deepEqual(results, [[], [], []]);
  assert.equal(k.datagrams.length, 1, 'one sendmsg');
  const [a, b, c] = k.datagrams[0]!;
  assert.ok(a && b && c);
  assert.deepEqual([b.seq - a.seq, c.seq - a.seq], [1, 2]);
  assert.equal(a.flags, NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE);
  assert.equal(b.flags, NLM_F.REQUEST | NLM_F.CREATE | NLM_F.EXCL, 'no ACK on a message that declines one');
  assert.deepEqual(k.datagrams[0]!.map(readItem), [1, 2, 3]);
  assert.deepEqual(k.refs, [false], 'answered inside send: never held the loop open');
  s.close();
});

test('replies are decoded per message and returned in message order', async () => {
  const k = new FakeKernel((req) => [concat(reply(req, RTM.NEWADDR, u32(readItem(req) * 10)), reply(req, RTM.NEWADDR, u32(readItem(req) * 10 + 1)), ack(req))]);
  const s = new NetlinkSocket(k, RTNETLINK);
  const [first, second, third] = await s.requestBatch([
    { type: RTM.NEWADDR, body: u32(1), decode: readItem },
    { type: RTM.NEWADDR, body: u32(2), decode: (m: NlMessage) => `#${readItem(m)}` },
    { type: RTM.NEWADDR, body: u32(3) },
  ]);
  const typed: [number[], string[]] = [first, second]; // each result is typed by its message's decode
  assert.deepEqual(typed[0], [10, 11]);
  assert.deepEqual(second, ['#20', '#21']);
  assert.deepEqual(third, [], 'no decode: replies are not kept');
  s.close();
});

test('acks arriving out of order are matched to their messages; the batch settles on the last one', async () => {
  const k = new FakeKernel(() => 'later');
  const s = new NetlinkSocket(k, RTNETLINK);
  const p = s.requestBatch([item(1), item(2), item(3)]);
  const [a, b, c] = k.datagrams[0]!;
  assert.ok(a && b && c);
  k.deliver(ack(c));
  k.deliver(ack(a));
  assert.equal(await hasSettled(p), false, 'one ack still missing');
  k.deliver(ack(a), ack(c));
  assert.equal(await hasSettled(p), false, 'a repeated ack does not count twice');
  k.deliver(ack(b));
  assert.deepEqual(await p, [[], [], []]);
  assert.equal(k.refs.at(-1), false, 'the loop is released once nothing waits');
  s.close();
});

test('the first error rejects the batch with a NetlinkError naming the message: index, op, errno, extack', async () => {
  const k = new FakeKernel((req) => [readItem(req) === 2 ? ack(req, -17, { message: 'Address already assigned', offset: 20 }) : ack(req)]);
  const s = new NetlinkSocket(k, RTNETLINK);
  await assert.rejects(s.requestBatch([item(0), { type: RTM.NEWROUTE, body: u32(1) }, item(2), item(3)]), (err: unknown) => {
    assert.ok(err instanceof NetlinkError, String(err));
    assert.equal(err.batchIndex, 2);
    assert.equal(err.op, 'RTM_NEWADDR');
    assert.equal(err.code, 'EEXIST');
    assert.equal(err.errno, -17);
    assert.deepEqual(err.extack, { message: 'Address already assigned', offset: 20 });
    assert.equal(err.message, 'RTM_NEWADDR (batch message 2): EEXIST: Address already assigned');
    return true;
  });
  assert.equal(k.datagrams[0]?.length, 4, 'sent whole: what the kernel did with the others is its rule');
  s.close();
});

test('an error for a message that asked for no ack still fails the batch', async () => {
  const k = new FakeKernel((req) => [readItem(req) === 1 ? ack(req, -22) : ack(req)]);
  const s = new NetlinkSocket(k, RTNETLINK);
  await assert.rejects(s.requestBatch([item(0), item(1, { ack: false }), item(2)]), { name: 'NetlinkError', code: 'EINVAL', batchIndex: 1, op: 'RTM_NEWADDR' });
  s.close();
});

test('tolerate turns an error into a result of its message, and the batch goes on to the last ack', async () => {
  // -2 ENOENT for 1 and 3, -17 EEXIST for 4: a delete batch where some targets are gone already
  const k = new FakeKernel((req) => [[1, 3].includes(readItem(req)) ? ack(req, -2) : readItem(req) === 4 ? ack(req, -17) : ack(req)]);
  const s = new NetlinkSocket(k, RTNETLINK);
  const seen: NetlinkError[] = [];
  const gone = (e: NetlinkError): 'gone' | undefined => {
    seen.push(e);
    return e.code === 'ENOENT' ? 'gone' : undefined;
  };
  const del = (n: number): BatchMessage<'gone'> => ({ type: RTM.DELADDR, body: u32(n), tolerate: gone });
  assert.deepEqual(await s.requestBatch([del(0), del(1), del(2), del(3)]), [[], ['gone'], [], ['gone']]);
  assert.deepEqual(seen.map((e) => [e.code, e.batchIndex, e.op]), [['ENOENT', 1, 'RTM_DELADDR'], ['ENOENT', 3, 'RTM_DELADDR']]);
  // an error it does not tolerate (undefined) fails the batch as usual
  await assert.rejects(s.requestBatch([del(1), del(4), del(5)]), { name: 'NetlinkError', code: 'EEXIST', batchIndex: 1 });
  // a tolerated error of a message that asked for no ack is kept; the acked ones settle the batch
  assert.deepEqual(await s.requestBatch([{ ...del(3), ack: false }, del(6)]), [['gone'], []]);
  assert.throws(() => s.requestBatch([{ ...del(0), tolerate: 'ENOENT' as unknown as () => undefined }]), /batch message 0: tolerate must be a function/);
  s.close();
});

test('answers to a settled batch are dropped: they settle no later call and reach no subscriber', async () => {
  const k = new FakeKernel(() => 'later');
  const s = new NetlinkSocket(k, RTNETLINK);
  const notified: NlMessage[] = [];
  s.setNotificationSink({ message: (m) => notified.push(m), overrun() {} });
  const decoded: number[] = [];
  const record = (m: NlMessage): number => { decoded.push(readItem(m)); return 0; };
  const failed = s.requestBatch([item(0, { decode: record }), item(1, { decode: record }), item(2, { decode: record })]);
  const [a, b, c] = k.datagrams[0]!;
  assert.ok(a && b && c);
  k.deliver(ack(b, -17));
  await assert.rejects(failed, { code: 'EEXIST', batchIndex: 1 });

  // The rest of the batch's answers come while the next call waits; they must not touch it.
  const next = s.request(RTM.GETLINK, 0, () => {}, readItem);
  const req = k.sent.at(-1)!;
  k.deliver(ack(a), reply(c, RTM.NEWADDR, u32(99)), ack(c, -22));
  assert.equal(await hasSettled(next), false, 'the late answers did not settle it');
  k.deliver(concat(reply(req, RTM.NEWLINK, u32(7)), ack(req)));
  assert.deepEqual(await next, [7], 'it got its own answer');
  assert.deepEqual(notified, [], 'a late answer is not a notification');
  assert.deepEqual(decoded, [], 'nor is it decoded: the batch let go of its sequence numbers');
  s.close();
});

test('no answer: TimeoutError naming the batch; the answers that come afterwards are dropped', async () => {
  const k = new FakeKernel(() => 'later');
  const s = new NetlinkSocket(k, RTNETLINK, { timeoutMs: 20 });
  const p = s.requestBatch([item(0), { type: RTM.NEWROUTE, body: u32(1) }, item(2)]);
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof TimeoutError, String(err));
    assert.equal(err.op, 'batch of 3 (RTM_NEWADDR, RTM_NEWROUTE)');
    assert.equal(err.timeoutMs, 20);
    return true;
  });
  assert.equal(k.refs.at(-1), false);
  const next = s.requestBatch([item(5)], { timeoutMs: 1000 });
  const [late] = k.datagrams[0]!;
  assert.ok(late);
  k.deliver(ack(late, -17));
  assert.equal(await hasSettled(next), false, 'the timed-out batch\'s error went nowhere');
  k.deliver(ack(k.datagrams[1]![0]!));
  assert.deepEqual(await next, [[]]);
  s.close();
});

test('an AbortSignal cancels a waiting batch, and an aborted one is never sent; close() rejects a waiting one', async () => {
  const k = new FakeKernel(() => 'later');
  const s = new NetlinkSocket(k, RTNETLINK);
  const ac = new AbortController();
  const p = s.requestBatch([item(0), item(1)], { signal: ac.signal });
  ac.abort('stop');
  await assert.rejects(p, (err: unknown) => err instanceof AbortError && err.cause === 'stop' && err.message === 'batch of 2 (RTM_NEWADDR) was aborted');
  await assert.rejects(s.requestBatch([item(2)], { signal: ac.signal }), AbortError);
  assert.equal(k.datagrams.length, 1, 'nothing sent for the aborted signal');
  const waiting = s.requestBatch([item(3), item(4)]);
  s.close();
  await assert.rejects(waiting, ClosedError);
});

test('a batch that cannot be awaited is refused before anything is sent', () => {
  const k = new FakeKernel((req) => [ack(req)]);
  const s = new NetlinkSocket(k, RTNETLINK);
  assert.throws(() => s.requestBatch([]), RangeError);
  assert.throws(() => s.requestBatch([item(0, { ack: false }), item(1, { ack: false })]), /at least one message with an ack/);
  assert.throws(() => s.requestBatch([item(0, { ack: false, flags: NLM_F.ACK })]), /batch message 0: flags ask for an ack/);
  assert.throws(() => s.requestBatch([item(0), { type: RTM.NEWADDR } as unknown as BatchMessage]), TypeError);
  assert.equal(k.datagrams.length, 0);
  s.close();
});

test('nfnetlink: BEGIN and END frame the transaction without acks of their own; it is applied whole', async () => {
  const nft = new FakeNfTables();
  const s = new NetlinkSocket(nft.kernel, NFNETLINK);
  const results = await s.requestBatch([batchBegin(), newTable('a'), newTable('b'), batchEnd({ ack: false })]);
  assert.deepEqual(results, [[], [], [], []]);
  assert.deepEqual([...nft.tables].sort(), ['a', 'b']);
  const [begin, , , end] = nft.kernel.datagrams[0]!;
  assert.ok(begin && end);
  assert.deepEqual([begin.type, begin.flags, end.type, end.flags], [NFNL_MSG.BATCH_BEGIN, NLM_F.REQUEST, NFNL_MSG.BATCH_END, NLM_F.REQUEST]);
  // With an acked END, its ack (sent only on commit) is what settles the batch.
  await s.requestBatch([batchBegin({ genid: nft.genid }), newTable('c', { ack: false }), batchEnd()]);
  assert.deepEqual([...nft.tables].sort(), ['a', 'b', 'c']);
  s.close();
});

test('nfnetlink: one failing message aborts the transaction; its error, reported after the batch, names it', async () => {
  const nft = new FakeNfTables();
  nft.tables.add('keep');
  const s = new NetlinkSocket(nft.kernel, NFNETLINK);
  // The kernel answers NEWTABLE x with 0, DELTABLE gone with ENOENT, NEWTABLE y with 0: the OK
  // acks around the error mean nothing, since nothing was committed.
  const p = s.requestBatch([batchBegin(), newTable('x'), delTable('gone'), newTable('y'), batchEnd()]);
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof NetlinkError, String(err));
    assert.equal(err.batchIndex, 2);
    assert.equal(err.op, 'NFT_MSG_DELTABLE');
    assert.equal(err.code, 'ENOENT');
    assert.equal(err.extack?.message, 'fake nf_tables: gone');
    return true;
  });
  assert.deepEqual([...nft.tables], ['keep'], 'nothing of the batch was applied');
  // Every answer of that batch was read in the same drain; a new transaction is unaffected.
  await s.requestBatch([batchBegin(), newTable('z'), batchEnd()]);
  assert.deepEqual([...nft.tables].sort(), ['keep', 'z']);
  s.close();
});

test('nfnetlink: a failed commit, or a stale generation id, is reported against BATCH_BEGIN, which asked for no ack', async () => {
  const nft = new FakeNfTables();
  const s = new NetlinkSocket(nft.kernel, NFNETLINK);
  nft.failCommit = 'ENOMEM';
  await assert.rejects(s.requestBatch([batchBegin(), newTable('a'), batchEnd()]), { code: 'ENOMEM', batchIndex: 0, op: 'NFNL_MSG_BATCH_BEGIN' });
  await assert.rejects(s.requestBatch([batchBegin({ genid: nft.genid + 1 }), newTable('a'), batchEnd()]), {
    code: 'ERESTART', batchIndex: 0, message: 'NFNL_MSG_BATCH_BEGIN (batch message 0): ERESTART',
  });
  assert.deepEqual([...nft.tables], []);
  assert.equal(nftType(NFT_MSG.NEWTABLE), 0x0a00);
  s.close();
});
