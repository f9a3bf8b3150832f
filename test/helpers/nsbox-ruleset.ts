/**
 * Test helper: the ruleset of research/nat-nftables.md §3.2 (test/fixtures/nftables/nsbox.nft),
 * which is nsbox's own table (src/firewall/layout.ts, re-exported here), and the lab's elements
 * (nsbox-elements.nft), in nft's order: the table, its 7 chains, 11 sets and maps, 23 rules;
 * then the elements. The unit tests
 * compare these messages with the bytes nft sends for the .nft files, the integration tests
 * compare `nft -j list ruleset` after committing them with the oracle of §4.6. And
 * `publishedInKernel()`: the published-port elements of the live table, as `nft -j` reads them.
 */
import { spawnSync } from 'node:child_process';
import type { NftTransaction } from '../../src/netlink/nftables/ops/index.js';
import { NF_NAT_RANGE, type ElementSpec, type Expr, type SetSpec } from '../../src/netlink/nftables/schema/index.js';
import { SETS } from '../../src/firewall/layout.js';

export { TABLE, SETS, CHAINS, layoutRules, addLayout } from '../../src/firewall/layout.js';

/** The elements of nsbox-elements.nft, set by set. */
export const ELEMENTS: [SetSpec, ElementSpec[]][] = [
  [SETS.bridges, [{ key: 'nsbox0' }, { key: 'nsbox1' }]],
  [SETS.same_net, [{ key: ['nsbox0', 'nsbox0'] }, { key: ['nsbox1', 'nsbox1'] }]],
  [SETS.nat_nets4, [{ key: '10.88.0.0/16' }, { key: '10.89.0.0/16' }]],
  [SETS.nat_nets6, [{ key: 'fd88::/64' }]],
  [SETS.own_net4, [{ key: ['nsbox0', '10.88.0.0/16'] }, { key: ['nsbox1', '10.89.0.0/16'] }]],
  [SETS.own_net6, [{ key: ['nsbox0', 'fd88::/64'] }]],
  [SETS.dnat4_any, [{ key: ['tcp', 8080], data: ['10.88.0.3', 80] }, { key: ['udp', 8053], data: ['10.88.0.3', 80] }]],
  [SETS.dnat4, [{ key: ['tcp', '192.0.2.1', 8081], data: ['10.88.0.3', 80] }]],
  [SETS.dnat6_any, [{ key: ['tcp', 8080], data: ['fd88::3', 80] }]],
];

/** The elements of the lab's two networks and three published ports. */
export function addElements(tx: NftTransaction): NftTransaction {
  for (const [spec, elements] of ELEMENTS) tx.addElements(spec, elements);
  return tx;
}

/**
 * An expression as the kernel reports it back in a dump: what it derived added (counters'
 * values, lookup flags 0, nat's range ends and NF_NAT_RANGE_MAP_IPS|PROTO_SPECIFIED, bitwise's
 * operation), set ids dropped.
 */
export function asDumped(e: Expr): Expr {
  if (e.type === 'counter') return { ...e, bytes: 0n, packets: 0n };
  if (e.type === 'lookup') {
    const { setId: _setId, ...rest } = e;
    return { ...rest, invert: e.invert ?? false };
  }
  if (e.type === 'nat') return { ...e, addrMax: e.addrMin, protoMax: e.protoMin, flags: NF_NAT_RANGE.MAP_IPS | NF_NAT_RANGE.PROTO_SPECIFIED };
  if (e.type === 'bitwise') return { ...e, op: 'mask_xor' };
  return e;
}

/**
 * The comments (`sandbox=NAME port=P/PROTO`) of every element of the live table's four
 * published-port maps, read with `nft -j` (the oracle); none when there is no table.
 */
export function publishedInKernel(): string[] {
  const out: string[] = [];
  for (const map of ['dnat4', 'dnat4_any', 'dnat6', 'dnat6_any']) {
    const res = spawnSync('nft', ['-j', 'list', 'map', 'inet', 'nsbox', map], { encoding: 'utf8' });
    if (res.status !== 0) continue;
    const listed = JSON.parse(res.stdout) as { nftables: { map?: { elem?: [unknown, unknown][] } }[] };
    for (const item of listed.nftables) {
      for (const [key] of item.map?.elem ?? []) {
        const comment = (key as { elem?: { comment?: string } }).elem?.comment;
        out.push(comment ?? JSON.stringify(key));
      }
    }
  }
  return out.sort();
}
