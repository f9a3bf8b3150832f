/**
 * netlink/rt/route goldens, captured by scripts/capture-fixtures.sh (iproute2 6.1 under strace in a
 * throwaway `unshare --mount --net` namespace; see each .hex file's first line): `ip route add` v4
 * (table 100 metric 50 proto static; table 1000) and v6 (metric 1024 table 200), a duplicate,
 * `ip route show table …` dumps and `ip route get` for both families.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrWriter } from '../../../../../src/netlink/wire/attr.js';
import { NLMSG, NLM_F } from '../../../../../src/netlink/wire/header.js';
import { decodeError } from '../../../../../src/netlink/wire/error.js';
import { AF, RTA, RTM, RTM_F, RTN, RTNH_F, RTPROT, RT_SCOPE, RT_TABLE } from '../../../../../src/netlink/route/schema/constants.js';
import { NSBOX_ROUTE_PROTOCOL } from '../../../../../src/netlink/route/ops/route.js';
import { type RouteMessage, decodeRouteMessage, encodeRouteMessage } from '../../../../../src/netlink/route/schema/route.js';
import { encodeLike, one, pick, toHex } from '../../fixtures.js';

const BASE = { srcLen: 0, tos: 0, scope: RT_SCOPE.UNIVERSE, type: RTN.UNICAST, flags: 0 };

function roundTrip(m: RouteMessage): void {
  const w = new AttrWriter();
  encodeRouteMessage(w, m);
  assert.deepEqual(decodeRouteMessage(w.finish()), m);
}

void test('golden: ip route add 10.2.0.0/16 via 10.1.0.2 dev v0 table 100 metric 50 proto static', () => {
  const req = one('route-add-v4', 'sent', RTM.NEWROUTE);
  const expected = { family: AF.INET, dstLen: 16, ...BASE, table: 100, protocol: RTPROT.STATIC, dst: '10.2.0.0', gateway: '10.1.0.2', oif: 2, priority: 50 };
  assert.deepEqual(decodeRouteMessage(req.payload), expected);
  // iproute2 puts a table < 256 only in rtm_table; we also always send RTA_TABLE, so compare by meaning
  roundTrip(expected);
  const w = new AttrWriter();
  encodeRouteMessage(w, expected);
  assert.equal(w.finish()[4], 100, 'rtm_table');
});

void test('golden: a table above 255 goes in RTA_TABLE with rtm_table RT_TABLE_UNSPEC (byte-identical)', () => {
  const req = one('route-add-v4-bigtable', 'sent', RTM.NEWROUTE);
  const expected = { family: AF.INET, dstLen: 16, ...BASE, table: 1000, protocol: RTPROT.BOOT, dst: '10.3.0.0', gateway: '10.1.0.2', oif: 2 };
  assert.deepEqual(decodeRouteMessage(req.payload), expected);
  assert.equal(req.payload[4], RT_TABLE.UNSPEC);
  assert.equal(encodeLike(req, 12, (w) => encodeRouteMessage(w, expected)), toHex(req.bytes));
});

void test('golden: ip -6 route add 2001:db8:1::/48 via 2001:db8:f::2 dev v0 metric 1024 table 200', () => {
  const req = one('route-add-v6', 'sent', RTM.NEWROUTE);
  const expected = { family: AF.INET6, dstLen: 48, ...BASE, table: 200, protocol: RTPROT.BOOT, dst: '2001:db8:1::', gateway: '2001:db8:f::2', oif: 2, priority: 1024 };
  assert.deepEqual(decodeRouteMessage(req.payload), expected);
  roundTrip(expected);
});

void test('golden: the duplicate IPv6 route is refused with EEXIST (no extack text)', () => {
  const reply = one('route-add-dup', 'received', NLMSG.ERROR);
  const e = decodeError(reply.payload, reply.flags);
  assert.equal(e.error, -17);
  assert.equal(e.extack, undefined);
  assert.equal(e.request.type, RTM.NEWROUTE);
});

void test('golden: dump requests and replies; table from RTA_TABLE', () => {
  const v4req = one('route-dump-v4', 'sent', RTM.GETROUTE);
  assert.equal(v4req.flags, NLM_F.REQUEST | NLM_F.DUMP);
  const filter = { family: AF.INET, dstLen: 0, srcLen: 0, tos: 0, table: 100, protocol: 0, scope: 0, type: 0, flags: 0 };
  assert.deepEqual(decodeRouteMessage(v4req.payload), filter);
  assert.deepEqual(decodeRouteMessage(one('route-dump-v4', 'received', RTM.NEWROUTE).payload), {
    family: AF.INET, dstLen: 16, ...BASE, table: 100, protocol: RTPROT.STATIC, dst: '10.2.0.0', gateway: '10.1.0.2', oif: 2, priority: 50,
  });
  assert.deepEqual(decodeRouteMessage(one('route-dump-v6', 'received', RTM.NEWROUTE).payload), {
    family: AF.INET6, dstLen: 48, ...BASE, table: 200, protocol: RTPROT.BOOT, dst: '2001:db8:1::', gateway: '2001:db8:f::2', oif: 2, priority: 1024, pref: 0,
  });
  assert.equal(pick('route-dump-v6', 'received', NLMSG.DONE).length, 1);
});

void test('golden: ip route get 10.1.0.7 from 10.1.0.1 (request byte-identical, cloned reply)', () => {
  const req = one('route-get', 'sent', RTM.GETROUTE);
  const q = { family: AF.INET, dstLen: 32, srcLen: 32, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: RTM_F.LOOKUP_TABLE, dst: '10.1.0.7', src: '10.1.0.1' };
  assert.deepEqual(decodeRouteMessage(req.payload), q);
  const { table: _t, ...noTable } = q;
  assert.equal(encodeLike(req, 12, (w) => encodeRouteMessage(w, noTable)), toHex(req.bytes));
  assert.deepEqual(decodeRouteMessage(one('route-get', 'received', RTM.NEWROUTE).payload), {
    family: AF.INET, dstLen: 32, srcLen: 32, tos: 0, table: RT_TABLE.MAIN, protocol: 0, scope: 0, type: RTN.UNICAST, flags: RTM_F.CLONED,
    dst: '10.1.0.7', src: '10.1.0.1', oif: 2,
  });
});

void test('golden: ip -6 route get 2001:db8:f::9 (prefsrc, metric, pref)', () => {
  const r = decodeRouteMessage(one('route-get-v6', 'received', RTM.NEWROUTE).payload);
  assert.deepEqual(r, {
    family: AF.INET6, dstLen: 128, srcLen: 128, tos: 0, table: RT_TABLE.MAIN, protocol: RTPROT.KERNEL, scope: 0, type: RTN.UNICAST, flags: 0,
    dst: '2001:db8:f::9', src: '::', oif: 2, priority: 256, prefsrc: '2001:db8:f::1', pref: 0,
  });
});

void test('round trips: every field; table above 255; no table', () => {
  roundTrip({
    family: AF.INET6, dstLen: 64, srcLen: 0, tos: 0, table: 0xfffffff0, protocol: RTPROT.STATIC, scope: RT_SCOPE.LINK, type: RTN.UNICAST,
    flags: RTM_F.NOTIFY, dst: 'fd00::', src: '::', gateway: 'fe80::1', oif: 3, iif: 1, priority: 7, prefsrc: 'fd00::2', pref: 1, mark: 0xff,
  });
  roundTrip({ family: AF.INET, dstLen: 0, srcLen: 0, tos: 0, table: RT_TABLE.MAIN, protocol: 0, scope: 0, type: RTN.BLACKHOLE, flags: 0 });
  const w = new AttrWriter();
  encodeRouteMessage(w, { family: AF.INET, dstLen: 0 });
  assert.equal(decodeRouteMessage(w.finish()).table, 0);
  assert.equal(w.finish().length, 12, 'no RTA_TABLE without a table');
  const big = new AttrWriter();
  encodeRouteMessage(big, { family: AF.INET, dstLen: 0, table: 256 });
  assert.equal(big.finish()[4], 0);
  assert.equal(big.finish()[12 + 2], RTA.TABLE);
});

void test('golden: ip route replace 10.244.2.0/24 via 10.244.2.0 dev vx0 onlink proto 110 (the overlay\'s route; RTNH_F_ONLINK in rtm_flags)', () => {
  const req = one('route-replace-onlink', 'sent', RTM.NEWROUTE);
  assert.equal(req.flags, NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.REPLACE);
  const got = decodeRouteMessage(req.payload);
  assert.equal(got.protocol, NSBOX_ROUTE_PROTOCOL);
  assert.equal(got.flags, RTNH_F.ONLINK);
  assert.equal(got.dst, '10.244.2.0');
  assert.equal(got.gateway, '10.244.2.0');
  roundTrip(got);
  const replies = pick('route-dump-onlink', 'received', RTM.NEWROUTE).map((m) => decodeRouteMessage(m.payload));
  assert.ok(replies.some((r) => r.protocol === NSBOX_ROUTE_PROTOCOL && (r.flags ?? 0) & RTNH_F.ONLINK && r.dst === '10.244.2.0'), 'the dump shows it onlink with protocol 110');
});
