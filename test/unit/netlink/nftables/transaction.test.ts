/**
 * Unit: NftTransaction over fake kernels (no root): one datagram per commit framed by BATCH_BEGIN
 * (no ack, the generation id when given) and BATCH_END (acked); a failing message named with its
 * object and, in an element list, the element the extack offset points into (across the
 * messages a long list is split into); ERESTART on BEGIN is GenerationChangedError; an empty
 * transaction sends nothing; validate() sends no BATCH_END.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenerationChangedError, NftError } from '../../../../src/errors.js';
import { NetlinkSocket } from '../../../../src/netlink/socket.js';
import { NLM_F } from '../../../../src/netlink/wire/header.js';
import type { NlMessage } from '../../../../src/netlink/wire/message.js';
import { NFTABLES, nftMessageType } from '../../../../src/netlink/nftables/family.js';
import { NftTransaction } from '../../../../src/netlink/nftables/ops/index.js';
import { probeCapabilities } from '../../../../src/netlink/nftables/ops/probe.js';
import {
  NFNL_MSG, NFT_MSG, decodeBatchBegin, decodeSetElemListMessage, decodeSetMessage, type ElementSpec, type SetSpec,
} from '../../../../src/netlink/nftables/schema/index.js';
import { FakeKernel, ack } from '../../../helpers/fake-kernel.js';

const dnat4Any: SetSpec = { family: 'inet', table: 'nsbox', name: 'dnat4_any', key: ['inet_proto', 'inet_service'], data: ['ipv4_addr', 'inet_service'] };
const ports = (n: number, comment?: string): ElementSpec[] => Array.from({ length: n }, (_, i) => ({ key: ['tcp', 10000 + i], data: ['10.88.0.3', 80], ...(comment ? { comment } : {}) }));

/** A kernel that acks every message asking for one, except `fail(msg)` answers that error. */
function kernel(fail: (m: NlMessage) => ReturnType<typeof ack> | undefined = () => undefined): FakeKernel {
  return new FakeKernel((req) => {
    const err = fail(req);
    if (err !== undefined) return [err];
    return (req.flags & NLM_F.ACK) !== 0 ? [ack(req)] : [];
  });
}

void test('commit sends one datagram: BEGIN without ack (and with the genid), the messages, END acked', async () => {
  const k = kernel();
  const tx = new NftTransaction(new NetlinkSocket(k, NFTABLES), { genid: 42 });
  await tx.addTable({ family: 'inet', name: 'nsbox' }).addSet(dnat4Any).addElements(dnat4Any, ports(2)).commit();
  assert.equal(k.datagrams.length, 1);
  const [begin, ...rest] = k.datagrams[0]!;
  assert.equal(begin?.type, NFNL_MSG.BATCH_BEGIN);
  assert.equal((begin!.flags & NLM_F.ACK), 0);
  assert.deepEqual(decodeBatchBegin(begin!.payload), { subsystem: 10, genid: 42 });
  assert.deepEqual(rest.map((m) => m.type), [nftMessageType(NFT_MSG.NEWTABLE), nftMessageType(NFT_MSG.NEWSET), nftMessageType(NFT_MSG.NEWSETELEM), NFNL_MSG.BATCH_END]);
  assert.ok(rest.every((m) => (m.flags & NLM_F.ACK) !== 0));
  assert.equal(decodeSetElemListMessage(rest[2]!.payload).setId, 1, 'elements of a set made in the same transaction carry its id');
});

void test('an empty transaction sends nothing (no elements: no message); validate() sends no BATCH_END', async () => {
  const k = kernel();
  const socket = new NetlinkSocket(k, NFTABLES);
  const empty = new NftTransaction(socket).addElements(dnat4Any, []).destroyElements(dnat4Any, []);
  assert.equal(empty.size, 0);
  await empty.commit();
  assert.equal(k.datagrams.length, 0);
  await new NftTransaction(socket).addTable({ family: 'inet', name: 't' }).validate();
  assert.deepEqual(k.datagrams[0]!.map((m) => m.type), [NFNL_MSG.BATCH_BEGIN, nftMessageType(NFT_MSG.NEWTABLE)]);
});

void test('a refused element is named by its index among the elements given, across the messages a long list is split into', async () => {
  // 3000 elements with a comment do not fit one attribute (65 535 bytes): several NEWSETELEM
  const elements = ports(3000, 'sandbox=web');
  const target = 2345;
  const k = kernel((m) => {
    if (m.type !== nftMessageType(NFT_MSG.NEWSETELEM)) return undefined;
    const list = decodeSetElemListMessage(m.payload).elements!;
    const at = list.findIndex((e) => e.key![5] === ((10000 + target) & 0xff) && e.key![4] === ((10000 + target) >> 8));
    if (at < 0) return undefined;
    // the kernel's offset points at the element's nest: find it in the message bytes
    const needle = Buffer.from(list[at]!.key!);
    const offset = 16 + Buffer.from(m.payload).indexOf(needle) - 8; // inside the element's nest (its KEY)
    return ack(m, -17, { offset });
  });
  const tx = new NftTransaction(new NetlinkSocket(k, NFTABLES)).addElements(dnat4Any, elements);
  assert.ok(tx.size > 1, `split into ${tx.size} messages`);
  await assert.rejects(tx.commit(), (err: unknown) => {
    assert.ok(err instanceof NftError, String(err));
    assert.equal(err.code, 'EEXIST');
    assert.equal(err.object, 'set inet nsbox dnat4_any');
    assert.equal(err.element, target);
    return true;
  });
  const sent = k.datagrams[0]!.filter((m) => m.type === nftMessageType(NFT_MSG.NEWSETELEM));
  assert.equal(sent.reduce((n, m) => n + decodeSetElemListMessage(m.payload).elements!.length, 0), 3000, 'every element sent once');
  assert.ok(sent.every((m) => m.payload.length < 65_535));
});

void test('ERESTART against BATCH_BEGIN is GenerationChangedError when the transaction carried a genid', async () => {
  const k = kernel((m) => (m.type === NFNL_MSG.BATCH_BEGIN ? ack(m, -85) : undefined));
  const tx = new NftTransaction(new NetlinkSocket(k, NFTABLES), { genid: 7 }).addTable({ family: 'inet', name: 't' });
  await assert.rejects(tx.commit(), (err: unknown) => {
    assert.ok(err instanceof GenerationChangedError, String(err));
    assert.equal(err.expected, 7);
    assert.equal(err.retryable, true);
    assert.equal(err.category, 'transient');
    return true;
  });
});

void test('a commit failure against BATCH_BEGIN names the transaction; a message\'s failure names its object', async () => {
  const commitFails = kernel((m) => (m.type === NFNL_MSG.BATCH_BEGIN ? ack(m, -12) : undefined));
  await assert.rejects(new NftTransaction(new NetlinkSocket(commitFails, NFTABLES)).addTable({ family: 'inet', name: 't' }).commit(), {
    name: 'NftError', code: 'ENOMEM', object: 'the transaction', batchIndex: 0,
  });
  const chainFails = kernel((m) => (m.type === nftMessageType(NFT_MSG.NEWCHAIN) ? ack(m, -2) : undefined));
  const tx = new NftTransaction(new NetlinkSocket(chainFails, NFTABLES)).addChain({ family: 'inet', table: 't', name: 'c' });
  await assert.rejects(tx.commit(), (err: unknown) => {
    assert.ok(err instanceof NftError);
    assert.equal(err.message, 'NFT_MSG_NEWCHAIN (batch message 1) chain inet t c: ENOENT');
    assert.equal(err.element, undefined);
    return true;
  });
});

void test('bad input is refused before anything is sent', () => {
  const tx = new NftTransaction(new NetlinkSocket(kernel(), NFTABLES));
  assert.throws(() => tx.addElements(dnat4Any, [{ key: ['tcp', 80] }]), /needs data/);
  assert.throws(() => new NftTransaction(new NetlinkSocket(kernel(), NFTABLES), { genid: -1 }), RangeError);
  assert.equal(tx.size, 0);
});

void test('the probe: one dry run (no BATCH_END) per feature; a refused one is reported missing with what the kernel said', async () => {
  // an older kernel: no DESTROY* messages (EINVAL: unknown type), no pipapo (EOPNOTSUPP for a concatenated interval set)
  const k = kernel((m) => {
    if (m.type === nftMessageType(NFT_MSG.DESTROYSETELEM)) return ack(m, -22);
    if (m.type === nftMessageType(NFT_MSG.NEWSET) && decodeSetMessage(m.payload).desc?.concat !== undefined) return ack(m, -95);
    return undefined;
  });
  const caps = await probeCapabilities(new NetlinkSocket(k, NFTABLES));
  assert.deepEqual({ ...caps, reasons: Object.keys(caps.reasons) }, { destroy: false, inetNat: true, fib: true, pipapo: false, queue: true, xtQueue: true, reasons: ['destroy', 'pipapo'] });
  assert.match(caps.reasons.destroy!, /^NFT_MSG_DESTROYSETELEM \(batch message 3\) set inet nsbox-probe-[0-9a-f]{8} probe: EINVAL/);
  assert.match(caps.reasons.pipapo!, /NFT_MSG_NEWSET .*EOPNOTSUPP/);
  assert.equal(k.datagrams.length, 6);
  assert.ok(k.datagrams.every((d) => d.at(-1)?.type !== NFNL_MSG.BATCH_END), 'never committed');
});
