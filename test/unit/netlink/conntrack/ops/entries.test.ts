/**
 * Unit: netlink/conntrack/ops over a fake ctnetlink (test/helpers/fake-ctnetlink.ts) holding the
 * table captured in test/fixtures/netlink/ct-dump.hex — the probe's verdict for kernels that read
 * CTA_FILTER on dumps and flushes, on dumps only, or not at all (and that it changes nothing);
 * list narrowed by the kernel where it can and filtered here always (same answer on every
 * kernel); deleteWhere's one dump and batched deletes (ENOENT counted as gone, DELETE_BATCH_SIZE
 * per datagram); flush in one request or, where the kernel cannot, by deleteWhere. No root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkSocket } from '../../../../../src/netlink/socket.js';
import { NLM_F } from '../../../../../src/netlink/wire/header.js';
import { NFPROTO } from '../../../../../src/netlink/wire/nfgen.js';
import { CTNETLINK, ctnlType } from '../../../../../src/netlink/conntrack/family.js';
import { IPCTNL_MSG, IPPROTO } from '../../../../../src/netlink/conntrack/schema/constants.js';
import { CTA_FILTER_FLAG } from '../../../../../src/netlink/conntrack/schema/filter.js';
import { decodeCtMessage, type CtMessage } from '../../../../../src/netlink/conntrack/schema/message.js';
import { entryOf } from '../../../../../src/netlink/conntrack/ops/entry.js';
import { checkFilter, type ConntrackFilter } from '../../../../../src/netlink/conntrack/ops/filter.js';
import { listEntries } from '../../../../../src/netlink/conntrack/ops/list.js';
import { DELETE_BATCH_SIZE, deleteEntries, deleteEntry, flushFiltered } from '../../../../../src/netlink/conntrack/ops/delete.js';
import { probeCapabilities } from '../../../../../src/netlink/conntrack/ops/probe.js';
import { FakeCtnetlink, type FakeCtCapabilities } from '../../../../helpers/fake-ctnetlink.js';
import { ack } from '../../../../helpers/fake-kernel.js';
import { pick } from '../../fixtures.js';

const CT_GET = ctnlType(IPCTNL_MSG.CT_GET);
const CT_DELETE = ctnlType(IPCTNL_MSG.CT_DELETE);

/** The captured table: TCP, UDP and ICMP entries, IPv4 and IPv6. */
const TABLE: CtMessage[] = pick('ct-dump', 'received', ctnlType(IPCTNL_MSG.CT_NEW)).map((m) => decodeCtMessage(m.payload));

const KERNELS: Record<string, FakeCtCapabilities> = {
  'dump and flush filters': { filteredDump: true, filteredFlush: true },
  'dump filters only': { filteredDump: true, filteredFlush: false },
  'no filters': { filteredDump: false, filteredFlush: false },
};

function fake(reads: FakeCtCapabilities, entries = TABLE): { ct: FakeCtnetlink; socket: NetlinkSocket } & Disposable {
  const ct = new FakeCtnetlink(entries, reads);
  const socket = new NetlinkSocket(ct.kernel, CTNETLINK);
  return { ct, socket, [Symbol.dispose]: () => socket.close() };
}

/** A short text per entry, to compare tables. */
const flow = (m: CtMessage): string => `${m.family}/${m.orig?.protoNum} ${m.orig?.src}:${m.orig?.srcPort ?? m.orig?.icmpType} > ${m.orig?.dst}:${m.orig?.dstPort ?? ''}`;

void test('probe: the verdict for each kind of kernel; nothing is deleted, and an old kernel is not asked about flushes', async () => {
  for (const [kind, reads] of Object.entries(KERNELS)) {
    using f = fake(reads);
    assert.deepEqual(await probeCapabilities(f.socket), reads, kind);
    assert.equal(f.ct.entries.length, TABLE.length, `${kind}: the probe deleted nothing`);
    assert.deepEqual(f.ct.requests.map((r) => r.type), reads.filteredDump ? [CT_GET, CT_DELETE] : [CT_GET], kind);
    for (const { message } of f.ct.requests) {
      assert.deepEqual({ mark: message.mark, markMask: message.markMask, orig: message.orig }, { mark: 1, markMask: 0, orig: undefined }, 'selects no mark, flags a tuple it does not send');
    }
  }
});

void test('probe: an error other than the two verdicts (EPERM: no CAP_NET_ADMIN) is thrown, not taken for an answer', async () => {
  using f = fake(KERNELS['no filters']!);
  f.ct.kernel.answer = (req) => [ack(req, -1)];
  await assert.rejects(probeCapabilities(f.socket), { name: 'NetlinkError', code: 'EPERM' });
});

const FILTERS: [string, ConntrackFilter, string[]][] = [
  ['everything', {}, TABLE.map(flow)],
  ['udp to 8053', { proto: 'udp', origDstPort: 8053 }, ['2/17 10.7.0.1:40000 > 10.7.0.2:8053', '10/17 fd07::1:40001 > fd07::2:8053']],
  ['IPv4 TCP', { family: 4, proto: 'tcp' }, ['2/6 10.7.0.1:41000 > 10.7.0.2:8080']],
  ['port 8080 of any protocol', { origDstPort: 8080 }, ['10/6 fd07::1:41001 > fd07::2:8080', '2/6 10.7.0.1:41000 > 10.7.0.2:8080']],
  ["an address, in any position (here each reply's destination)", { addresses: ['fd07:0::1'] }, TABLE.filter((m) => m.family === NFPROTO.IPV6).map(flow)],
  ['ICMP by number', { proto: IPPROTO.ICMP }, TABLE.filter((m) => m.orig?.protoNum === IPPROTO.ICMP).map(flow)],
  ['an address of the other family', { family: 4, addresses: ['fd07::1'] }, []],
];

void test('list: the same entries on every kind of kernel; the kernel is asked to filter only what it can', async () => {
  for (const [kind, reads] of Object.entries(KERNELS)) {
    for (const [what, filter, expected] of FILTERS) {
      using f = fake(reads);
      const entries = await listEntries(f.socket, checkFilter(filter), reads.filteredDump && filter.proto !== undefined);
      const flows = TABLE.filter((m) => entries.some((e) => e.id === m.id)).map(flow);
      assert.deepEqual(flows.sort(), [...expected].sort(), `${kind}: ${what}`);
      assert.equal(entries.length, expected.length);
      const dumps = f.ct.requests.filter((r) => r.type === CT_GET);
      assert.ok(dumps.every((d) => (d.flags & NLM_F.DUMP) === NLM_F.DUMP));
      if (reads.filteredDump && filter.proto !== undefined) {
        const families = filter.family === undefined ? [NFPROTO.IPV4, NFPROTO.IPV6] : [filter.family === 4 ? NFPROTO.IPV4 : NFPROTO.IPV6];
        assert.deepEqual(dumps.map((d) => d.message.family), families, `${kind}: ${what}: one filtered dump per family`);
        for (const d of dumps) {
          const port = filter.origDstPort === undefined ? 0 : CTA_FILTER_FLAG.CTA_PROTO_DST_PORT;
          assert.deepEqual(d.message.filter, { orig: CTA_FILTER_FLAG.CTA_PROTO_NUM | port });
          assert.deepEqual(d.message.orig, filter.origDstPort === undefined ? { protoNum: d.message.orig?.protoNum } : { protoNum: d.message.orig?.protoNum, dstPort: filter.origDstPort });
        }
      } else {
        assert.ok(dumps.every((d) => d.message.filter === undefined && d.message.orig === undefined), `${kind}: ${what}: no tuple filter`);
        assert.ok(dumps.length <= 1);
      }
    }
  }
});

void test('deleteWhere: one dump, then one CT_DELETE per entry by original tuple and id, in one datagram', async () => {
  using f = fake(KERNELS['dump and flush filters']!);
  const entries = await listEntries(f.socket, checkFilter({ proto: 'udp', origDstPort: 8053 }), true);
  assert.deepEqual(await deleteEntries(f.socket, entries), { deleted: 2, alreadyGone: 0 });
  const deletes = f.ct.kernel.datagrams.filter((d) => d[0]?.type === CT_DELETE);
  assert.equal(deletes.length, 1, 'one datagram');
  assert.deepEqual(deletes[0]!.map((m) => m.flags), [NLM_F.REQUEST | NLM_F.ACK, NLM_F.REQUEST | NLM_F.ACK]);
  assert.deepEqual(deletes[0]!.map((m) => decodeCtMessage(m.payload)).map((m) => [m.orig?.dstPort, Object.keys(m).sort()]), [
    [8053, ['family', 'id', 'orig']], [8053, ['family', 'id', 'orig']],
  ]);
  assert.deepEqual(f.ct.entries.map(flow).sort(), TABLE.filter((m) => m.orig?.dstPort !== 8053).map(flow).sort(), 'exactly those are gone');
});

void test('deleteWhere: an entry gone meanwhile (ENOENT), or replaced by a newer one with the same tuple (another CTA_ID), counts as gone', async () => {
  using f = fake(KERNELS['dump and flush filters']!);
  const entries = (await listEntries(f.socket, checkFilter({ proto: 'udp' }), true));
  assert.equal(entries.length, 4);
  const [expired, replaced] = entries;
  f.ct.entries = f.ct.entries.filter((m) => m.id !== expired!.id).map((m) => (m.id === replaced!.id ? { ...m, id: m.id! + 1 } : m));
  assert.deepEqual(await deleteEntries(f.socket, entries), { deleted: 2, alreadyGone: 2 });
  assert.equal(f.ct.entries.filter((m) => m.orig?.protoNum === IPPROTO.UDP).length, 1, 'the newer entry stays');
  assert.equal(await deleteEntry(f.socket, entries[2]!), false, 'one delete of what is gone: false, no error');
});

void test('deleteWhere: DELETE_BATCH_SIZE deletes to a datagram; every key is checked before anything is sent', async () => {
  const many: CtMessage[] = Array.from({ length: DELETE_BATCH_SIZE * 2 + 3 }, (_, i) => ({
    family: NFPROTO.IPV4, id: i,
    orig: { src: '10.7.0.1', dst: '10.7.0.2', protoNum: IPPROTO.UDP, srcPort: 10000 + i, dstPort: 8053 },
    reply: { src: '10.7.0.2', dst: '10.7.0.1', protoNum: IPPROTO.UDP, srcPort: 8053, dstPort: 10000 + i },
  }));
  using f = fake(KERNELS['no filters']!, many);
  const entries = many.map(entryOf);
  assert.deepEqual(await deleteEntries(f.socket, entries), { deleted: many.length, alreadyGone: 0 });
  assert.deepEqual(f.ct.kernel.datagrams.map((d) => d.length), [DELETE_BATCH_SIZE, DELETE_BATCH_SIZE, 3]);
  await assert.rejects(deleteEntries(f.socket, [entries[0]!, { proto: 'udp', orig: { src: '10.0.0.1', dst: '10.0.0.2', srcPort: 1 } }]), {
    name: 'TypeError', message: 'invalid conntrack destination port undefined: 0 to 65535',
  });
  assert.equal(f.ct.kernel.datagrams.length, 3, 'nothing sent for a batch with a bad key');
});

void test('flush: one CT_DELETE per family whose CTA_FILTER names protocol and port; the kernel deletes exactly those', async () => {
  using f = fake(KERNELS['dump and flush filters']!);
  await flushFiltered(f.socket, [4, 6], IPPROTO.UDP, 8053);
  const flushes = f.ct.requests.filter((r) => r.type === CT_DELETE).map((r) => r.message);
  assert.deepEqual(flushes, [NFPROTO.IPV4, NFPROTO.IPV6].map((family) => ({
    family, version: 1, orig: { protoNum: IPPROTO.UDP, dstPort: 8053 }, filter: { orig: CTA_FILTER_FLAG.CTA_PROTO_NUM | CTA_FILTER_FLAG.CTA_PROTO_DST_PORT },
  })));
  assert.deepEqual(f.ct.entries.map(flow).sort(), TABLE.filter((m) => m.orig?.dstPort !== 8053).map(flow).sort());
});

void test("flush on a kernel whose flush ignores CTA_FILTER: taken for a delete of one entry, refused, nothing deleted", async () => {
  using f = fake(KERNELS['dump filters only']!);
  await assert.rejects(flushFiltered(f.socket, [4], IPPROTO.UDP, 8053), { name: 'NetlinkError', code: 'EINVAL', op: 'IPCTNL_MSG_CT_DELETE' });
  assert.equal(f.ct.entries.length, TABLE.length);
});
