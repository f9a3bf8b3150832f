/**
 * Unit: what callers hand netlink/conntrack/ops — filters (checked, matched against entries, and
 * turned into the dump requests the kernel can apply) and keys (the CT_DELETE body of one entry,
 * complete as the kernel's tuple parser demands) — and entries decoded from messages that lack
 * what every entry has. No root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../../../src/errors.js';
import { NFPROTO } from '../../../../../src/netlink/wire/nfgen.js';
import { IPPROTO } from '../../../../../src/netlink/conntrack/schema/constants.js';
import { CTA_FILTER_FLAG } from '../../../../../src/netlink/conntrack/schema/filter.js';
import { entryOf, keyMessage, protocolOf, statusNames, type ConntrackEntry } from '../../../../../src/netlink/conntrack/ops/entry.js';
import { checkFilter, dumpRequests, matchesFilter } from '../../../../../src/netlink/conntrack/ops/filter.js';

/** A published UDP port after DNAT: the client asked for the host's 8053, the sandbox 10.88.0.3:80 answers. */
const DNATED: ConntrackEntry = {
  family: 4, proto: 'udp',
  orig: { src: '192.0.2.254', dst: '192.0.2.1', srcPort: 40000, dstPort: 8053 },
  reply: { src: '10.88.0.3', dst: '192.0.2.254', srcPort: 80, dstPort: 40000 },
  status: ['SEEN_REPLY', 'CONFIRMED', 'DST_NAT', 'DST_NAT_DONE'],
};

void test('matchesFilter: every given field must match; addresses match in any of the four positions', () => {
  const m = (f: Parameters<typeof checkFilter>[0]): boolean => matchesFilter(DNATED, checkFilter(f));
  assert.equal(m({}), true);
  assert.equal(m({ proto: 'udp', origDstPort: 8053 }), true, 'by the host port the client asked for');
  assert.equal(m({ proto: 'udp', origDstPort: 80 }), false, 'not by the sandbox port (moby#53384)');
  assert.equal(m({ proto: IPPROTO.UDP }), true);
  assert.equal(m({ proto: 'tcp' }), false);
  assert.equal(m({ family: 6 }), false);
  assert.equal(m({ addresses: ['10.88.0.3'] }), true, "the sandbox's address is the reply's source");
  assert.equal(m({ addresses: ['192.0.2.254'] }), true);
  assert.equal(m({ addresses: ['10.88.0.4', 'fd88::3'] }), false);
  assert.equal(matchesFilter({ ...DNATED, family: 6, orig: { ...DNATED.orig, src: 'fd88::3' } }, checkFilter({ addresses: ['fd88:0:0::3'] })), true, 'canonical forms compared');
});

void test('checkFilter: a bad field is a TypeError naming it', () => {
  assert.throws(() => checkFilter({ family: 5 as 4 }), { name: 'TypeError', message: 'invalid conntrack family 5: 4 or 6' });
  assert.throws(() => checkFilter({ proto: 'quic' as 'udp' }), { name: 'TypeError', message: /^invalid conntrack protocol "quic": icmp, tcp, udp, /u });
  assert.throws(() => checkFilter({ proto: 256 }), { name: 'TypeError', message: 'invalid conntrack protocol 256: an IPPROTO number is 0 to 255' });
  assert.throws(() => checkFilter({ origDstPort: 65536 }), { name: 'TypeError', message: 'invalid origDstPort 65536: 0 to 65535' });
  assert.throws(() => checkFilter({ addresses: ['10.0.0.256'] }), { name: 'TypeError', message: /^invalid conntrack filter address "10.0.0.256"/u });
  assert.throws(() => checkFilter({ addresses: '10.0.0.1' as unknown as string[] }), TypeError);
  assert.throws(() => checkFilter(null as unknown as object), TypeError);
});

void test('dumpRequests: the family in nfgenmsg; protocol and port as CTA_FILTER, one dump per family, only where the kernel filters', () => {
  const udp8053 = { family: 0, orig: { protoNum: IPPROTO.UDP, dstPort: 8053 }, filter: { orig: CTA_FILTER_FLAG.CTA_PROTO_NUM | CTA_FILTER_FLAG.CTA_PROTO_DST_PORT } };
  assert.deepEqual(dumpRequests(checkFilter({ proto: 'udp', origDstPort: 8053 }), true), [
    { ...udp8053, family: NFPROTO.IPV4 }, { ...udp8053, family: NFPROTO.IPV6 },
  ]);
  assert.deepEqual(dumpRequests(checkFilter({ proto: 'udp', origDstPort: 8053 }), false), [{ family: NFPROTO.UNSPEC }]);
  assert.deepEqual(dumpRequests(checkFilter({ family: 6, proto: 'tcp' }), true), [
    { family: NFPROTO.IPV6, orig: { protoNum: IPPROTO.TCP }, filter: { orig: CTA_FILTER_FLAG.CTA_PROTO_NUM } },
  ]);
  assert.deepEqual(dumpRequests(checkFilter({ addresses: ['10.88.0.3'] }), true), [{ family: NFPROTO.IPV4 }], 'IPv4 addresses: only IPv4 entries can match');
  assert.deepEqual(dumpRequests(checkFilter({ addresses: ['10.88.0.3', 'fd88::3'] }), true), [{ family: NFPROTO.UNSPEC }]);
  assert.deepEqual(dumpRequests(checkFilter({ family: 6, addresses: ['10.88.0.3'] }), true), [], 'no family can match: no dump');
});

void test('keyMessage: the original tuple as complete as the kernel demands, the zone and the id', () => {
  assert.deepEqual(keyMessage({ ...DNATED, zone: 7, id: 0xffffffff }), {
    family: NFPROTO.IPV4, zone: 7, id: 0xffffffff,
    orig: { src: '192.0.2.254', dst: '192.0.2.1', protoNum: IPPROTO.UDP, srcPort: 40000, dstPort: 8053 },
  });
  assert.deepEqual(keyMessage({ proto: 'icmpv6', orig: { src: 'fd00::1', dst: 'fd00::2', icmpId: 5, icmpType: 128, icmpCode: 0, zone: 2 } }), {
    family: NFPROTO.IPV6, orig: { src: 'fd00::1', dst: 'fd00::2', protoNum: IPPROTO.ICMPV6, icmpId: 5, icmpType: 128, icmpCode: 0, zone: 2 },
  });
  assert.deepEqual(keyMessage({ proto: 247, orig: { src: '10.0.0.1', dst: '10.0.0.2' } }).orig, { src: '10.0.0.1', dst: '10.0.0.2', protoNum: 247 }, 'other protocols: addresses only');
  const bad: [unknown, RegExp][] = [
    [{ proto: 'udp', orig: { src: '10.0.0.1', dst: '10.0.0.2', srcPort: 1 } }, /invalid conntrack destination port undefined/u],
    [{ proto: 'tcp', orig: { src: '10.0.0.1', dst: 'fd00::2', srcPort: 1, dstPort: 2 } }, /mixes IPv4 and IPv6/u],
    [{ proto: 'icmp', orig: { src: '10.0.0.1', dst: '10.0.0.2', icmpType: 8, icmpCode: 0 } }, /invalid conntrack ICMP id undefined/u],
    [{ proto: 'udp', orig: { src: 'nope', dst: '10.0.0.2', srcPort: 1, dstPort: 2 } }, /invalid conntrack source address "nope"/u],
    [{ ...DNATED, id: -1 }, /invalid conntrack id -1/u],
    [{ proto: 'udp' }, /named by \{ proto, orig/u],
  ];
  for (const [key, message] of bad) assert.throws(() => keyMessage(key as ConntrackEntry), { name: 'TypeError', message });
});

void test('entryOf: status and protocol by name; an entry without a family, protocol or addresses is a DecodeError', () => {
  assert.deepEqual(statusNames(0x1 | 0x20 | 0x100 | 0x10000), ['EXPECTED', 'DST_NAT', 'DST_NAT_DONE'], 'an unknown bit is left out');
  assert.equal(protocolOf(IPPROTO.SCTP), 'sctp');
  assert.equal(protocolOf(250), 250);
  const ok = { family: NFPROTO.IPV4, orig: { src: '10.0.0.1', dst: '10.0.0.2', protoNum: 250 }, reply: { src: '10.0.0.2', dst: '10.0.0.1', protoNum: 250 } };
  assert.deepEqual(entryOf(ok), { family: 4, proto: 250, orig: { src: '10.0.0.1', dst: '10.0.0.2' }, reply: { src: '10.0.0.2', dst: '10.0.0.1' }, status: [] });
  assert.throws(() => entryOf({ ...ok, family: NFPROTO.BRIDGE }), DecodeError);
  assert.throws(() => entryOf({ ...ok, orig: { src: '10.0.0.1', dst: '10.0.0.2' } }), DecodeError);
  assert.throws(() => entryOf({ ...ok, reply: { protoNum: 250 } }), DecodeError);
});
