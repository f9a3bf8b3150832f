/**
 * netlink/conntrack/schema goldens, captured by `scripts/capture-fixtures.sh conntrack`
 * (conntrack-tools 1.4.7 under strace in a throwaway `unshare --mount --net` namespace, with real
 * flows between two namespaces over a veth pair; see each .hex file's first line): `conntrack -L`,
 * `conntrack -L -f ipv6`, `conntrack -D -p udp --orig-port-dst 8053`, and a `conntrack -D` whose
 * entry another process deleted between its dump and its delete (ENOENT). The flows: TCP from
 * 10.7.0.1:41000 and [fd07::1]:41001 to port 8080 (established), UDP from 40000 (v4) and 40001
 * (v6) to 8053, from 40002 to 8054 and 40003 to 8055, one ping each way. Ids, ICMP ids and
 * timeouts change with every capture, so they are checked for shape, the rest for value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../../../src/errors.js';
import { AttrWriter } from '../../../../../src/netlink/wire/attr.js';
import { NLMSG } from '../../../../../src/netlink/wire/header.js';
import { decodeError } from '../../../../../src/netlink/wire/error.js';
import { encodeMessage } from '../../../../../src/netlink/wire/message.js';
import { NFPROTO } from '../../../../../src/netlink/wire/nfgen.js';
import { ctnlType } from '../../../../../src/netlink/conntrack/family.js';
import { CTA, CTA_IP, CTA_TUPLE, IPCTNL_MSG, IPPROTO, IPS, TCP_CONNTRACK } from '../../../../../src/netlink/conntrack/schema/constants.js';
import { CTA_FILTER_FLAG } from '../../../../../src/netlink/conntrack/schema/filter.js';
import { decodeCtMessage, encodeCtMessage, type CtMessage } from '../../../../../src/netlink/conntrack/schema/message.js';
import { decodeTuple, encodeTuple } from '../../../../../src/netlink/conntrack/schema/tuple.js';
import { entryOf, keyMessage, type ConntrackEntry } from '../../../../../src/netlink/conntrack/ops/entry.js';
import { attrAt, attrTree, one, pick, toHex, type FixtureMessage } from '../../fixtures.js';

const CT_NEW = ctnlType(IPCTNL_MSG.CT_NEW);
const CT_GET = ctnlType(IPCTNL_MSG.CT_GET);
const CT_DELETE = ctnlType(IPCTNL_MSG.CT_DELETE);

/** The entries a capture's dump replies describe. */
function dumped(name: string): ConntrackEntry[] {
  return pick(name, 'received', CT_NEW).map((m) => entryOf(decodeCtMessage(m.payload)));
}

/** An entry without what changes with every capture (id, ICMP ids, timeout), in a stable order. */
function stable(e: ConntrackEntry): Partial<ConntrackEntry> {
  const { id: _id, timeout: _timeout, ...rest } = e;
  const tuple = (t: ConntrackEntry['orig']): ConntrackEntry['orig'] => {
    const { icmpId: _icmpId, ...kept } = t;
    return kept;
  };
  return { ...rest, orig: tuple(e.orig), reply: tuple(e.reply) };
}
const byOrig = (a: Partial<ConntrackEntry>, b: Partial<ConntrackEntry>): number => JSON.stringify(a.orig).localeCompare(JSON.stringify(b.orig));

const udp = (family: 4 | 6, src: string, dst: string, sport: number, dport: number): Partial<ConntrackEntry> => ({
  family, proto: 'udp', orig: { src, dst, srcPort: sport, dstPort: dport }, reply: { src: dst, dst: src, srcPort: dport, dstPort: sport },
  status: ['CONFIRMED'], mark: 0, use: 1,
});
const tcp = (family: 4 | 6, src: string, dst: string, sport: number): Partial<ConntrackEntry> => ({
  family, proto: 'tcp', orig: { src, dst, srcPort: sport, dstPort: 8080 }, reply: { src: dst, dst: src, srcPort: 8080, dstPort: sport },
  status: ['SEEN_REPLY', 'ASSURED', 'CONFIRMED'], mark: 0, use: 1, tcpState: 'ESTABLISHED',
});
const ping = (family: 4 | 6, src: string, dst: string): Partial<ConntrackEntry> => ({
  family, proto: family === 4 ? 'icmp' : 'icmpv6',
  orig: { src, dst, icmpType: family === 4 ? 8 : 128, icmpCode: 0 }, reply: { src: dst, dst: src, icmpType: family === 4 ? 0 : 129, icmpCode: 0 },
  status: ['SEEN_REPLY', 'CONFIRMED'], mark: 0, use: 1,
});

const TABLE = [
  tcp(4, '10.7.0.1', '10.7.0.2', 41000), tcp(6, 'fd07::1', 'fd07::2', 41001),
  udp(4, '10.7.0.1', '10.7.0.2', 40000, 8053), udp(6, 'fd07::1', 'fd07::2', 40001, 8053),
  udp(4, '10.7.0.1', '10.7.0.2', 40002, 8054), udp(4, '10.7.0.1', '10.7.0.2', 40003, 8055),
  ping(4, '10.7.0.1', '10.7.0.2'), ping(6, 'fd07::1', 'fd07::2'),
].sort(byOrig);

/** Our encoding of `m` with the request's own header. */
function ours(req: FixtureMessage, m: CtMessage): Uint8Array {
  return encodeMessage({ type: req.type, flags: req.flags, seq: req.seq, pid: req.pid }, (w) => encodeCtMessage(w, m));
}

void test('golden: conntrack -L — our CT_GET dump request is byte-identical; every reply decodes to its flow', () => {
  const req = one('ct-dump', 'sent', CT_GET);
  assert.deepEqual(decodeCtMessage(req.payload), { family: NFPROTO.UNSPEC });
  assert.equal(toHex(ours(req, { family: NFPROTO.UNSPEC })), toHex(req.bytes));
  const entries = dumped('ct-dump');
  assert.deepEqual(entries.map(stable).sort(byOrig), TABLE);
  for (const e of entries) {
    assert.ok(Number.isInteger(e.id) && e.id! >= 0 && e.id! <= 0xffffffff, 'CTA_ID is a u32');
    const max = e.proto === 'tcp' ? 432000 : 30;
    assert.ok(e.timeout !== undefined && e.timeout >= 0 && e.timeout <= max, `${e.proto} timeout ${e.timeout}`);
    if (e.proto === 'icmp' || e.proto === 'icmpv6') assert.equal(e.orig.icmpId, e.reply.icmpId, 'an echo keeps its id both ways');
  }
});

void test('golden: the raw replies — big-endian status, PROTOINFO_TCP state, nested flags as the kernel sets them', () => {
  const [reply] = pick('ct-dump', 'received', CT_NEW).filter((m) => decodeCtMessage(m.payload).orig?.protoNum === IPPROTO.TCP);
  assert.ok(reply);
  const m = decodeCtMessage(reply.payload);
  assert.equal(m.status, IPS.SEEN_REPLY | IPS.ASSURED | IPS.CONFIRMED);
  assert.equal(m.tcpState, TCP_CONNTRACK.ESTABLISHED);
  const tree = attrTree(reply.payload, 4);
  assert.deepEqual(tree.map(([type]) => type), [CTA.TUPLE_ORIG, CTA.TUPLE_REPLY, CTA.STATUS, CTA.MARK, CTA.ID, CTA.USE, CTA.TIMEOUT, CTA.PROTOINFO], "the kernel's order");
  assert.equal(tree.find(([type]) => type === CTA.STATUS)?.[1], '0000000e', 'SEEN_REPLY|ASSURED|CONFIRMED, big-endian');
  assert.equal((reply.flags & 0x2) !== 0, true, 'NLM_F_MULTI');
});

void test('golden: conntrack -L -f ipv6 — the family goes in nfgenmsg; the kernel returns only IPv6 entries', () => {
  const req = one('ct-dump-v6', 'sent', CT_GET);
  assert.equal(toHex(ours(req, { family: NFPROTO.IPV6 })), toHex(req.bytes));
  assert.deepEqual(dumped('ct-dump-v6').map(stable).sort(byOrig), TABLE.filter((e) => e.family === 6));
  for (const m of pick('ct-dump-v6', 'received', CT_NEW)) assert.equal(m.flags & 0x20, 0x20, 'the kernel marks a family-filtered dump NLM_F_DUMP_FILTERED');
});

void test('golden: conntrack -D -p udp --orig-port-dst 8053 — our delete names each entry by the same CTA_TUPLE_ORIG, plus CTA_ID', () => {
  const entries = dumped('ct-delete-udp-8053');
  const deletes = pick('ct-delete-udp-8053', 'sent', CT_DELETE);
  assert.equal(deletes.length, 2, 'one CT_DELETE per matching entry: v4 and v6');
  for (const req of deletes) {
    const theirs = decodeCtMessage(req.payload);
    const entry = entries.find((e) => e.orig.srcPort === theirs.orig?.srcPort && e.orig.src === theirs.orig?.src);
    assert.ok(entry, 'the delete is for an entry of the dump');
    assert.equal(entry.orig.dstPort, 8053);
    const bytes = ours(req, keyMessage(entry));
    assert.equal(toHex(bytes.subarray(4, 16)), toHex(req.bytes.subarray(4, 16)), 'type, flags (REQUEST|ACK), seq, pid');
    assert.equal(toHex(bytes.subarray(16, 20)), toHex(req.bytes.subarray(16, 20)), 'nfgenmsg: the entry family, version 0');
    const theirTree = attrTree(req.bytes, 20);
    // conntrack-tools also sends the reply tuple, status, timeout and mark, which ctnetlink_del_conntrack ignores
    assert.deepEqual(theirTree.map(([type]) => type), [CTA.TUPLE_ORIG, CTA.TUPLE_REPLY, CTA.STATUS, CTA.TIMEOUT, CTA.MARK]);
    assert.deepEqual(attrTree(bytes, 20), [
      theirTree[0], // the same tuple, attribute by attribute (conntrack-tools leaves garbage in padding; we zero it)
      [CTA.ID, entry.id!.toString(16).padStart(8, '0')],
    ]);
  }
  const acks = pick('ct-delete-udp-8053', 'received', NLMSG.ERROR).map((m) => decodeError(m.payload, m.flags).error);
  assert.deepEqual(acks, [0, 0]);
});

void test('golden: a delete whose entry is gone is ENOENT, the request echoed whole', () => {
  const [req] = pick('ct-delete-gone', 'sent', CT_DELETE);
  assert.ok(req);
  const err = one('ct-delete-gone', 'received', NLMSG.ERROR);
  const { error, request, requestPayload } = decodeError(err.payload, err.flags);
  assert.equal(error, -2);
  assert.equal(request.type, CT_DELETE);
  assert.equal(request.seq, req.seq);
  assert.ok(requestPayload);
  assert.deepEqual(decodeCtMessage(requestPayload).orig, { src: '10.7.0.1', dst: '10.7.0.2', protoNum: IPPROTO.UDP, srcPort: 40003, dstPort: 8055 });
});

void test('tuples round-trip: IPv4 ports, IPv6 ICMPv6 (its own attributes), a directional zone; fields left out are not written', () => {
  for (const t of [
    { src: '10.0.0.1', dst: '10.0.0.2', protoNum: IPPROTO.TCP, srcPort: 1, dstPort: 65535 },
    { src: 'fd00::1', dst: 'fd00::2', protoNum: IPPROTO.ICMPV6, icmpId: 7, icmpType: 128, icmpCode: 0, zone: 9 },
    { src: '10.0.0.1', dst: '10.0.0.2', protoNum: IPPROTO.ICMP, icmpId: 0xffff, icmpType: 8, icmpCode: 3 },
    { protoNum: IPPROTO.UDP, dstPort: 8053 },
  ]) {
    const w = new AttrWriter();
    encodeTuple(w, CTA.TUPLE_ORIG, t);
    const nest = attrAt(attrTree(w.finish()), CTA.TUPLE_ORIG);
    assert.deepEqual(decodeTuple(w.finish().subarray(4), 'CTA_TUPLE_ORIG'), t);
    if (t.src === undefined) assert.deepEqual(typeof nest === 'string' ? nest : nest?.map(([type]) => type), [CTA_TUPLE.PROTO], 'a filter tuple: no CTA_TUPLE_IP');
  }
  const v6 = new AttrWriter();
  encodeTuple(v6, CTA.TUPLE_ORIG, { src: 'fd00::1', dst: 'fd00::2' });
  const ip = attrAt(attrAt(attrTree(v6.finish()), CTA.TUPLE_ORIG), CTA_TUPLE.IP);
  assert.deepEqual(typeof ip === 'string' ? ip : ip?.map(([type]) => type), [CTA_IP.V6_SRC, CTA_IP.V6_DST]);
});

void test('messages round-trip every field, the filter nest with its host-order flag words, and a flush version', () => {
  const m: CtMessage = {
    family: NFPROTO.IPV4, version: 1,
    orig: { src: '10.0.0.1', dst: '10.0.0.2', protoNum: IPPROTO.UDP, srcPort: 40000, dstPort: 8053 },
    reply: { src: '10.0.0.9', dst: '10.0.0.1', protoNum: IPPROTO.UDP, srcPort: 80, dstPort: 40000 },
    zone: 3, status: IPS.CONFIRMED | IPS.DST_NAT, mark: 0xdeadbeef, id: 0xfffffffe, use: 2, timeout: 120, markMask: 0xff, statusMask: IPS.DST_NAT,
    tcpState: TCP_CONNTRACK.TIME_WAIT, filter: { orig: CTA_FILTER_FLAG.CTA_PROTO_NUM | CTA_FILTER_FLAG.CTA_PROTO_DST_PORT, reply: 0 },
  };
  const w = new AttrWriter();
  encodeCtMessage(w, m);
  assert.deepEqual(decodeCtMessage(w.finish()), m);
  const filter = attrTree(w.finish(), 4).find(([type]) => type === CTA.FILTER);
  assert.deepEqual(filter, [CTA.FILTER, [[1, '28000000'], [2, '00000000']]], 'CTA_FILTER_ORIG_FLAGS = PROTO_NUM|PROTO_DST_PORT, u32 host order');
});

void test('a wrong-sized address or port is a DecodeError naming the attribute', () => {
  const w = new AttrWriter();
  w.reserve(4);
  w.nest(CTA.TUPLE_ORIG, () => w.nest(CTA_TUPLE.IP, () => w.bytes(CTA_IP.V4_SRC, new Uint8Array(16))));
  assert.throws(() => decodeCtMessage(w.finish()), (err: unknown) => err instanceof DecodeError && err.what === 'CTA_TUPLE_ORIG CTA_IP_V4_SRC');
  assert.throws(() => decodeCtMessage(Uint8Array.of(2, 0)), DecodeError);
});
