/**
 * Layer: overlay/dataplane — the VXLAN allowlist, nf_tables.
 *
 * The table `inet nsbox_overlay` in the host namespace (nsbox's own, like `inet nsbox` and
 * `inet nsbox_fault`; no other table is ever written or flushed). One rule, never changed at
 * run time, in a filter chain on the input hook:
 *
 *   meta nfproto ipv4 meta l4proto udp  th dport . @th,96,32 @guarded
 *     ip saddr . th dport . @th,96,32 != @allowed4  counter drop
 *
 * `@th,96,32` is the VXLAN header's second word: the VNI (24 bits) and a reserved byte, zero as
 * Linux sends it (RFC 7348: reserved bits are sent as zero), so a VNI v is the word v << 8.
 * `guarded` holds (port . VNI word) of each overlay network of this host, `allowed4`
 * (underlay source . port . VNI word) for each of its peers. VXLAN to a guarded port and VNI
 * from any other source is dropped (and counted); a network's elements are its own (keyed by
 * its VNI), so networks sharing a port never remove each other's peers, and a peer of one
 * network cannot send into another. UDP to the port that is not for a guarded VNI is not this
 * table's business and passes.
 */
import { withGeneration } from '../../firewall/generation.js';
import { Nft, type ChainSpec, type NftOptions, type RuleSpec } from '../../netlink/nftables/ops/index.js';
import { IPPROTO, decodeValues, statements as s, u8, type PayloadExpr, type SetSpec } from '../../netlink/nftables/schema/index.js';

export const OVERLAY_TABLE = { family: 'inet', name: 'nsbox_overlay' } as const;
const t = { family: 'inet', table: 'nsbox_overlay' } as const;

export const OVERLAY_LAYOUT_VERSION = 1;
export const OVERLAY_LAYOUT_COMMENT = `nsbox overlay layout=${OVERLAY_LAYOUT_VERSION}`;

export const OVERLAY_SETS = {
  guarded: { ...t, name: 'guarded', key: ['inet_service', 'integer'], comment: 'port . vni<<8 of each overlay network' },
  allowed4: { ...t, name: 'allowed4', key: ['ipv4_addr', 'inet_service', 'integer'], comment: 'underlay source . port . vni<<8 of each peer' },
} satisfies Record<string, SetSpec>;

export const OVERLAY_CHAIN: ChainSpec = { ...t, name: 'input', base: { type: 'filter', hook: 'input', priority: -150, policy: 'accept' } };

/** `@th,96,32`: the VXLAN header's VNI and reserved byte. */
const vniWord = { len: 4, into: (dreg: number): PayloadExpr => ({ type: 'payload', dreg, base: 'transport', offset: 12, len: 4 }) };

export const OVERLAY_RULE: RuleSpec = {
  ...t,
  chain: OVERLAY_CHAIN.name,
  comment: 'vxlan from unknown sources',
  expressions: [
    ...s.nfproto('ipv4'),
    ...s.match(s.meta('l4proto'), 'eq', u8(IPPROTO.UDP)),
    ...s.inSet([s.field('th dport'), vniWord], 'guarded'),
    ...s.inSet([s.field('ip saddr'), s.field('th dport'), vniWord], 'allowed4', { invert: true }),
    s.counter(),
    s.drop(),
  ],
};

/** The VNI as the 32-bit word the rule loads. */
const word = (vni: number): number => vni * 256;

/** Open nf_tables in the host namespace. */
export function openNft(options: NftOptions): Nft {
  return Nft.open(options);
}

async function tableState(nft: Nft): Promise<'absent' | 'current' | 'other'> {
  const found = (await nft.listTables({ family: 'inet' })).find((x) => x.name === OVERLAY_TABLE.name);
  if (found === undefined) return 'absent';
  return found.comment === OVERLAY_LAYOUT_COMMENT ? 'current' : 'other';
}

/** The underlay sources allowed for (port, vni), and whether (port, vni) is guarded. */
export async function readAllowlist(nft: Nft, port: number, vni: number): Promise<{ guarded: boolean; allowed: Set<string> }> {
  const out = { guarded: false, allowed: new Set<string>() };
  if ((await tableState(nft)) !== 'current') return out;
  for (const e of await nft.listElements(OVERLAY_SETS.guarded)) {
    if (e.key === undefined) continue;
    const [p, w] = decodeValues(OVERLAY_SETS.guarded.key, e.key);
    if (p === port && w === word(vni)) out.guarded = true;
  }
  for (const e of await nft.listElements(OVERLAY_SETS.allowed4)) {
    if (e.key === undefined) continue;
    const [src, p, w] = decodeValues(OVERLAY_SETS.allowed4.key, e.key);
    if (p === port && w === word(vni)) out.allowed.add(String(src));
  }
  return out;
}

/**
 * Make the table if missing (rebuild one of another layout: its elements come back with each
 * network's next reconcile), guard (port, vni), add `add` and remove `remove` sources, in one
 * transaction pinned to the generation it read.
 */
export async function writeAllowlist(nft: Nft, port: number, vni: number, add: readonly string[], remove: readonly string[]): Promise<void> {
  await withGeneration(nft, async (genid) => {
    const state = await tableState(nft);
    const tx = nft.transaction({ genid });
    if (state !== 'current') {
      if (state === 'other') tx.destroyTable(OVERLAY_TABLE);
      tx.addTable({ ...OVERLAY_TABLE, comment: OVERLAY_LAYOUT_COMMENT });
      tx.addChain(OVERLAY_CHAIN);
      for (const spec of Object.values(OVERLAY_SETS)) tx.addSet(spec);
      tx.addRule(OVERLAY_RULE);
    }
    tx.addElements(OVERLAY_SETS.guarded, [{ key: [port, word(vni)] }]);
    if (add.length > 0) tx.addElements(OVERLAY_SETS.allowed4, add.map((a) => ({ key: [a, port, word(vni)] })));
    if (remove.length > 0 && state === 'current') tx.destroyElements(OVERLAY_SETS.allowed4, remove.map((a) => ({ key: [a, port, word(vni)] })));
    await tx.commit();
  });
}

/** Remove (port, vni) and its sources (nothing there is fine); the table stays for other networks. */
export async function removeAllowlist(nft: Nft, port: number, vni: number): Promise<void> {
  await withGeneration(nft, async (genid) => {
    const { guarded, allowed } = await readAllowlist(nft, port, vni);
    if (!guarded && allowed.size === 0) return;
    const tx = nft.transaction({ genid });
    if (allowed.size > 0) tx.destroyElements(OVERLAY_SETS.allowed4, [...allowed].map((a) => ({ key: [a, port, word(vni)] })));
    tx.destroyElements(OVERLAY_SETS.guarded, [{ key: [port, word(vni)] }]);
    await tx.commit();
  });
}

/** Packets the drop rule has dropped so far (0 without the table). */
export async function droppedCount(nft: Nft): Promise<bigint> {
  if ((await tableState(nft)) !== 'current') return 0n;
  const rules = await nft.listRules({ family: OVERLAY_TABLE.family, table: OVERLAY_TABLE.name, chain: OVERLAY_CHAIN.name });
  let n = 0n;
  for (const r of rules) n += r.expressions?.find((e) => e.type === 'counter')?.packets ?? 0n;
  return n;
}
