/**
 * netlink/rt/nsid goldens, captured by scripts/capture-fixtures.sh (iproute2 6.1 under strace in a
 * throwaway `unshare --mount --net` namespace; see each .hex file's first line):
 * `ip netns set otherns 7`, `ip netns set peerns 8` (refused: it already has id 0),
 * `ip netns list-id` (dump) and `ip netns list` (RTM_GETNSID by fd).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrWriter } from '../../../../../src/netlink/wire/attr.js';
import { NLMSG, NLM_F } from '../../../../../src/netlink/wire/header.js';
import { decodeError } from '../../../../../src/netlink/wire/error.js';
import { NETNSA_NSID_NOT_ASSIGNED, RTM } from '../../../../../src/netlink/route/schema/constants.js';
import { type NsidMessage, decodeNsidMessage, encodeNsidMessage } from '../../../../../src/netlink/route/schema/nsid.js';
import { encodeLike, one, pick, toHex } from '../../fixtures.js';

function roundTrip(m: NsidMessage): void {
  const w = new AttrWriter();
  encodeNsidMessage(w, m);
  assert.deepEqual(decodeNsidMessage(w.finish()), m);
}

void test('golden: ip netns set otherns 7 (RTM_NEWNSID with NETNSA_FD + NETNSA_NSID), acked', () => {
  const req = one('nsid-set', 'sent', RTM.NEWNSID);
  const expected = { fd: 6, nsid: 7 };
  assert.deepEqual(decodeNsidMessage(req.payload), expected);
  assert.equal(encodeLike(req, 4, (w) => encodeNsidMessage(w, expected)), toHex(req.bytes));
  const ack = one('nsid-set', 'received', NLMSG.ERROR);
  assert.equal(decodeError(ack.payload, ack.flags).error, 0);
});

void test('golden: RTM_GETNSID by fd and its reply', () => {
  const req = one('nsid-get', 'sent', RTM.GETNSID);
  assert.deepEqual(decodeNsidMessage(req.payload), { fd: 6 });
  assert.equal(encodeLike(req, 4, (w) => encodeNsidMessage(w, { fd: 6 })), toHex(req.bytes));
  const ids = pick('nsid-get', 'received', RTM.NEWNSID).map((m) => decodeNsidMessage(m.payload));
  // one lookup per namespace under /run/netns (otherns = 7, peerns = 0), possibly repeated
  assert.deepEqual([...new Set(ids.map((m) => m.nsid))].sort(), [0, 7]);
  assert.ok(ids.every((m) => Object.keys(m).join() === 'nsid'));
});

void test('golden: RTM_GETNSID dump (ip netns list-id)', () => {
  const req = pick('nsid-dump', 'sent', RTM.GETNSID).find((m) => (m.flags & NLM_F.DUMP) === NLM_F.DUMP);
  assert.ok(req);
  assert.deepEqual(decodeNsidMessage(req.payload), {});
  assert.equal(encodeLike(req, 4, (w) => encodeNsidMessage(w, {})), toHex(req.bytes));
  const dump = pick('nsid-dump', 'received', RTM.NEWNSID).filter((m) => (m.flags & NLM_F.MULTI) !== 0);
  assert.deepEqual(dump.map((m) => decodeNsidMessage(m.payload)), [{ nsid: 0 }, { nsid: 7 }]);
  assert.equal(pick('nsid-dump', 'received', NLMSG.DONE).length, 1);
});

void test('round trips: every field, negative ids', () => {
  roundTrip({ fd: 3, pid: 1234, nsid: NETNSA_NSID_NOT_ASSIGNED, targetNsid: 5, currentNsid: -1 });
  roundTrip({});
});
