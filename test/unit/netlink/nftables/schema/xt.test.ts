/**
 * netlink/nftables/schema/xt.ts against the kernel's dump of a forward chain iptables-nft 1.8.9
 * wrote (test/fixtures/netlink/nft-iptables-forward.hex, captured by `scripts/capture-fixtures.sh
 * nftables` running `iptables-nft -S FORWARD` under strace; the rules were added before it):
 * its xtables matches and target read back, `-m state` being iptables-nft's alias of the
 * conntrack match; and a rule of another tool with an expression nsbox's codec cannot read
 * decodes, that expression as raw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CT_STATE_BIT, NFT_MSG, XT_CONNTRACK, XT_CONNTRACK_STATE, decodeChainMessage, decodeRuleMessage, ifname, readExpressions, xtConntrackInfo,
  xtExtension, xtStateMask, type Expr,
} from '../../../../../src/netlink/nftables/schema/index.js';
import { AttrWriter } from '../../../../../src/netlink/wire/attr-writer.js';
import { NFTA_EXPR, NFTA_LIST, NFTA_META, NFTA_RULE } from '../../../../../src/netlink/nftables/schema/constants.js';
import { nftMessages } from '../nft-fixtures.js';

const received = (msg: number): Uint8Array[] => nftMessages('nft-iptables-forward', 'received', msg).map((m) => m.payload);

/** The rules, each expression as `kind` or `kind name` (xtables) for a compact comparison. */
function shape(exprs: readonly Expr[]): string[] {
  return exprs.map((e) => {
    const x = xtExtension(e);
    return x === undefined ? e.type : `${x.kind} ${x.name}/${x.rev}`;
  });
}

void test('golden: iptables-nft\'s FORWARD chain and rules, with xtables matches and a REJECT target, as the kernel dumps them', () => {
  const chains = received(NFT_MSG.NEWCHAIN).map(decodeChainMessage).filter((c) => c.name === 'FORWARD');
  assert.equal(chains.length, 1);
  assert.deepEqual({ family: chains[0]!.family, table: chains[0]!.table, policy: chains[0]!.policy, hook: chains[0]!.hook }, {
    family: 'ip', table: 'filter', policy: 'drop', hook: { hook: 'forward', priority: 0 },
  });
  assert.equal(chains[0]!.userdata, undefined, 'iptables-nft 1.8.9 leaves no mark on its chains');

  const rules = received(NFT_MSG.NEWRULE).map(decodeRuleMessage).filter((r) => r.chain === 'FORWARD');
  assert.deepEqual(rules.map((r) => shape(r.expressions ?? [])), [
    ['meta', 'cmp', 'match conntrack/3', 'counter', 'immediate'], // -o nsbox+ -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT
    ['match conntrack/3', 'counter', 'immediate'], // -m state --state RELATED,ESTABLISHED -j ACCEPT
    ['meta', 'cmp', 'meta', 'cmp', 'counter', 'immediate'], // -i br0 -p tcp -j ACCEPT: no xtables needed
    ['counter', 'target REJECT/0'], // -j REJECT
  ]);
  const [first, second, third, fourth] = rules.map((r) => r.expressions!);

  // `-o nsbox+`: the interface name's bytes without a NUL, so the comparison is a prefix
  assert.deepEqual(first![1], { type: 'cmp', sreg: 1, op: 'eq', data: Uint8Array.from(Buffer.from('nsbox')) });
  const ctstate = xtConntrackInfo(xtExtension(first![2]!)!);
  assert.deepEqual(ctstate, {
    matchFlags: XT_CONNTRACK.STATE, invertFlags: 0,
    stateMask: CT_STATE_BIT.RELATED | CT_STATE_BIT.ESTABLISHED | XT_CONNTRACK_STATE.DNAT, statusMask: 0,
  });
  const state = xtConntrackInfo(xtExtension(second![0]!)!);
  assert.deepEqual(state, {
    matchFlags: XT_CONNTRACK.STATE | XT_CONNTRACK.STATE_ALIAS, invertFlags: 0, stateMask: CT_STATE_BIT.RELATED | CT_STATE_BIT.ESTABLISHED, statusMask: 0,
  });
  assert.deepEqual(third![1], { type: 'cmp', sreg: 1, op: 'eq', data: Uint8Array.from(Buffer.from('br0\0')) }, '`-i br0`: the name and its NUL');
  const reject = xtExtension(fourth![1]!);
  assert.equal(reject?.kind, 'target');
  assert.equal(reject?.name, 'REJECT');
  assert.equal(xtConntrackInfo(reject!), undefined, 'not a conntrack match');
  assert.equal(xtStateMask(reject!), undefined);
  assert.equal(xtExtension(third![0]!), undefined, 'a native expression is no xtables extension');
});

void test('the state match (revision 0) reads its mask; a conntrack struct too short is a DecodeError', () => {
  const info = new Uint8Array(4);
  new DataView(info.buffer).setUint32(0, CT_STATE_BIT.ESTABLISHED, true);
  assert.equal(xtStateMask({ kind: 'match', name: 'state', rev: 0, info }), CT_STATE_BIT.ESTABLISHED);
  assert.throws(() => xtConntrackInfo({ kind: 'match', name: 'conntrack', rev: 3, info: new Uint8Array(100) }), { code: 'NSBOX_ERR_DECODE' });
  const rev1 = new Uint8Array(152);
  rev1[146] = XT_CONNTRACK.STATE;
  rev1[150] = XT_CONNTRACK_STATE.DNAT;
  assert.deepEqual(xtConntrackInfo({ kind: 'match', name: 'conntrack', rev: 1, info: rev1 }), {
    matchFlags: XT_CONNTRACK.STATE, invertFlags: 0, stateMask: XT_CONNTRACK_STATE.DNAT, statusMask: 0,
  }, 'revision 1: u8 masks');
});

void test('an expression nsbox\'s codec cannot read (a meta key newer than its table) decodes as raw, and the rest of the rule as usual', () => {
  const w = new AttrWriter();
  w.nest(NFTA_RULE.EXPRESSIONS, (list) => {
    list.nest(NFTA_LIST.ELEM, (x) => {
      x.string(NFTA_EXPR.NAME, 'meta');
      x.nest(NFTA_EXPR.DATA, (d) => { d.be32(NFTA_META.KEY, 200); d.be32(NFTA_META.DREG, 1); });
    });
    list.nest(NFTA_LIST.ELEM, (x) => {
      x.string(NFTA_EXPR.NAME, 'cmp');
      x.nest(NFTA_EXPR.DATA, (d) => { d.be32(1, 1); d.be32(2, 0); d.nest(3, (v) => { v.bytes(1, ifname('x')); }); });
    });
  });
  const exprs = readExpressions(w.finish().subarray(4)); // the list nest's value, after its header
  assert.equal(exprs[0]!.type, 'raw');
  assert.equal((exprs[0] as { name: string }).name, 'meta');
  assert.deepEqual(exprs[1], { type: 'cmp', sreg: 1, op: 'eq', data: ifname('x') });
});
