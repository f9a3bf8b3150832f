/**
 * netlink/nftables goldens for rules and whole transactions: the §2.7 worked example, then the
 * complete ruleset of research/nat-nftables.md §3.2 and its elements written with nsbox's client
 * (test/helpers/nsbox-ruleset.ts) against what nft 1.0.6 sent for test/fixtures/nftables/*.nft
 * (nft-ruleset.hex, nft-ruleset-elements.hex): the table, 7 chains, 11 sets and 23 rules byte for
 * byte, in one datagram; and the kernel's dump of the result (nft-list-ruleset.hex) decoded back
 * to the same objects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkSocket } from '../../../../../src/netlink/socket.js';
import { NLM_F } from '../../../../../src/netlink/wire/header.js';
import type { NlMessage } from '../../../../../src/netlink/wire/message.js';
import { NFTABLES } from '../../../../../src/netlink/nftables/family.js';
import { NftTransaction } from '../../../../../src/netlink/nftables/ops/index.js';
import {
  NFNL_MSG, NFT_MSG, NFT_SET_ELEM, decodeChainMessage, decodeRuleMessage, decodeSetElemListMessage, decodeSetMessage, decodeTableMessage,
  encodeRuleMessage, ifname, statements as s, type Expr,
} from '../../../../../src/netlink/nftables/schema/index.js';
import { FakeKernel, ack } from '../../../../helpers/fake-kernel.js';
import { CHAINS, SETS, addElements, addLayout, asDumped, layoutRules } from '../../../../helpers/nsbox-ruleset.js';
import { fixtureMessages, toHex } from '../../fixtures.js';
import { encodeLikeNft, nftMessages, onlyNft } from '../nft-fixtures.js';

void test('golden: `ip saddr 10.88.0.0/16 oifname != "nsbox0" masquerade comment "outbound"` (research §2.7) byte for byte', () => {
  const req = onlyNft('nft-rule-masq', 'sent', NFT_MSG.NEWRULE);
  assert.equal(req.flags, NLM_F.REQUEST | NLM_F.CREATE | NLM_F.APPEND);
  const expressions: Expr[] = [...s.nfproto('ipv4'), ...s.matchPrefix('ip saddr', '10.88.0.0/16'), ...s.match(s.meta('oifname'), 'neq', ifname('nsbox0')), s.masquerade()];
  const rule = { family: 'inet', table: 'nsbox', chain: 'postrouting', expressions, comment: 'outbound' } as const;
  assert.equal(encodeLikeNft(req, (w) => encodeRuleMessage(w, rule)), toHex(req.bytes));
  const back = decodeRuleMessage(req.payload);
  assert.deepEqual({ ...back, userdata: undefined }, { ...rule, userdata: undefined });
});

/** What a transaction sends: the messages of its one datagram, over a fake kernel that acks all. */
async function sent(build: (tx: NftTransaction) => unknown): Promise<NlMessage[][]> {
  const k = new FakeKernel((req) => ((req.flags & NLM_F.ACK) !== 0 ? [ack(req)] : []));
  const socket = new NetlinkSocket(k, NFTABLES);
  const tx = new NftTransaction(socket);
  build(tx);
  await tx.commit();
  socket.close();
  return k.datagrams;
}

void test('golden: the §3.2 ruleset — one datagram, BEGIN … END, every message\'s body equal to nft\'s (sets numbered, lookups by set id)', async () => {
  const datagrams = await sent(addLayout);
  assert.equal(datagrams.length, 1, 'one sendmsg');
  const ours = datagrams[0]!;
  const nfts = fixtureMessages('nft-ruleset').filter((m) => m.dir === 'sent' && (m.type === NFNL_MSG.BATCH_BEGIN || m.type === NFNL_MSG.BATCH_END || (m.type >> 8) === 10) && (m.flags & NLM_F.DUMP) !== NLM_F.DUMP && m.type !== ((10 << 8) | NFT_MSG.GETGEN));
  assert.equal(ours.length, 1 + 1 + 7 + 11 + 23 + 1);
  assert.deepEqual(ours.map((m) => m.type), nfts.map((m) => m.type));
  ours.forEach((m, i) => assert.equal(toHex(m.payload), toHex(nfts[i]!.payload), `message ${i} (type 0x${m.type.toString(16)})`));
  // acks: none on BEGIN, one on each message and on END
  assert.equal(ours[0]!.flags & NLM_F.ACK, 0);
  assert.ok(ours.slice(1).every((m) => (m.flags & NLM_F.ACK) !== 0));
});

void test('golden: the elements of nsbox-elements.nft, as nft sent them less its leading 0.0.0.0/:: interval ends and its own set ids', async () => {
  const ours = (await sent(addElements))[0]!.filter((m) => m.type === ((10 << 8) | NFT_MSG.NEWSETELEM)).map((m) => decodeSetElemListMessage(m.payload));
  const nfts = nftMessages('nft-ruleset-elements', 'sent', NFT_MSG.NEWSETELEM).map((m) => {
    const d = decodeSetElemListMessage(m.payload);
    delete d.setId;
    const [first, ...rest] = d.elements!;
    if (first?.flags === NFT_SET_ELEM.INTERVAL_END && first.key!.every((b) => b === 0)) d.elements = rest;
    return d;
  });
  assert.deepEqual(ours, nfts);
});

void test('golden: the kernel\'s dump of the ruleset decodes to the table, chains, sets and rules that were sent', () => {
  const received = (msg: number): Uint8Array[] => nftMessages('nft-list-ruleset', 'received', msg).map((m) => m.payload);
  const [table] = received(NFT_MSG.NEWTABLE).map(decodeTableMessage);
  assert.equal(table?.name, 'nsbox');
  assert.equal(table?.comment, 'nsbox layout=1');
  assert.equal(table?.use, 18, '7 chains and 11 sets');

  const chains = received(NFT_MSG.NEWCHAIN).map(decodeChainMessage);
  assert.deepEqual(chains.map((c) => ({ name: c.name, type: c.type, hook: c.hook, policy: c.policy })), CHAINS.map((c) => ({
    name: c.name, type: c.base?.type, hook: c.base && { hook: c.base.hook, priority: c.base.priority }, policy: c.base?.policy,
  })));
  assert.ok(chains.every((c) => c.handle !== undefined && c.table === 'nsbox' && c.family === 'inet'));

  const sets = received(NFT_MSG.NEWSET).map(decodeSetMessage);
  assert.deepEqual(sets.map((x) => x.name), Object.keys(SETS));
  assert.deepEqual(sets.map((x) => x.comment), Object.values(SETS).map((x) => x.comment));

  const rules = received(NFT_MSG.NEWRULE).map(decodeRuleMessage);
  assert.equal(rules.length, layoutRules().length);
  rules.forEach((r, i) => {
    const expected = layoutRules()[i]!;
    assert.equal(r.chain, expected.chain);
    assert.equal(r.comment, expected.comment);
    assert.ok(typeof r.handle === 'bigint');
    // the kernel reports what it derived and no set ids
    const sentExprs = expected.expressions.map(asDumped);
    assert.deepEqual(r.expressions, sentExprs, `rule ${i} in ${expected.chain}`);
  });

  const elements = received(NFT_MSG.NEWSETELEM).map(decodeSetElemListMessage).filter((m) => m.elements !== undefined);
  const dnat4Any = elements.find((m) => m.set === 'dnat4_any');
  assert.equal(dnat4Any?.elements?.length, 2);
});
