/**
 * netlink/nftables goldens for lab loss (firewall/fault-table.ts): the numgen and byteorder
 * expressions, a `typeof meta iifname . numgen random mod 1000000` interval set, and its range
 * element, against what nft 1.0.6 sent and the kernel dumped (test/fixtures/netlink/nft-fault-*.hex,
 * captured by `scripts/capture-fixtures.sh nftables`). Our bytes equal nft's and decode back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NFT_MSG, buildElements, decodeRuleMessage, decodeSetElemListMessage, decodeSetMessage, decodeValues, encodeRuleMessage, encodeSetElemListMessage,
  encodeSetMessage, readExpressions, setMessage, statements as s, writeExpressions, type Expr,
} from '../../../../../src/netlink/nftables/schema/index.js';
import { AttrWriter } from '../../../../../src/netlink/wire/attr-writer.js';
import { FAULT_RULES, FAULT_SETS, lossElement } from '../../../../../src/firewall/fault-table.js';
import { toHex } from '../../fixtures.js';
import { encodeLikeNft, nftMessages, onlyNft } from '../nft-fixtures.js';

const t = { family: 'inet', table: 'nsbox_fault' } as const;
const lossRule = (setId?: number): Expr[] => [
  ...s.inSet([s.meta('iifname'), s.numgen('random', 1_000_000)], 'loss', setId === undefined ? {} : { setId }), s.counter(), s.drop(),
];

void test('golden: `meta iifname . numgen random mod 1000000 @loss counter drop` — numgen into reg 2, hton in place, lookup of the 20-byte key', () => {
  const req = onlyNft('nft-fault-rule', 'sent', NFT_MSG.NEWRULE);
  const expressions = lossRule(1);
  assert.deepEqual(expressions.slice(0, 3), [
    { type: 'meta', key: 'iifname', dreg: 1 },
    { type: 'numgen', dreg: 2, modulus: 1_000_000, ng: 'random', offset: 0 },
    { type: 'byteorder', sreg: 2, dreg: 2, op: 'hton', len: 4, size: 4 },
  ]);
  const rule = { ...t, chain: 'pre', expressions };
  assert.equal(encodeLikeNft(req, (w) => encodeRuleMessage(w, rule)), toHex(req.bytes));
  const back = decodeRuleMessage(req.payload);
  assert.deepEqual(back.expressions, expressions);
  // the table's rule is the same one (by name, not by the transaction's set id)
  assert.deepEqual(FAULT_RULES.loss.expressions, lossRule());
});

void test('golden: the kernel\'s dump of the rule decodes to numgen and byteorder, the counter at zero', () => {
  const [reply] = nftMessages('nft-fault-list', 'received', NFT_MSG.NEWRULE);
  assert.ok(reply);
  const r = decodeRuleMessage(reply.payload);
  assert.deepEqual(r.expressions?.map((e) => e.type), ['meta', 'numgen', 'byteorder', 'lookup', 'counter', 'immediate']);
  assert.deepEqual(r.expressions?.[4], { type: 'counter', bytes: 0n, packets: 0n });
});

void test('golden: `set loss { typeof meta iifname . numgen random mod 1000000; flags interval; }` — key ifname . integer (0xa44), 16 + 4 bytes, nft\'s typeof userdata', () => {
  const req = onlyNft('nft-fault-set', 'sent', NFT_MSG.NEWSET);
  const m = setMessage(FAULT_SETS.loss, 1);
  assert.equal(m.keyType, (41 << 6) | 4);
  assert.equal(encodeLikeNft(req, (w) => encodeSetMessage(w, m)), toHex(req.bytes));
  const d = decodeSetMessage(req.payload);
  assert.deepEqual(d.desc, { concat: [16, 4] });
  assert.equal(d.keyLen, 20);
});

void test('golden: the element `"vb" . 0-199999` (20% loss on vb) — KEY the starts, KEY_END the inclusive ends, big-endian', () => {
  const req = onlyNft('nft-fault-elements', 'sent', NFT_MSG.NEWSETELEM);
  const element = lossElement('vb', 0.2);
  assert.deepEqual(element, { key: ['vb', '0-199999'] });
  const { elements } = buildElements(FAULT_SETS.loss, [element!]);
  assert.equal(toHex(elements[0]!.keyEnd!).slice(-8), '00030d3f');
  const m = decodeSetElemListMessage(req.payload);
  assert.deepEqual(m.elements, elements);
  assert.equal(encodeLikeNft(req, (w) => { encodeSetElemListMessage(w, { ...t, set: 'loss', setId: m.setId!, elements }); }), toHex(req.bytes));
  assert.deepEqual(decodeValues(FAULT_SETS.loss.key, elements[0]!.keyEnd!), ['vb', 199_999]);
});

void test('numgen (inc, an offset) and byteorder (ntoh) round trip; loss fractions map to millionths', () => {
  const exprs: Expr[] = [
    { type: 'numgen', dreg: 8, modulus: 3, ng: 'incremental', offset: 10 },
    { type: 'byteorder', sreg: 8, dreg: 9, op: 'ntoh', len: 8, size: 4 },
  ];
  const w = new AttrWriter();
  writeExpressions(w, 1, exprs);
  assert.deepEqual(readExpressions(w.finish().subarray(4)), exprs);
  assert.equal(lossElement('eth0', 0), undefined);
  assert.deepEqual(lossElement('eth0', 1), { key: ['eth0', '0-999999'] });
  assert.deepEqual(lossElement('eth0', 0.05), { key: ['eth0', '0-49999'] });
  assert.throws(() => lossElement('eth0', 1.5), RangeError);
  assert.throws(() => lossElement('eth0', Number.NaN), RangeError);
  assert.throws(() => s.numgen('random', 0), RangeError);
  assert.throws(() => buildElements(FAULT_SETS.loss, [{ key: ['vb', '5-1'] }]), /first above last/);
  assert.throws(() => buildElements(FAULT_SETS.loss, [{ key: ['vb', 'x'] }]), /FIRST-LAST/);
});
