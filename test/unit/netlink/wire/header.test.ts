/**
 * netlink/wire/header: struct nlmsghdr. The golden is the first request iproute2 6.1 sends for
 * `ip link add` (test/fixtures/netlink/link-add-dummy.hex, captured by scripts/capture-fixtures.sh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../../src/errors.js';
import { NLMSG, NLMSG_ALIGNTO, NLMSG_HDRLEN, NLM_F, decodeHeader, encodeHeader, nlmsgAlign } from '../../../../src/netlink/wire/header.js';
import { loadFixture } from '../fixtures.js';

void test('constants match <linux/netlink.h>', () => {
  assert.equal(NLMSG_HDRLEN, 16);
  assert.equal(NLMSG_ALIGNTO, 4);
  assert.deepEqual(NLMSG, { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 });
  assert.equal(NLM_F.DUMP, NLM_F.ROOT | NLM_F.MATCH);
  assert.equal(NLM_F.CAPPED, 0x100);
  assert.equal(NLM_F.ACK_TLVS, 0x200);
});

void test('nlmsgAlign rounds up to 4', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 7, 8, 17].map(nlmsgAlign), [0, 4, 4, 4, 4, 8, 8, 8, 20]);
});

void test('decodeHeader reads a captured request header', () => {
  const first = loadFixture('link-add-dummy').datagrams[0];
  assert.ok(first);
  assert.deepEqual(decodeHeader(first.bytes, 0), { length: 32, type: 16, flags: NLM_F.REQUEST | NLM_F.ACK, seq: 0, pid: 0 });
});

void test('encodeHeader / decodeHeader round trip at an offset, little-endian', () => {
  const buf = new Uint8Array(24);
  const h = { length: 0x01020304, type: 0x1011, flags: 0x0605, seq: 0xfffffffe, pid: 4242 };
  encodeHeader(h, new DataView(buf.buffer), 4);
  assert.deepEqual([...buf.subarray(4, 8)], [4, 3, 2, 1]);
  assert.deepEqual(decodeHeader(buf, 4), h);
});

void test('decodeHeader on a short buffer throws DecodeError', () => {
  assert.throws(() => decodeHeader(new Uint8Array(15), 0), DecodeError);
  assert.throws(() => decodeHeader(new Uint8Array(20), 5), (e: unknown) => e instanceof DecodeError && e.what === 'nlmsghdr' && e.offset === 5);
  assert.throws(() => decodeHeader(new Uint8Array(20), -1), DecodeError);
});
