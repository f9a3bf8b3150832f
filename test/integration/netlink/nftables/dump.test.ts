/**
 * Integration (root, throwaway host): the Nft handle's dumps read back what a transaction wrote
 * (the research §3.2 table and its elements): tables, chains, rules with their expressions
 * decoded, sets, and the elements of hash, rbtree and pipapo sets; the generation; and the
 * capability probe, whose every verdict is checked against a real transaction, and which leaves
 * nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Nft, type NftCapabilities } from '../../../../src/netlink/nftables/ops/index.js';
import { NFT_SET, NFT_SET_ELEM, decodeValues, nfqueueTarget, nftQueue, statements as s, type SetSpec } from '../../../../src/netlink/nftables/schema/index.js';
import { makeNetns } from '../../../helpers/netns.js';
import { checkLeaksAfterAll } from '../../../helpers/rtnl.js';
import { skipIfMissing } from '../../../helpers/privileges.js';
import { nft, nftMissing } from '../../../helpers/nft.js';
import { CHAINS, SETS, TABLE, addElements, addLayout, asDumped, layoutRules } from '../../../helpers/nsbox-ruleset.js';

checkLeaksAfterAll();

test('dumps read back the tables, chains, rules (expressions decoded), sets and elements a transaction wrote', async () => {
  using ns = makeNetns();
  const handle = Nft.open({ netns: ns.path });
  try {
    await addElements(addLayout(handle.transaction())).commit();
    const tables = await handle.listTables({ family: 'inet' });
    assert.deepEqual(tables.map((t) => [t.name, t.comment, t.use]), [['nsbox', 'nsbox layout=1', 18]]);
    assert.deepEqual(await handle.listTables({ family: 'ip' }), []);

    const chains = await handle.listChains({ family: 'inet', table: 'nsbox' });
    assert.deepEqual(chains.map((c) => [c.name, c.type, c.hook, c.policy]), CHAINS.map((c) => [
      c.name, c.base?.type, c.base && { hook: c.base.hook, priority: c.base.priority }, c.base?.policy,
    ]));

    const rules = await handle.listRules({ family: 'inet', table: 'nsbox' });
    assert.deepEqual(rules.map((r) => [r.chain, r.comment, r.expressions]), layoutRules().map((r) => [r.chain, r.comment, r.expressions.map(asDumped)]));
    const published = await handle.listRules({ family: 'inet', table: 'nsbox', chain: 'published' });
    assert.equal(published.length, 4);
    assert.ok(published.every((r) => typeof r.handle === 'bigint'));

    const sets = await handle.listSets({ family: 'inet', table: 'nsbox' });
    assert.deepEqual(sets.map((x) => x.name), Object.keys(SETS));
    const byName = new Map(sets.map((x) => [x.name, x]));
    assert.equal(byName.get('own_net4')?.flags, NFT_SET.INTERVAL | NFT_SET.CONCAT);
    assert.equal(byName.get('dnat4')?.keyType, 0xc1cd);
    assert.equal(byName.get('dnat4')?.comment, SETS.dnat4.comment);

    const dnat = await handle.listElements(SETS.dnat4_any);
    assert.deepEqual(
      dnat.map((e) => [decodeValues(SETS.dnat4_any.key, e.key!), decodeValues(['ipv4_addr', 'inet_service'], e.data!)]).sort(),
      [[['tcp', 8080], ['10.88.0.3', 80]], [['udp', 8053], ['10.88.0.3', 80]]],
    );
    const own = await handle.listElements(SETS.own_net4);
    assert.deepEqual(own.map((e) => [decodeValues(SETS.own_net4.key, e.key!), decodeValues(SETS.own_net4.key, e.keyEnd!)]).sort(), [
      [['nsbox0', '10.88.0.0'], ['nsbox0', '10.88.255.255']], [['nsbox1', '10.89.0.0'], ['nsbox1', '10.89.255.255']],
    ]);
    const nat = await handle.listElements(SETS.nat_nets4);
    const starts = nat.filter((e) => ((e.flags ?? 0) & NFT_SET_ELEM.INTERVAL_END) === 0).map((e) => decodeValues('ipv4_addr', e.key!)[0]).sort();
    const ends = nat.filter((e) => ((e.flags ?? 0) & NFT_SET_ELEM.INTERVAL_END) !== 0).map((e) => decodeValues('ipv4_addr', e.key!)[0]).sort();
    assert.deepEqual(starts, ['10.88.0.0', '10.89.0.0']);
    assert.deepEqual(ends, ['10.89.0.0', '10.90.0.0']);
    assert.deepEqual(await handle.listElements(SETS.internal), []);
    await assert.rejects(handle.listElements({ ...SETS.internal, name: 'absent' }), { name: 'NetlinkError', code: 'ENOENT' });
  } finally {
    handle.close();
  }
});

test('the generation counts commits: each transaction bumps it once, a failed one not at all', async () => {
  using ns = makeNetns();
  const handle = Nft.open({ netns: ns.fd });
  try {
    const g0 = (await handle.generation()).id;
    await addLayout(handle.transaction()).commit();
    assert.equal((await handle.generation()).id, g0 + 1, 'a 42-message transaction is one commit');
    await assert.rejects(handle.transaction().deleteTable({ family: 'inet', name: 'absent' }).commit());
    assert.equal((await handle.generation()).id, g0 + 1);
  } finally {
    handle.close();
  }
});

/** A transaction that uses `feature`, committed for real. */
const USES: Record<Exclude<keyof NftCapabilities, 'reasons'>, (handle: Nft) => Promise<void>> = {
  destroy: (h) => h.transaction().destroyTable({ family: 'inet', name: 'never-made' }).commit(),
  inetNat: (h) => h.transaction().addTable(TABLE).addChain({ ...TABLE, table: 'nsbox', name: 'post', base: { type: 'nat', hook: 'postrouting', priority: 100 } })
    .addRule({ family: 'inet', table: 'nsbox', chain: 'post', expressions: [s.masquerade()] }).commit(),
  fib: (h) => h.transaction().addTable(TABLE).addChain({ ...TABLE, table: 'nsbox', name: 'pre', base: { type: 'filter', hook: 'prerouting', priority: 0 } })
    .addRule({ family: 'inet', table: 'nsbox', chain: 'pre', expressions: [...s.fibDaddrLocal(), s.accept()] }).commit(),
  pipapo: (h) => {
    const set: SetSpec = { ...SETS.own_net4, name: 'pipapo' };
    return h.transaction().addTable(TABLE).addSet(set).addElements(set, [{ key: ['nsbox0', '10.88.0.0/16'] }]).commit();
  },
  queue: (h) => h.transaction().addTable(TABLE).addChain({ ...TABLE, table: 'nsbox', name: 'pre', base: { type: 'filter', hook: 'prerouting', priority: 0 } })
    .addRule({ family: 'inet', table: 'nsbox', chain: 'pre', expressions: [nftQueue({ queue: 1, bypass: true })] }).commit(),
  xtQueue: (h) => h.transaction().addTable(TABLE).addChain({ ...TABLE, table: 'nsbox', name: 'pre', base: { type: 'filter', hook: 'prerouting', priority: 0 } })
    .addRule({ family: 'inet', table: 'nsbox', chain: 'pre', expressions: [nfqueueTarget({ queue: 1, bypass: true })] }).commit(),
};

test('the capability probe: dry runs that leave nothing behind and commit nothing; each verdict holds for a real transaction', async (t) => {
  if (skipIfMissing(t, 'nft', nftMissing())) return;
  using ns = makeNetns();
  const handle = Nft.open({ netns: ns.fd });
  try {
    const before = (await handle.generation()).id;
    const caps = await handle.probe();
    t.diagnostic(`nf_tables capabilities of kernel ${(await import('node:os')).release()}: ${JSON.stringify(caps)}`);
    assert.equal(nft(ns.name, 'list', 'ruleset'), '', 'nothing left behind');
    assert.equal((await handle.generation()).id, before, 'nothing committed');
    for (const feature of Object.keys(USES) as (keyof typeof USES)[]) {
      await handle.transaction().destroyTable(TABLE).commit().catch(() => undefined);
      nft(ns.name, 'flush', 'ruleset');
      if (caps[feature]) {
        assert.equal(caps.reasons[feature], undefined);
        await USES[feature](handle);
      } else {
        assert.match(caps.reasons[feature] ?? '', /NFT_MSG|NFNL_MSG/, `${feature}: the kernel's refusal is given`);
        await assert.rejects(USES[feature](handle), { name: 'NftError' }, `${feature} reported missing, and a real transaction fails`);
      }
    }
  } finally {
    handle.close();
  }
});
