/**
 * netlink/route/schema tc goldens, captured by `scripts/capture-fixtures.sh tc` (iproute2 6.1 `tc`
 * under strace on a veth end in a throwaway namespace, /proc/net/psched 000003e8 00000040 000f4240
 * 3b9aca00; see each tc-*.hex file's first line): qdisc add/replace/change/del of tbf, htb qdisc
 * and classes (32- and 64-bit rates), netem (refused by this kernel: ENOENT), pfifo, ingress,
 * clsact, and the kernel's dump replies to `tc -j -s qdisc/class show`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../../../../src/errors.js';
import { TCA } from '../../../../../src/netlink/route/schema/constants.js';
import { AttrWriter } from '../../../../../src/netlink/wire/attr.js';
import { NLMSG } from '../../../../../src/netlink/wire/header.js';
import { decodeError } from '../../../../../src/netlink/wire/error.js';
import { AF, RTM, TC_H } from '../../../../../src/netlink/route/schema/constants.js';
import { decodeLinkMessage } from '../../../../../src/netlink/route/schema/link.js';
import {
  type ClassOptions, type NetemOptions, type QdiscOptions, type TcMessage, TCMSG_LEN, decodeClassMessage, decodeQdiscMessage, encodeClassMessage, encodeQdiscMessage,
} from '../../../../../src/netlink/route/schema/tc.js';
import { KERNEL_PSCHED, parsePsched, xmitSize, xmitTime } from '../../../../../src/netlink/route/schema/tc-rate.js';
import { formatTcHandle, parseTcHandle } from '../../../../../src/netlink/route/schema/tc-handle.js';
import { encodeLike, loadFixture, one, pick, toHex } from '../../fixtures.js';

/** t0's ifindex, from the link dump tc ran first in the same capture. */
function t0(name: string): number {
  const link = pick(name, 'received', RTM.NEWLINK).map((m) => decodeLinkMessage(m.payload)).find((l) => l.name === 't0');
  assert.ok(link?.index !== undefined);
  return link.index;
}

function ack(name: string): number {
  const m = one(name, 'received', NLMSG.ERROR);
  return decodeError(m.payload, m.flags).error;
}

function qdiscGolden(name: string, type: number, expected: (index: number) => TcMessage<QdiscOptions>): void {
  const req = one(name, 'sent', type);
  const msg = expected(t0(name));
  assert.equal(encodeLike(req, TCMSG_LEN, (w) => encodeQdiscMessage(w, msg)), toHex(req.bytes), `${name}: bytes`);
}

function classGolden(name: string, type: number, expected: (index: number) => TcMessage<ClassOptions>): void {
  const req = one(name, 'sent', type);
  const msg = expected(t0(name));
  assert.equal(encodeLike(req, TCMSG_LEN, (w) => encodeClassMessage(w, msg)), toHex(req.bytes), `${name}: bytes`);
}

const header = (index: number, handle: number, parent: number) => ({ family: AF.UNSPEC, index, handle, parent, info: 0 });

void test('the fixtures were captured with the clock KERNEL_PSCHED describes', () => {
  const psched = /\/proc\/net\/psched ([0-9a-f ]+);/.exec(loadFixture('tc-qdisc-add-tbf').provenance)?.[1];
  assert.ok(psched);
  assert.deepEqual(parsePsched(psched), KERNEL_PSCHED);
  // tc's compatibility rule for a nanosecond clock_res
  assert.deepEqual(parsePsched('000003e8 00000040 3b9aca00 3b9aca00'), { ticksPerUsec: 1000, hz: 100 });
  assert.throws(() => parsePsched('garbage'), TypeError);
});

void test('golden: tc qdisc add … tbf rate 10mbit burst 32kbit latency 50ms (rate table, limit from latency)', () => {
  qdiscGolden('tc-qdisc-add-tbf', RTM.NEWQDISC, (i) => ({ ...header(i, 0, TC_H.ROOT), options: { kind: 'tbf', rate: 10_000_000, burst: 4096, latency: 50_000 } }));
  assert.equal(ack('tc-qdisc-add-tbf'), 0);
  const decoded = decodeQdiscMessage(one('tc-qdisc-add-tbf', 'sent', RTM.NEWQDISC).payload);
  // limit = 1.25e6 B/s × 0.05 s + 4096
  assert.deepEqual(decoded.options, { kind: 'tbf', rate: 10_000_000, burst: 4096, limit: 66596 });
});

void test('golden: tc qdisc replace … tbf rate 40gbit … peakrate 50gbit mtu 2000 (RATE64, PRATE64, PBURST, PTAB)', () => {
  const options = { kind: 'tbf', rate: 40_000_000_000, burst: 65536, limit: 100000, peakrate: 50_000_000_000, mtu: 2000 } as const;
  qdiscGolden('tc-qdisc-replace-tbf', RTM.NEWQDISC, (i) => ({ ...header(i, 0, TC_H.ROOT), options }));
  assert.deepEqual(decodeQdiscMessage(one('tc-qdisc-replace-tbf', 'sent', RTM.NEWQDISC).payload).options, options);
  // bigint rates encode the same bytes
  const w1 = new AttrWriter();
  const w2 = new AttrWriter();
  encodeQdiscMessage(w1, { ...header(3, 0, TC_H.ROOT), options });
  encodeQdiscMessage(w2, { ...header(3, 0, TC_H.ROOT), options: { ...options, rate: 40_000_000_000n, peakrate: 50_000_000_000n } });
  assert.equal(toHex(w1.finish()), toHex(w2.finish()));
});

void test('golden: tc qdisc change … tbf rate 50mbit burst 64kbit latency 50ms', () => {
  qdiscGolden('tc-qdisc-change-tbf', RTM.NEWQDISC, (i) => ({ ...header(i, 0, TC_H.ROOT), options: { kind: 'tbf', rate: 50_000_000, burst: 8192, latency: 50_000 } }));
});

void test('golden: the kernel\'s dump of a tbf (tc -j -s qdisc show): options and counters', () => {
  const replies = pick('tc-qdisc-show-tbf', 'received', RTM.NEWQDISC).map((m) => decodeQdiscMessage(m.payload));
  const index = t0('tc-qdisc-show-tbf');
  const tbf = replies.find((q) => q.index === index && q.options?.kind === 'tbf');
  assert.ok(tbf, 'the tbf on t0');
  assert.equal(tbf.parent, TC_H.ROOT);
  assert.notEqual(tbf.handle, 0, 'the kernel gave it a handle');
  // limit = 6.25e6 B/s × 0.05 s + 8192; the bucket comes back in ticks the kernel computed from
  // TCA_TBF_BURST (20480), read back through whole µs as tc 6.1 prints it: 1310 µs = 8187 bytes
  assert.deepEqual(tbf.options, { kind: 'tbf', rate: 50_000_000, burst: 8187, limit: 320_692 });
  assert.ok(tbf.stats, 'TCA_STATS2');
  assert.equal(typeof tbf.stats.drops, 'number');
});

void test('golden: tc qdisc del dev t0 root', () => {
  qdiscGolden('tc-qdisc-del-root', RTM.DELQDISC, (i) => header(i, 0, TC_H.ROOT));
  assert.equal(ack('tc-qdisc-del-root'), 0);
});

void test('golden: tc qdisc add … root handle 1: htb default 10 r2q 5 direct_qlen 100', () => {
  qdiscGolden('tc-qdisc-add-htb', RTM.NEWQDISC, (i) => ({ ...header(i, parseTcHandle('1:'), TC_H.ROOT), options: { kind: 'htb', defaultClass: 0x10, r2q: 5, directQlen: 100 } }));
  const decoded = decodeQdiscMessage(one('tc-qdisc-add-htb', 'sent', RTM.NEWQDISC).payload);
  assert.deepEqual(decoded.options, { kind: 'htb', defaultClass: 0x10, r2q: 5, directQlen: 100, directPackets: 0 });
});

void test('golden: tc class add … classid 1:10 htb rate 25mbit ceil 30mbit prio 1 quantum 1500 (default bursts)', () => {
  classGolden('tc-class-add-htb', RTM.NEWTCLASS, (i) => ({ ...header(i, parseTcHandle('1:10'), parseTcHandle('1:')), options: { kind: 'htb', rate: 25_000_000, ceil: 30_000_000, prio: 1, quantum: 1500 } }));
  assert.equal(ack('tc-class-add-htb'), 0);
});

void test('golden: tc class add … classid 1:20 htb rate 40gbit burst 15k cburst 20k (RATE64, CEIL64; the kernel warns about the quantum)', () => {
  classGolden('tc-class-add-htb-64', RTM.NEWTCLASS, (i) => ({ ...header(i, parseTcHandle('1:20'), parseTcHandle('1:')), options: { kind: 'htb', rate: 40_000_000_000, burst: 15360, cburst: 20480 } }));
  const m = one('tc-class-add-htb-64', 'received', NLMSG.ERROR);
  const err = decodeError(m.payload, m.flags);
  assert.equal(err.error, 0);
  assert.match(err.extack?.message ?? '', /quantum/);
  // at 5e9 B/s a 15 KiB bucket is 3 µs: through tc 6.1's whole-µs conversions it reads back as 10000 bytes
  assert.deepEqual(decodeClassMessage(one('tc-class-add-htb-64', 'sent', RTM.NEWTCLASS).payload).options, {
    kind: 'htb', rate: 40_000_000_000, ceil: 40_000_000_000, burst: 10000, cburst: 15000, quantum: 0, level: 0, prio: 0,
  });
});

void test('golden: the kernel\'s dumps of an htb qdisc and its classes', () => {
  const index = t0('tc-qdisc-show-htb');
  const htb = pick('tc-qdisc-show-htb', 'received', RTM.NEWQDISC).map((m) => decodeQdiscMessage(m.payload)).find((q) => q.index === index && q.options?.kind === 'htb');
  assert.ok(htb);
  assert.equal(formatTcHandle(htb.handle), '1:');
  assert.deepEqual(htb.options, { kind: 'htb', defaultClass: 0x10, r2q: 5, directQlen: 100, directPackets: 0 });
  const classes = pick('tc-class-show-htb', 'received', RTM.NEWTCLASS).map((m) => decodeClassMessage(m.payload));
  const byId = new Map(classes.map((c) => [formatTcHandle(c.handle), c]));
  assert.deepEqual([...byId.keys()].sort(), ['1:10', '1:20']);
  const c10 = byId.get('1:10');
  assert.equal(c10?.parent, TC_H.ROOT, 'a class right under the qdisc reports parent root');
  // default bursts rate / hz + 1600 bytes, read back as tc 6.1 prints them (1600b, 1593b)
  assert.deepEqual(c10?.options, { kind: 'htb', rate: 25_000_000, ceil: 30_000_000, burst: 1600, cburst: 1593, quantum: 1500, level: 0, prio: 1 });
  const c20 = byId.get('1:20')?.options;
  assert.ok(c20?.kind === 'htb');
  assert.deepEqual({ ...c20, quantum: undefined }, { kind: 'htb', rate: 40_000_000_000, ceil: 40_000_000_000, burst: 10000, cburst: 15000, quantum: undefined, level: 0, prio: 0 });
  assert.ok((c20 as { quantum: number }).quantum > 0, 'the kernel picked a quantum (it warned about it)');
});

void test('golden: tc class del dev t0 classid 1:20', () => {
  classGolden('tc-class-del-htb', RTM.DELTCLASS, (i) => header(i, parseTcHandle('1:20'), 0));
});

void test('golden: tc qdisc add … netem limit 2000 delay 20ms 5ms loss 1.5% duplicate 2% corrupt 0.5% rate 100mbit; this kernel: ENOENT', () => {
  const options = { kind: 'netem', limit: 2000, delay: 20_000, jitter: 5000, loss: 1.5, duplicate: 2, corrupt: 0.5, rate: 100_000_000 } as const;
  qdiscGolden('tc-qdisc-add-netem', RTM.NEWQDISC, (i) => ({ ...header(i, 0, TC_H.ROOT), options }));
  const decoded = decodeQdiscMessage(one('tc-qdisc-add-netem', 'sent', RTM.NEWQDISC).payload).options as NetemOptions;
  assert.equal(decoded.kind, 'netem');
  assert.equal(decoded.delay, 20_000);
  assert.equal(decoded.jitter, 5000);
  assert.ok(Math.abs((decoded as { loss: number }).loss - 1.5) < 1e-6);
  assert.ok(Math.abs((decoded as { corrupt: number }).corrupt - 0.5) < 1e-6);
  assert.equal((decoded as { rate: number }).rate, 100_000_000);
  const m = one('tc-qdisc-add-netem', 'received', NLMSG.ERROR);
  const err = decodeError(m.payload, m.flags);
  assert.equal(err.error, -2, 'ENOENT: CONFIG_NET_SCH_NETEM is not set on the capture machine');
  assert.match(err.extack?.message ?? '', /unknown/i);
});

void test('golden: pfifo limit 50, ingress, clsact (no options), del clsact', () => {
  qdiscGolden('tc-qdisc-add-pfifo', RTM.NEWQDISC, (i) => ({ ...header(i, parseTcHandle('2:'), TC_H.ROOT), options: { kind: 'pfifo', limit: 50 } }));
  qdiscGolden('tc-qdisc-add-ingress', RTM.NEWQDISC, (i) => ({ ...header(i, parseTcHandle('ffff:'), TC_H.INGRESS), options: { kind: 'ingress' } }));
  qdiscGolden('tc-qdisc-add-clsact', RTM.NEWQDISC, (i) => ({ ...header(i, parseTcHandle('ffff:'), TC_H.CLSACT), options: { kind: 'clsact' } }));
  qdiscGolden('tc-qdisc-del-clsact', RTM.DELQDISC, (i) => ({ ...header(i, parseTcHandle('ffff:'), TC_H.CLSACT), options: { kind: 'clsact' } }));
  const index = t0('tc-qdisc-show-clsact');
  const clsact = pick('tc-qdisc-show-clsact', 'received', RTM.NEWQDISC).map((m) => decodeQdiscMessage(m.payload)).find((q) => q.index === index && q.options?.kind === 'clsact');
  assert.deepEqual(clsact && { handle: formatTcHandle(clsact.handle), parent: clsact.parent, options: clsact.options }, { handle: 'ffff:', parent: TC_H.CLSACT, options: { kind: 'clsact' } });
});

void test('round trips of every kind\'s options', () => {
  const qdiscs: QdiscOptions[] = [
    { kind: 'tbf', rate: 8_000_000, burst: 10_000, limit: 20_000 },
    { kind: 'tbf', rate: 80_000_000_000, burst: 100_000, limit: 1_000_000, peakrate: 96_000_000_000, mtu: 1514 },
    { kind: 'htb', defaultClass: 0x20, r2q: 10, directQlen: 10, directPackets: 0 },
    { kind: 'netem', limit: 1000, delay: 100_000, jitter: 1000, reorder: 25, gap: 5, rate: 80_000_000_000 },
    { kind: 'pfifo', limit: 7 },
    { kind: 'bfifo', limit: 70_000 },
    { kind: 'ingress' },
    { kind: 'clsact' },
    { kind: 'sfq', raw: Uint8Array.of(1, 2, 3, 4) },
  ];
  for (const options of qdiscs) {
    const w = new AttrWriter();
    const m: TcMessage<QdiscOptions> = { ...header(5, 0x10000, TC_H.ROOT), options };
    encodeQdiscMessage(w, m);
    const back = decodeQdiscMessage(w.finish());
    if (options.kind === 'netem') assert.equal((back.options as { reorder: number }).reorder.toFixed(6), '25.000000');
    else assert.deepEqual(back, m, options.kind);
  }
  const w = new AttrWriter();
  const cls: TcMessage<ClassOptions> = { ...header(5, 0x10010, 0x10000), options: { kind: 'htb', rate: 25_000_000, ceil: 50_000_000, burst: 3125, cburst: 6250, quantum: 3000, prio: 2, level: 0 } };
  encodeClassMessage(w, cls);
  assert.deepEqual(decodeClassMessage(w.finish()), cls);
});

void test('encode refuses what tc refuses', () => {
  const enc = (options: QdiscOptions) => () => encodeQdiscMessage(new AttrWriter(), { ...header(1, 0, TC_H.ROOT), options });
  assert.throws(enc({ kind: 'tbf', rate: 1e6, burst: 1000 }), /limit .* or latency/);
  assert.throws(enc({ kind: 'tbf', rate: 1e6, burst: 1000, limit: 1, latency: 1 }), /either/);
  assert.throws(enc({ kind: 'tbf', rate: 0, burst: 1000, limit: 1 }), /rate/);
  assert.throws(enc({ kind: 'tbf', rate: 1e6, burst: 1000, limit: 1, peakrate: 2e6 }), /mtu/);
  assert.throws(enc({ kind: 'netem', jitter: 10 }), /jitter needs delay/);
  assert.throws(enc({ kind: 'netem', loss: 101 }), /percentage/);
});

void test('handles: tc\'s text <-> u32', () => {
  const cases: [string, number][] = [['1:', 0x10000], ['1:10', 0x10010], [':10', 0x10], ['ffff:', 0xffff0000], ['ffff:fff1', TC_H.INGRESS], ['root', TC_H.ROOT], ['none', 0]];
  for (const [text, value] of cases) {
    assert.equal(parseTcHandle(text), value, text);
    if (text !== 'ffff:fff1') assert.equal(formatTcHandle(value), text);
  }
  assert.equal(parseTcHandle('ingress'), TC_H.INGRESS);
  assert.equal(parseTcHandle('clsact'), TC_H.CLSACT);
  assert.equal(formatTcHandle(TC_H.INGRESS), 'ffff:fff1');
  assert.equal(parseTcHandle(0x10010), 0x10010);
  for (const bad of ['1', '1:2:3', '10000:', 'x:', ':', '', -1, 2 ** 32, 1.5]) assert.throws(() => parseTcHandle(bad as string), TypeError, String(bad));
});

void test('xmitTime/xmitSize: tc_core.c\'s conversions', () => {
  // 4096 bytes at 1.25e6 B/s = 3276.8 µs, truncated to 3276, × 15.625 = 51187.5, truncated (iproute2 6.1)
  assert.equal(xmitTime(1_250_000, 4096, KERNEL_PSCHED), 51187);
  assert.equal(xmitSize(1_250_000, 51187, KERNEL_PSCHED), 4093);
  assert.equal(xmitTime(1_250_000, 8, KERNEL_PSCHED), 93, 'the first slot of the golden rate table');
  assert.equal(xmitTime(1, 2 ** 32, KERNEL_PSCHED), 0xffffffff, 'saturates at UINT_MAX');
});

void test('arbitrary TCA_OPTIONS of every known kind: decode returns or throws DecodeError', () => {
  const kinds = ['tbf', 'htb', 'netem', 'pfifo', 'bfifo', 'ingress', 'clsact'];
  fc.assert(fc.property(fc.constantFrom(...kinds), fc.uint8Array({ maxLength: 120 }), fc.boolean(), (kind, raw, nested) => {
    const w = new AttrWriter();
    w.reserve(TCMSG_LEN);
    w.string(TCA.KIND, kind);
    if (nested) w.nest(TCA.OPTIONS, () => w.raw(raw));
    else w.bytes(TCA.OPTIONS, raw);
    for (const decode of [decodeQdiscMessage, decodeClassMessage]) {
      try {
        decode(w.finish());
      } catch (e) {
        if (!(e instanceof DecodeError)) assert.fail(`${kind}: ${String(e)} on ${toHex(raw)}`);
      }
    }
  }), { numRuns: 3000 });
});
