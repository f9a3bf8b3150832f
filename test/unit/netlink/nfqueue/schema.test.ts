/**
 * Unit: the nfnetlink_queue codec against libnetfilter_queue 1.0.5 and the kernel
 * (fixture nfq-reference: test/fixtures/nfqueue/nfq-reference.c under strace, binding queue 3 in
 * META mode and giving verdicts to four pings): every CONFIG, VERDICT and VERDICT_BATCH body it
 * sent, byte for byte; every PACKET message the kernel sent, decoded. And the NFQUEUE rule
 * against iptables-nft 1.8.9 (fixtures nft-iptables-nfqueue, -list): the nft_compat target
 * expression byte for byte, and the kernel's dump of it read back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NFQUEUE, nfqName, nfqType } from '../../../../src/netlink/nfqueue/family.js';
import { messageName } from '../../../../src/netlink/family.js';
import {
  NFQNL_MSG, NFQA_CFG_F, decodePacket, encodeConfig, encodeVerdict, parseNfqProcStats, type NfqConfig,
} from '../../../../src/netlink/nfqueue/schema/index.js';
import { NFT_MSG, decodeRuleMessage, nfqueueTarget, nftQueue, queueOf, xtExtension } from '../../../../src/netlink/nftables/schema/index.js';
import { nftMessageType } from '../../../../src/netlink/nftables/family.js';
import { AttrWriter } from '../../../../src/netlink/wire/attr.js';
import { DecodeError } from '../../../../src/errors.js';
import { fixtureMessages, pick, toHex } from '../fixtures.js';

const body = (f: (w: AttrWriter) => void): string => {
  const w = new AttrWriter();
  f(w);
  return toHex(w.finish());
};

void test('nfnetlink_queue is NETLINK_NETFILTER, subsystem 3, and names its NFQNL_MSG_* types', () => {
  assert.equal(NFQUEUE.protocol, 12);
  assert.equal(nfqType(NFQNL_MSG.VERDICT_BATCH), 0x0303);
  assert.equal(nfqName(0x0302), 'NFQNL_MSG_CONFIG');
  assert.equal(messageName(NFQUEUE, 0x0301), 'NFQNL_MSG_VERDICT');
  assert.equal(messageName(NFQUEUE, 0x0102), 'nfnetlink_queue type 258');
});

void test('CONFIG bodies equal libnetfilter_queue\'s: bind, copy META 0xffff (nla_len 9), maxlen 4096, flags GSO|FAIL_OPEN, unbind', () => {
  const sent = pick('nfq-reference', 'sent', nfqType(NFQNL_MSG.CONFIG));
  const configs: NfqConfig[] = [
    { command: 'bind' },
    { copy: { mode: 'meta', range: 0xffff } },
    { maxLen: 4096 },
    { flags: { mask: NFQA_CFG_F.GSO | NFQA_CFG_F.FAIL_OPEN, value: NFQA_CFG_F.GSO | NFQA_CFG_F.FAIL_OPEN } },
    { command: 'unbind' },
  ];
  assert.equal(sent.length, configs.length);
  configs.forEach((c, i) => assert.equal(body((w) => encodeConfig(w, 3, c)), toHex(sent[i]!.payload), JSON.stringify(c)));
});

void test('VERDICT and VERDICT_BATCH bodies equal libnetfilter_queue\'s: accept 1, accept up to 3, drop 4', () => {
  const single = pick('nfq-reference', 'sent', nfqType(NFQNL_MSG.VERDICT));
  const batch = pick('nfq-reference', 'sent', nfqType(NFQNL_MSG.VERDICT_BATCH));
  assert.equal(single.length, 2);
  assert.equal(batch.length, 1);
  assert.equal(body((w) => encodeVerdict(w, 3, 1, 'accept')), toHex(single[0]!.payload));
  assert.equal(body((w) => encodeVerdict(w, 3, 4, 'drop')), toHex(single[1]!.payload));
  assert.equal(body((w) => encodeVerdict(w, 3, 3, 'accept')), toHex(batch[0]!.payload));
  assert.equal(single[0]!.flags & 0x4, 0, 'libnetfilter_queue asks no ack for a verdict');
});

void test('PACKET messages from the kernel: ids 1–4 of queue 3, IPv4 at PREROUTING on lo, a timestamp when the skb had one, no payload in META mode', () => {
  const packets = fixtureMessages('nfq-reference').filter((m) => m.dir === 'received' && m.type === nfqType(NFQNL_MSG.PACKET)).map((m) => decodePacket(m.payload));
  assert.deepEqual(packets.map((p) => p.id), [1, 2, 3, 4]);
  for (const p of packets) {
    assert.equal(p.queue, 3);
    assert.equal(p.family, 2);
    assert.equal(p.hwProtocol, 0x0800);
    assert.equal(p.hook, 0);
    assert.equal(p.indev, 1);
    assert.equal(p.outdev, undefined);
    assert.equal(p.payload, undefined);
  }
  const stamped = packets.filter((p) => p.timestampUs !== undefined);
  assert.ok(stamped.length >= 1, 'ping timestamps its packets');
  for (const p of stamped) assert.ok(p.timestampUs! > 1_600_000_000_000_000n);
});

void test('bad input: queue and id ranges, unknown verdicts and commands; a packet without its header', () => {
  const w = new AttrWriter();
  assert.throws(() => encodeConfig(w, 70000, { command: 'bind' }), RangeError);
  assert.throws(() => encodeConfig(w, 1, { command: 'tie' as never }), TypeError);
  assert.throws(() => encodeVerdict(w, 1, -1, 'accept'), RangeError);
  assert.throws(() => encodeVerdict(w, 1, 1, 'maybe' as never), TypeError);
  assert.throws(() => decodePacket(Uint8Array.of(2, 0, 0, 3)), DecodeError);
  assert.throws(() => decodePacket(Uint8Array.of(2, 0)), DecodeError);
  assert.throws(() => decodePacket(Uint8Array.of(2, 0, 0, 3, 40, 0, 1, 0)), DecodeError);
});

void test('/proc/net/netfilter/nfnetlink_queue lines', () => {
  const text = '    3  12345     0 1 65535     0     7       42  1\n 4096 -4000 2 1 65535 1 0 9 1\n';
  assert.deepEqual(parseNfqProcStats(text)[0], {
    queue: 3, portId: 12345, queueTotal: 0, copyMode: 1, copyRange: 65535, queueDropped: 0, userDropped: 7, idSequence: 42,
  });
  assert.equal(parseNfqProcStats(text).length, 2);
  assert.deepEqual(parseNfqProcStats(''), []);
  assert.throws(() => parseNfqProcStats('3 x\n'), DecodeError);
});

void test('the NFQUEUE target equals iptables-nft\'s (-j NFQUEUE --queue-num 3 --queue-bypass: rev 3, info padded to 8); the kernel\'s dump reads back', () => {
  const sent = pick('nft-iptables-nfqueue', 'sent', nftMessageType(NFT_MSG.NEWRULE)).map((m) => decodeRuleMessage(m.payload));
  assert.equal(sent.length, 1);
  const target = sent[0]!.expressions!.find((e) => e.type === 'raw' && e.name === 'target')!;
  const ours = nfqueueTarget({ queue: 3, bypass: true });
  assert.equal(ours.type, 'raw');
  assert.equal(toHex((ours as { data: Uint8Array }).data), toHex((target as { data: Uint8Array }).data));
  assert.deepEqual(xtExtension(target), { kind: 'target', name: 'NFQUEUE', rev: 3, info: Uint8Array.of(3, 0, 1, 0, 1, 0, 0, 0) });
  const dumped = pick('nft-iptables-nfqueue-list', 'received', nftMessageType(NFT_MSG.NEWRULE)).map((m) => decodeRuleMessage(m.payload));
  assert.deepEqual(dumped.flatMap((r) => r.expressions ?? []).map(queueOf).filter((q) => q !== undefined), [{ queue: 3, total: 1, bypass: true }]);
  assert.deepEqual(queueOf(nfqueueTarget({ queue: 9 })), { queue: 9, total: 1, bypass: false });
  assert.deepEqual(queueOf(nftQueue({ queue: 9, bypass: true })), { queue: 9, total: 1, bypass: true });
  assert.throws(() => nfqueueTarget({ queue: 65536 }), RangeError);
  assert.throws(() => nftQueue({ queue: 65535, total: 2 }), RangeError);
});
