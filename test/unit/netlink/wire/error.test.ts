/**
 * netlink/wire/error: NLMSG_ERROR payloads. Goldens captured by scripts/capture-fixtures.sh
 * (strace around iproute2 6.1, kernel in the fixture's first line): a capped ack
 * (link-add-veth.hex), extack text for an unknown link kind (link-add-dummy.hex), extack text plus
 * NLMSGERR_ATTR_OFFS (nsid-set-dup.hex), and an error with no extack (route-add-dup.hex).
 * iproute2 does not set NETLINK_CAP_ACK, so its errors echo the whole request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../../src/errors.js';
import { AttrWriter } from '../../../../src/netlink/wire/attr.js';
import { NLMSGERR_ATTRS, type NlErrorPayload, decodeError, encodeError, errorFlags } from '../../../../src/netlink/wire/error.js';
import { NLMSG, NLM_F } from '../../../../src/netlink/wire/header.js';
import { RTM } from '../../../../src/netlink/route/schema/constants.js';
import { fixtureMessages, toHex } from '../fixtures.js';

function requestAndReply(name: string, type: number) {
  const msgs = fixtureMessages(name);
  const i = msgs.findIndex((m) => m.dir === 'sent' && m.type === type && (m.flags & NLM_F.ACK) !== 0 && m.seq !== 0);
  const req = msgs[i];
  const reply = msgs.slice(i + 1).find((m) => m.dir === 'received' && m.type === NLMSG.ERROR);
  assert.ok(req && reply, `${name}: request and NLMSG_ERROR`);
  return { req, reply };
}

void test('NLMSGERR_ATTRS match <linux/netlink.h>', () => {
  assert.deepEqual(NLMSGERR_ATTRS, { MSG: 1, OFFS: 2, COOKIE: 3, POLICY: 4, MISS_TYPE: 5, MISS_NEST: 6 });
});

void test('golden: a capped ack (error 0) echoes only the request header', () => {
  const { req, reply } = requestAndReply('link-add-veth', RTM.NEWLINK);
  assert.equal(reply.flags, NLM_F.CAPPED);
  const e = decodeError(reply.payload, reply.flags);
  assert.deepEqual(e, { error: 0, request: { length: req.bytes.length, type: RTM.NEWLINK, flags: req.flags, seq: req.seq, pid: 0 }, extack: undefined });
});

void test('golden: "Unknown device type" extack after the full echoed request', () => {
  const { req, reply } = requestAndReply('link-add-dummy', RTM.NEWLINK);
  assert.equal(reply.flags, NLM_F.ACK_TLVS);
  const e = decodeError(reply.payload, reply.flags);
  assert.equal(e.error, -95); // EOPNOTSUPP
  assert.deepEqual(e.extack, { message: 'Unknown device type' });
  assert.equal(e.request.seq, req.seq);
  assert.ok(e.requestPayload);
  assert.equal(toHex(e.requestPayload), toHex(req.payload));
});

void test('golden: extack message and offset into the request', () => {
  const { req, reply } = requestAndReply('nsid-set-dup', RTM.NEWNSID);
  const e = decodeError(reply.payload, reply.flags);
  assert.equal(e.error, -17); // EEXIST
  assert.deepEqual(e.extack, { message: 'Peer netns already has a nsid assigned', offset: 20 });
  // offset 20 = 16-byte header + 4-byte rtgenmsg: the first attribute, NETNSA_FD (the peer namespace)
  assert.equal(req.bytes[20 + 2], 3);
});

void test('golden: an error without extack, and the "ipv4: Address already assigned" text', () => {
  const dup = requestAndReply('route-add-dup', RTM.NEWROUTE);
  const e = decodeError(dup.reply.payload, dup.reply.flags);
  assert.equal(e.error, -17);
  assert.equal(e.extack, undefined);
  assert.equal(toHex(e.requestPayload ?? new Uint8Array()), toHex(dup.req.payload));
  const addr = requestAndReply('addr-add-dup', RTM.NEWADDR);
  assert.deepEqual(decodeError(addr.reply.payload, addr.reply.flags).extack, { message: 'ipv4: Address already assigned' });
});

void test('golden: encodeError reproduces the kernel bytes', () => {
  const goldens: [string, number][] = [['link-add-veth', RTM.NEWLINK], ['link-add-dummy', RTM.NEWLINK], ['nsid-set-dup', RTM.NEWNSID], ['route-add-dup', RTM.NEWROUTE]];
  for (const [name, type] of goldens) {
    const { reply } = requestAndReply(name, type);
    const e = decodeError(reply.payload, reply.flags);
    assert.equal(errorFlags(e), reply.flags, name);
    const w = new AttrWriter();
    encodeError(w, e);
    assert.equal(toHex(w.finish()), toHex(reply.payload), name);
  }
});

void test('round trips: capped/uncapped, every extack field', () => {
  const request = { length: 36, type: 88, flags: 5, seq: 9, pid: 0 };
  const cases: NlErrorPayload[] = [
    { error: 0, request, extack: undefined },
    { error: -22, request, extack: { message: 'bad', offset: 20, missType: 3, missNest: 16 } },
    { error: -1, request: { ...request, length: 19 }, requestPayload: Uint8Array.of(1, 2, 3), extack: { message: '' } },
    { error: -2, request: { ...request, length: 16 }, requestPayload: new Uint8Array(0), extack: { missType: 1 } },
  ];
  for (const c of cases) {
    const w = new AttrWriter();
    encodeError(w, c);
    const back = decodeError(w.finish(), errorFlags(c));
    assert.deepEqual({ ...back, requestPayload: back.requestPayload && [...back.requestPayload] }, { ...c, requestPayload: c.requestPayload && [...c.requestPayload] });
  }
  assert.throws(() => encodeError(new AttrWriter(), { error: -1, request, requestPayload: new Uint8Array(3), extack: undefined }), RangeError);
});

void test('unknown extack TLVs (cookie, policy) are skipped; none known means no extack', () => {
  const w = new AttrWriter();
  encodeError(w, { error: -22, request: { length: 16, type: 16, flags: 5, seq: 1, pid: 0 }, extack: undefined });
  w.bytes(NLMSGERR_ATTRS.COOKIE, Uint8Array.of(1, 2, 3, 4));
  assert.equal(decodeError(w.finish(), NLM_F.CAPPED | NLM_F.ACK_TLVS).extack, undefined);
  w.u32(NLMSGERR_ATTRS.OFFS, 24);
  assert.deepEqual(decodeError(w.finish(), NLM_F.CAPPED | NLM_F.ACK_TLVS).extack, { offset: 24 });
  // without NLM_F_ACK_TLVS the trailing bytes are not interpreted
  assert.equal(decodeError(w.finish(), NLM_F.CAPPED).extack, undefined);
});

void test('a 20-byte payload without NLM_F_CAPPED (old kernels, NETLINK_CAP_ACK) reads as capped', () => {
  const w = new AttrWriter();
  encodeError(w, { error: -1, request: { length: 200, type: 16, flags: 5, seq: 1, pid: 0 }, extack: undefined });
  assert.equal(decodeError(w.finish(), 0).requestPayload, undefined);
});

void test('malformed payloads throw DecodeError', () => {
  assert.throws(() => decodeError(new Uint8Array(19), 0), DecodeError);
  const w = new AttrWriter();
  encodeError(w, { error: -1, request: { length: 64, type: 16, flags: 5, seq: 1, pid: 0 }, extack: undefined });
  w.raw(new Uint8Array(8));
  assert.throws(() => decodeError(w.finish(), 0), DecodeError); // echo longer than the payload
  const v = new AttrWriter();
  encodeError(v, { error: -1, request: { length: 8, type: 16, flags: 5, seq: 1, pid: 0 }, extack: undefined });
  v.raw(new Uint8Array(4));
  assert.throws(() => decodeError(v.finish(), 0), DecodeError); // echoed nlmsg_len < 16
  const x = new AttrWriter();
  encodeError(x, { error: -1, request: { length: 16, type: 16, flags: 5, seq: 1, pid: 0 }, extack: undefined });
  x.raw(Uint8Array.of(9, 0, 1, 0));
  assert.throws(() => decodeError(x.finish(), NLM_F.CAPPED | NLM_F.ACK_TLVS), DecodeError); // TLV past the end
});
