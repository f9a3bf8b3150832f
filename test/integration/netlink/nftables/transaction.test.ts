/**
 * Integration (root, throwaway host): nsbox's nf_tables client against the real kernel, each
 * test in its own namespace, with nft (`nft -j list ruleset`) as the oracle. The whole ruleset
 * of research/nat-nftables.md §3.2 and its elements built in one transaction equals the §4.6
 * oracle; element changes are one-element transactions; a conflicting map key is EEXIST naming
 * the message and the element; DESTROY of what is absent succeeds; a stale generation id is the
 * retryable GenerationChangedError; a failed transaction applies nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenerationChangedError, NftError } from '../../../../src/errors.js';
import { Nft } from '../../../../src/netlink/nftables/ops/index.js';
import { makeNetns, type TestNetns } from '../../../helpers/netns.js';
import { checkLeaksAfterAll } from '../../../helpers/rtnl.js';
import { skipIfMissing } from '../../../helpers/privileges.js';
import { listRuleset, nft, nftFile, nftFixture, nftMissing, researchOracle } from '../../../helpers/nft.js';
import { SETS, TABLE, addElements, addLayout } from '../../../helpers/nsbox-ruleset.js';

checkLeaksAfterAll();

function open(ns: TestNetns): Nft & Disposable {
  const handle = Nft.open({ netns: ns.fd });
  return Object.assign(handle, { [Symbol.dispose]: () => handle.close() });
}

/** The elements of set or map `name` of table inet nsbox, as nft lists them (undefined: none). */
const elementsOf = (ns: TestNetns, name: string): unknown => {
  const items = JSON.parse(nft(ns.name, '-j', 'list', 'table', 'inet', 'nsbox')).nftables as { set?: { name: string; elem?: unknown }; map?: { name: string; elem?: unknown } }[];
  const found = items.map((i) => i.set ?? i.map).find((x) => x?.name === name);
  assert.ok(found, `${name} is listed`);
  return found.elem;
};

test('the §3.2 table and its elements, in ONE transaction, are what nft lists for the research files (§4.6 oracle)', async (t) => {
  if (skipIfMissing(t, 'nft', nftMissing())) return;
  using ns = makeNetns();
  using handle = open(ns);
  const tx = addElements(addLayout(handle.transaction()));
  assert.equal(tx.size, 1 + 7 + 11 + 23 + 9);
  await tx.commit();
  assert.deepEqual(listRuleset(ns.name), researchOracle());
  // and nft itself building the same files in a second namespace agrees
  using other = makeNetns();
  nftFile(other.name, nftFixture('nsbox.nft'));
  nftFile(other.name, nftFixture('nsbox-elements.nft'));
  assert.deepEqual(listRuleset(other.name), listRuleset(ns.name));
  assert.match(nft(ns.name, 'list', 'table', 'inet', 'nsbox'), /comment "nsbox layout=1"/);
});

test('an element is added and removed by a one-element transaction; no rule changes', async (t) => {
  if (skipIfMissing(t, 'nft', nftMissing())) return;
  using ns = makeNetns();
  using handle = open(ns);
  await addLayout(handle.transaction()).commit();
  const rulesBefore = nft(ns.name, '-j', 'list', 'chain', 'inet', 'nsbox', 'published');
  const port = { key: ['tcp', 8082], data: ['10.89.0.2', 80], comment: 'sandbox=other port=8082/tcp' } as const;
  const add = handle.transaction().addElements(SETS.dnat4_any, [port], { exclusive: true });
  assert.equal(add.size, 1);
  await add.commit();
  assert.deepEqual(elementsOf(ns, 'dnat4_any'), [[{ elem: { val: { concat: ['tcp', 8082] }, comment: 'sandbox=other port=8082/tcp' } }, { concat: ['10.89.0.2', 80] }]]);
  await handle.transaction().destroyElements(SETS.dnat4_any, [port]).commit();
  assert.equal(elementsOf(ns, 'dnat4_any'), undefined);
  assert.equal(nft(ns.name, '-j', 'list', 'chain', 'inet', 'nsbox', 'published'), rulesBefore);
});

test('a duplicate map key with other data is EEXIST naming the message, the map and the element; nothing is applied', async (t) => {
  if (skipIfMissing(t, 'nft', nftMissing())) return;
  using ns = makeNetns();
  using handle = open(ns);
  await addLayout(handle.transaction()).commit();
  await handle.transaction().addElements(SETS.dnat4_any, [{ key: ['tcp', 8080], data: ['10.88.0.3', 80] }]).commit();
  // the same element again, without EXCL, is fine (idempotent)
  await handle.transaction().addElements(SETS.dnat4_any, [{ key: ['tcp', 8080], data: ['10.88.0.3', 80] }]).commit();
  const tx = handle.transaction()
    .addElements(SETS.bridges, [{ key: 'nsbox7' }])
    .addElements(SETS.dnat4_any, [{ key: ['udp', 53], data: ['10.88.0.4', 53] }, { key: ['tcp', 8080], data: ['10.88.0.9', 80] }, { key: ['tcp', 9], data: ['10.88.0.4', 9] }]);
  await assert.rejects(tx.commit(), (err: unknown) => {
    assert.ok(err instanceof NftError, String(err));
    assert.equal(err.code, 'EEXIST');
    assert.equal(err.op, 'NFT_MSG_NEWSETELEM');
    assert.equal(err.batchIndex, 2);
    assert.equal(err.object, 'set inet nsbox dnat4_any');
    assert.equal(err.element, 1, `the extack offset ${err.extack?.offset} points inside the second element`);
    assert.equal(err.category, 'conflict');
    assert.match(err.message, /^NFT_MSG_NEWSETELEM \(batch message 2\) set inet nsbox dnat4_any, element 1: EEXIST/);
    return true;
  });
  assert.deepEqual(elementsOf(ns, 'dnat4_any'), [[{ concat: ['tcp', 8080] }, { concat: ['10.88.0.3', 80] }]], 'nothing of the failed transaction');
  assert.equal(elementsOf(ns, 'bridges'), undefined, 'not even the message before the failing one');
});

test('DESTROY of absent things succeeds: table, chain, set, elements, rule', async (t) => {
  if (skipIfMissing(t, 'nft', nftMissing())) return;
  using ns = makeNetns();
  using handle = open(ns);
  await handle.transaction().destroyTable({ family: 'inet', name: 'absent' }).commit();
  await addLayout(handle.transaction()).commit();
  await handle.transaction()
    .destroyElements(SETS.dnat4, [{ key: ['tcp', '192.0.2.1', 1], data: ['10.88.0.3', 1] }])
    .destroyElements(SETS.own_net4, [{ key: ['nsbox9', '10.99.0.0/16'] }])
    .destroyElements(SETS.nat_nets4, [{ key: '10.99.0.0/16' }])
    .destroyRule({ ...TABLE, table: 'nsbox', chain: 'published', handle: 9999n })
    .destroySet({ family: 'inet', table: 'nsbox', name: 'absent' })
    .destroyChain({ family: 'inet', table: 'nsbox', name: 'absent' })
    .commit();
  await handle.transaction().destroyTable(TABLE).commit();
  await handle.transaction().destroyTable(TABLE).commit();
  assert.equal(nft(ns.name, 'list', 'ruleset'), '');
  // the DEL* counterparts fail on what is absent
  await assert.rejects(handle.transaction().deleteTable(TABLE).commit(), { name: 'NftError', code: 'ENOENT', object: 'table inet nsbox' });
});

test('a stale generation id is GenerationChangedError (retryable), nothing applied; the current one commits', async (t) => {
  if (skipIfMissing(t, 'nft', nftMissing())) return;
  using ns = makeNetns();
  using handle = open(ns);
  const before = await handle.generation();
  nft(ns.name, 'add', 'table', 'inet', 'someone_else');
  const after = await handle.generation();
  assert.equal(after.id, before.id + 1);
  assert.equal(after.pid, process.pid, "GETGEN's answer names the asking process, not the last committer");
  const stale = handle.transaction({ genid: before.id }).addTable(TABLE);
  await assert.rejects(stale.commit(), (err: unknown) => {
    assert.ok(err instanceof GenerationChangedError, String(err));
    assert.equal(err.code, 'NSBOX_ERR_NFT_GENERATION');
    assert.equal(err.category, 'transient');
    assert.equal(err.retryable, true);
    assert.equal(err.expected, before.id);
    assert.equal((err.cause as NftError | undefined)?.code, 'ERESTART');
    return true;
  });
  assert.doesNotMatch(nft(ns.name, 'list', 'tables'), /nsbox/);
  await handle.transaction({ genid: after.id }).addTable(TABLE).commit();
  assert.match(nft(ns.name, 'list', 'tables'), /table inet nsbox/);
  assert.equal((await handle.generation()).id, after.id + 1);
});

test('a failed transaction applies nothing, whatever its position; validate() is a dry run', async (t) => {
  if (skipIfMissing(t, 'nft', nftMissing())) return;
  using ns = makeNetns();
  using handle = open(ns);
  const tx = addLayout(handle.transaction()).deleteTable({ family: 'inet', name: 'absent' });
  await assert.rejects(tx.commit(), { name: 'NftError', code: 'ENOENT', batchIndex: tx.size, object: 'table inet absent' });
  assert.equal(nft(ns.name, 'list', 'ruleset'), '');
  await addElements(addLayout(handle.transaction())).validate();
  assert.equal(nft(ns.name, 'list', 'ruleset'), '', 'validated, then aborted by the kernel');
  await assert.rejects(handle.transaction().addRule({ ...TABLE, table: 'nsbox', chain: 'nowhere', expressions: [] }).validate(), { code: 'ENOENT' });
});
