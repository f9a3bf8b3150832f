/**
 * Property: every decoder, on any bytes, either returns or throws DecodeError — never a RangeError
 * from a DataView, a TypeError, or anything else. Inputs: arbitrary bytes, and mutations
 * (truncation, byte flips, rewritten 16-bit length fields) of every message in the kernel captures
 * under test/fixtures/netlink (made by scripts/capture-fixtures.sh). Inputs are views at an odd
 * byteOffset into a larger buffer, to catch offset arithmetic that forgets byteOffset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { DecodeError } from '../../../src/errors.js';
import { attrMap, decodeAttrs } from '../../../src/netlink/wire/attr.js';
import { decodeError } from '../../../src/netlink/wire/error.js';
import { NLM_F, decodeHeader } from '../../../src/netlink/wire/header.js';
import { splitMessages } from '../../../src/netlink/wire/message.js';
import { decodeAddrMessage } from '../../../src/netlink/route/schema/addr.js';
import { decodeLinkMessage } from '../../../src/netlink/route/schema/link.js';
import { decodeNeighMessage } from '../../../src/netlink/route/schema/neigh.js';
import { decodeNsidMessage } from '../../../src/netlink/route/schema/nsid.js';
import { decodeRouteMessage } from '../../../src/netlink/route/schema/route.js';
import { decodeClassMessage, decodeQdiscMessage } from '../../../src/netlink/route/schema/tc.js';
import {
  decodeBatchBegin, decodeChainMessage, decodeGenMessage, decodeRuleMessage, decodeSetElemListMessage, decodeSetMessage, decodeTableMessage,
  decodeUserdata, decodeValues, readExpressions,
} from '../../../src/netlink/nftables/schema/index.js';
import { decodeNfgenmsg } from '../../../src/netlink/wire/nfgen.js';
import { decodeCtMessage } from '../../../src/netlink/conntrack/schema/message.js';
import { decodeTuple } from '../../../src/netlink/conntrack/schema/tuple.js';
import { entryOf } from '../../../src/netlink/conntrack/ops/entry.js';
import { fixtureMessages, loadFixture, repoRoot } from './fixtures.js';

const DECODERS: [string, (b: Uint8Array) => unknown][] = [
  ['decodeHeader', (b) => decodeHeader(b, 0)],
  ['splitMessages', (b) => splitMessages(b)],
  ['decodeAttrs', (b) => decodeAttrs(b)],
  ['attrMap', (b) => attrMap(b, Math.min(4, b.length))],
  ['decodeError(capped, tlvs)', (b) => decodeError(b, NLM_F.CAPPED | NLM_F.ACK_TLVS)],
  ['decodeError(full, tlvs)', (b) => decodeError(b, NLM_F.ACK_TLVS)],
  ['decodeError(full)', (b) => decodeError(b, 0)],
  ['decodeLinkMessage', decodeLinkMessage],
  ['decodeAddrMessage', decodeAddrMessage],
  ['decodeRouteMessage', decodeRouteMessage],
  ['decodeNeighMessage', decodeNeighMessage],
  ['decodeNsidMessage', decodeNsidMessage],
  ['decodeQdiscMessage', (b) => decodeQdiscMessage(b)],
  ['decodeClassMessage', (b) => decodeClassMessage(b)],
  ['decodeBatchBegin', decodeBatchBegin],
  ['decodeTableMessage', decodeTableMessage],
  ['decodeChainMessage', decodeChainMessage],
  ['decodeRuleMessage', decodeRuleMessage],
  ['decodeSetMessage', decodeSetMessage],
  ['decodeSetElemListMessage', decodeSetElemListMessage],
  ['decodeGenMessage', decodeGenMessage],
  ['readExpressions', readExpressions],
  ['decodeUserdata', decodeUserdata],
  ['decodeValues(concat)', (b) => decodeValues(['inet_proto', 'ipv4_addr', 'inet_service', 'ifname', 'mark'], b)],
  ['decodeNfgenmsg', decodeNfgenmsg],
  ['decodeCtMessage', decodeCtMessage],
  ['decodeTuple', (b) => decodeTuple(b, 'CTA_TUPLE_ORIG')],
  ['entryOf(decodeCtMessage)', (b) => entryOf(decodeCtMessage(b))],
];

/** A copy of `b` as a view at byteOffset 3 of a larger buffer. */
function offsetView(b: Uint8Array): Uint8Array {
  const big = new Uint8Array(b.length + 7).fill(0xee);
  big.set(b, 3);
  return big.subarray(3, 3 + b.length);
}

function onlyDecodeErrors(b: Uint8Array): void {
  const input = offsetView(b);
  for (const [name, decode] of DECODERS) {
    try {
      decode(input);
    } catch (e) {
      if (!(e instanceof DecodeError)) {
        assert.fail(`${name} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} on ${Buffer.from(b).toString('hex')}`);
      }
    }
  }
}

// Every message payload and every whole datagram in the captures.
const names = readdirSync(join(repoRoot(), 'test', 'fixtures', 'netlink')).map((f) => f.replace(/\.hex$/, ''));
const corpus: Uint8Array[] = [
  ...names.flatMap((n) => fixtureMessages(n).map((m) => Uint8Array.from(m.payload))),
  ...names.flatMap((n) => loadFixture(n).datagrams.map((d) => d.bytes)),
];

void test('the corpus is the captured kernel traffic', () => {
  assert.ok(names.length >= 30 && corpus.length > 200, `${names.length} fixtures, ${corpus.length} inputs`);
  assert.ok(names.some((n) => n.startsWith('ct-')), 'the ctnetlink captures are in it');
  for (const b of corpus) onlyDecodeErrors(b);
});

void test('arbitrary bytes: decoders return or throw DecodeError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyDecodeErrors(b)), { numRuns: 3000 });
});

void test('arbitrary attribute streams: well-formed headers with random lengths and types', () => {
  const attr = fc.record({ len: fc.integer({ min: 0, max: 40 }), type: fc.integer({ min: 0, max: 0xffff }), body: fc.uint8Array({ maxLength: 40 }) });
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.array(attr, { maxLength: 8 }), (head, attrs) => {
      const parts = [head];
      for (const a of attrs) {
        const h = new Uint8Array(4);
        new DataView(h.buffer).setUint16(0, a.len, true);
        new DataView(h.buffer).setUint16(2, a.type, true);
        parts.push(h, a.body, new Uint8Array((4 - (a.body.length % 4)) % 4));
      }
      onlyDecodeErrors(Buffer.concat(parts));
    }),
    { numRuns: 3000 },
  );
});

void test('arbitrary ctnetlink bodies: an nfgenmsg, then random nests of the attribute types ctnetlink uses', () => {
  const { tree } = fc.letrec((tie) => ({
    tree: fc.array(tie('node'), { maxLength: 5 }),
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ type: fc.integer({ min: 0, max: 27 }), value: fc.uint8Array({ maxLength: 20 }) }),
      fc.record({ type: fc.integer({ min: 0, max: 27 }), children: tie('tree') }),
    ),
  }));
  type Node = { type: number; value?: Uint8Array; children?: Node[] };
  const encode = (nodes: Node[]): Uint8Array => Buffer.concat(nodes.map((n) => {
    const body = n.children !== undefined ? encode(n.children) : n.value ?? new Uint8Array(0);
    const h = new Uint8Array(4);
    new DataView(h.buffer).setUint16(0, 4 + body.length, true);
    new DataView(h.buffer).setUint16(2, n.type | (n.children !== undefined ? 0x8000 : 0), true);
    return Buffer.concat([h, body, new Uint8Array((4 - (body.length % 4)) % 4)]);
  }));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 12 }), tree, (family, nodes) => onlyDecodeErrors(Buffer.concat([Uint8Array.of(family, 0, 0, 0), encode(nodes as Node[])]))),
    { numRuns: 3000 },
  );
});

void test('mutated captures (truncated, flipped bytes, rewritten length fields): decoders return or throw DecodeError', () => {
  const mutation = fc.record({
    src: fc.constantFrom(...corpus),
    cut: fc.option(fc.nat(), { nil: undefined }),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    lengths: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 0xffff })), { maxLength: 3 }),
  });
  fc.assert(
    fc.property(mutation, ({ src, cut, flips, lengths }) => {
      let b = Uint8Array.from(src);
      if (b.length === 0) return;
      for (const [pos, v] of flips) b[pos % b.length] = v;
      // attribute and message headers start on 4-byte boundaries: hit their length fields
      for (const [pos, v] of lengths) {
        const at = ((pos % Math.ceil(b.length / 4)) * 4) % b.length;
        if (at + 2 <= b.length) new DataView(b.buffer).setUint16(at, v, true);
      }
      if (cut !== undefined) b = b.subarray(0, cut % (b.length + 1));
      onlyDecodeErrors(b);
    }),
    { numRuns: 5000 },
  );
});
