/**
 * netlink/wire/message: splitting datagrams and building requests, one to a datagram or several
 * (a batch). Goldens: the multipart `ip -s link show` dump (link-dump.hex) and `ip route add`
 * request (route-add-v4-bigtable.hex), both captured by scripts/capture-fixtures.sh with strace
 * around iproute2 6.1; nft 1.0.6's batch framing as research/nat-nftables.md §2.7 records it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../../src/errors.js';
import { NLMSG, NLM_F } from '../../../../src/netlink/wire/header.js';
import { encodeMessage, encodeMessages, splitMessages } from '../../../../src/netlink/wire/message.js';
import { AttrWriter } from '../../../../src/netlink/wire/attr.js';
import { RTM } from '../../../../src/netlink/route/schema/constants.js';
import { hex, loadFixture, toHex } from '../fixtures.js';

void test('a kernel dump datagram splits into NEWLINK messages ending with NLMSG_DONE', () => {
  const f = loadFixture('link-dump');
  const received = f.datagrams.filter((d) => d.dir === 'received').flatMap((d) => splitMessages(d.bytes));
  const dump = received.filter((m) => (m.flags & NLM_F.MULTI) !== 0);
  assert.ok(dump.length >= 6, `${dump.length} multipart messages`);
  const last = dump[dump.length - 1];
  assert.ok(last);
  assert.equal(last.type, NLMSG.DONE);
  assert.deepEqual([...last.payload], [0, 0, 0, 0]); // int 0: the dump's result
  assert.ok(dump.slice(0, -1).every((m) => m.type === RTM.NEWLINK));
  assert.ok(new Set(dump.map((m) => m.seq)).size === 1);
});

void test('several messages in one datagram, each payload a view, alignment honoured', () => {
  const a = encodeMessage({ type: 100, flags: 2, seq: 7 }, (w) => w.raw(Uint8Array.of(1, 2, 3)));
  const b = encodeMessage({ type: NLMSG.DONE, flags: 2, seq: 7, pid: 9 }, (w) => w.raw(new Uint8Array(4)));
  const dgram = new Uint8Array(a.length + b.length);
  dgram.set(a);
  dgram.set(b, a.length);
  const msgs = splitMessages(dgram);
  assert.deepEqual(msgs.map((m) => [m.type, m.flags, m.seq, m.pid, m.payload.length]), [[100, 2, 7, 0, 4], [3, 2, 7, 9, 4]]);
  assert.equal(msgs[0]?.payload.buffer, dgram.buffer);
  // an unpadded last message (nlmsg_len 19 in 19 bytes) is fine
  const odd = hex('13000000 6400 0000 01000000 00000000 aabbcc');
  assert.equal(splitMessages(odd)[0]?.payload.length, 3);
  // the `length` argument limits the datagram
  assert.equal(splitMessages(dgram, a.length).length, 1);
});

void test('encodeMessage writes the final length into the header', () => {
  const f = loadFixture('route-add-v4-bigtable');
  const sent = f.datagrams.find((d) => d.dir === 'sent');
  assert.ok(sent);
  const [m] = splitMessages(sent.bytes);
  assert.ok(m);
  const again = encodeMessage({ type: m.type, flags: m.flags, seq: m.seq }, (w) => w.raw(m.payload));
  assert.equal(toHex(again), toHex(sent.bytes));
});

void test('splitMessages rejects bad lengths with DecodeError', () => {
  const cases: [string, Uint8Array][] = [
    ['nlmsg_len < 16', hex('0f000000 0300 0200 00000000 00000000')],
    ['nlmsg_len 0', new Uint8Array(16)],
    ['past the end', hex('20000000 0300 0200 00000000 00000000')],
    ['stray bytes', hex('10000000 0300 0200 00000000 00000000 0000')],
    ['short header', new Uint8Array(10)],
  ];
  for (const [why, buf] of cases) assert.throws(() => splitMessages(buf), DecodeError, why);
  assert.throws(() => splitMessages(new Uint8Array(16), 17), DecodeError);
  assert.deepEqual(splitMessages(new Uint8Array(0)), []);
});

void test('iproute2 may send trailing buffer bytes after its request; the strict splitter refuses them', () => {
  // `ip addr show` sends a 24-byte RTM_GETADDR dump request in a 152-byte datagram (addr-dump.hex);
  // the kernel stops at nlmsg_len. We never do this, and splitMessages is strict on input.
  const sent = loadFixture('addr-dump').datagrams.filter((d) => d.dir === 'sent').find((d) => d.bytes.length === 152);
  assert.ok(sent);
  assert.throws(() => splitMessages(sent.bytes), DecodeError);
  assert.equal(splitMessages(sent.bytes, 24)[0]?.type, RTM.GETADDR);
});

void test('encodeMessages puts several messages in one datagram, each aligned, as encodeMessage would build each', () => {
  const messages = [
    { type: 20, flags: NLM_F.REQUEST | NLM_F.ACK, seq: 7, body: (w: AttrWriter) => { w.raw(Uint8Array.of(1, 2, 3)); } },
    { type: 21, flags: NLM_F.REQUEST, seq: 8, pid: 5, body: (w: AttrWriter) => { w.u32(1, 0xdeadbeef); } },
    { type: 22, flags: NLM_F.REQUEST | NLM_F.ACK, seq: 9, body: () => {} },
  ];
  const dgram = encodeMessages(messages);
  const one = messages.map((m) => encodeMessage(m, m.body));
  assert.equal(toHex(dgram), one.map(toHex).join(''));
  assert.deepEqual(one.map((b) => b.length), [20, 24, 16], 'the 3-byte body is padded, so the next message starts aligned');
  const split = splitMessages(dgram);
  assert.deepEqual(split.map((m) => [m.type, m.flags, m.seq, m.pid]), [[20, 5, 7, 0], [21, 1, 8, 5], [22, 5, 9, 0]]);
  assert.deepEqual([...split[1]!.payload], [8, 0, 1, 0, 0xef, 0xbe, 0xad, 0xde]);
  assert.equal(encodeMessages([]).length, 0);
});

void test('encodeMessages into a reused writer starts over and leaves nothing of the previous datagram', () => {
  const into = new AttrWriter(16);
  const long = encodeMessages([{ type: 20, flags: 1, seq: 1, body: (w) => { w.raw(new Uint8Array(100).fill(0xff)); } }], into);
  assert.equal(long.length, 116);
  const short = encodeMessages([{ type: 20, flags: 1, seq: 2, body: (w) => { w.reserve(4); } }, { type: 21, flags: 1, seq: 3, body: () => {} }], into);
  assert.equal(toHex(short), '14000000140001000200000000000000' + '00000000' + '10000000150001000300000000000000');
  assert.equal(short.buffer, into.finish().buffer, 'a view of the writer, valid until its next use');
});

void test('golden: the framing of an nf_tables transaction (BATCH_BEGIN, BATCH_END) as nft 1.0.6 sends it', () => {
  // struct nfgenmsg { family 0, version 0, res_id = htons(NFNL_SUBSYS_NFTABLES) }
  const nfgenBatch = (w: AttrWriter): void => { w.view().setUint16(w.reserve(4) + 2, 10, false); };
  const dgram = encodeMessages([
    { type: 0x10, flags: NLM_F.REQUEST, seq: 1, body: nfgenBatch },
    { type: 0x11, flags: NLM_F.REQUEST, seq: 3, body: nfgenBatch },
  ]);
  assert.equal(toHex(dgram), toHex(hex(`
    14000000 1000 0100 01000000 00000000 0000000a
    14000000 1100 0100 03000000 00000000 0000000a`)));
});
