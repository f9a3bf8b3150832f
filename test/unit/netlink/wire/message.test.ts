/**
 * netlink/wire/message: splitting datagrams and building requests. Goldens: the multipart
 * `ip -s link show` dump (link-dump.hex) and `ip route add` request (route-add-v4-bigtable.hex),
 * both captured by scripts/capture-fixtures.sh with strace around iproute2 6.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../../src/errors.js';
import { NLMSG, NLM_F } from '../../../../src/netlink/wire/header.js';
import { encodeMessage, splitMessages } from '../../../../src/netlink/wire/message.js';
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
