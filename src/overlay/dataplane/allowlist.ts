/**
 * Layer: overlay/dataplane — the VXLAN allowlist, nf_tables.
 *
 * The table `inet nsbox_overlay` in the host namespace (nsbox's own, like `inet nsbox` and
 * `inet nsbox_fault`; no other table is ever written or flushed), with one filter chain on the
 * input hook. Per overlay network of this host, a set of allowed underlay sources and one rule:
 *
 *   set allow_v42 { type ipv4_addr }                      # the peers of the network with VNI 42
 *   meta nfproto ipv4 meta l4proto udp udp dport 4789 @th,96,32 0x2a00
 *     ip saddr != @allow_v42 counter drop comment "vni 42 port 4789"
 *
 * `@th,96,32` is the VXLAN header's second word: the VNI (24 bits) and a reserved byte, zero as
 * Linux sends it (RFC 7348), so VNI v is the word v << 8. VXLAN of a network from any source
 * not in its set is dropped (and counted); a peer of one network cannot send into another on
 * the same port; UDP to the port for a VNI no network of this host has is not this table's
 * business and passes. A network's set and rule are its own (named by its VNI): reconciling one
 * network never touches another's, and a reconcile changes only set elements. The VNI is not a
 * set key field (sets of `ipv4_addr . inet_service . integer` made nft 1.0.6 abort listing the
 * ruleset: an integer has no size nft can print in a concatenation).
 */
import { withGeneration } from '../../firewall/generation.js';
import { Nft, type ChainSpec, type NftOptions, type NftTransaction, type RuleSpec } from '../../netlink/nftables/ops/index.js';
import { IPPROTO, decodeValues, port as portBytes, statements as s, u8, type PayloadExpr, type SetSpec } from '../../netlink/nftables/schema/index.js';

export const OVERLAY_TABLE = { family: 'inet', name: 'nsbox_overlay' } as const;
const t = { family: 'inet', table: 'nsbox_overlay' } as const;

export const OVERLAY_LAYOUT_VERSION = 1;
export const OVERLAY_LAYOUT_COMMENT = `nsbox overlay layout=${OVERLAY_LAYOUT_VERSION}`;

export const OVERLAY_CHAIN: ChainSpec = { ...t, name: 'input', base: { type: 'filter', hook: 'input', priority: -150, policy: 'accept' } };

/** The set of allowed sources of the network with VNI `vni`. */
export function allowSet(vni: number): SetSpec {
  return { ...t, name: `allow_v${vni}`, key: 'ipv4_addr', comment: `underlay sources of VNI ${vni}` };
}

const ruleComment = (vni: number, port: number): string => `vni ${vni} port ${port}`;
const RULE_PREFIX = (vni: number): string => `vni ${vni} port `;

/** `@th,96,32`: the VXLAN header's VNI and reserved byte. */
const vniWord = { len: 4, into: (dreg: number): PayloadExpr => ({ type: 'payload', dreg, base: 'transport', offset: 12, len: 4 }) };

function be32(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

/** The drop rule of the network with VNI `vni` on UDP port `port`. */
export function allowRule(vni: number, port: number): RuleSpec {
  return {
    ...t,
    chain: OVERLAY_CHAIN.name,
    comment: ruleComment(vni, port),
    expressions: [
      ...s.nfproto('ipv4'),
      ...s.match(s.meta('l4proto'), 'eq', u8(IPPROTO.UDP)),
      ...s.match(s.field('th dport'), 'eq', portBytes(port)),
      ...s.match(vniWord, 'eq', be32(vni * 256)),
      ...s.inSet([s.field('ip saddr')], allowSet(vni).name, { invert: true }),
      s.counter(),
      s.drop(),
    ],
  };
}

/** Open nf_tables in the host namespace. */
export function openNft(options: NftOptions): Nft {
  return Nft.open(options);
}

interface TableView {
  table: 'absent' | 'current' | 'other';
  /** this VNI's rules: comment and handle */
  rules: { comment: string; handle: bigint }[];
  /** whether this VNI's set exists */
  set: boolean;
}

async function view(nft: Nft, vni: number): Promise<TableView> {
  const found = (await nft.listTables({ family: 'inet' })).find((x) => x.name === OVERLAY_TABLE.name);
  if (found === undefined) return { table: 'absent', rules: [], set: false };
  if (found.comment !== OVERLAY_LAYOUT_COMMENT) return { table: 'other', rules: [], set: false };
  const rules = (await nft.listRules({ family: 'inet', table: OVERLAY_TABLE.name, chain: OVERLAY_CHAIN.name }))
    .filter((r) => r.comment?.startsWith(RULE_PREFIX(vni)) === true && r.handle !== undefined)
    .map((r) => ({ comment: r.comment!, handle: r.handle! }));
  const sets = await nft.listSets({ family: 'inet', table: OVERLAY_TABLE.name });
  return { table: 'current', rules, set: sets.some((x) => x.name === allowSet(vni).name) };
}

async function elements(nft: Nft, vni: number): Promise<Set<string>> {
  const out = new Set<string>();
  for (const e of await nft.listElements(allowSet(vni))) if (e.key !== undefined) out.add(String(decodeValues('ipv4_addr', e.key)[0]));
  return out;
}

/** The underlay sources allowed for the network, and whether its rule guards (port, vni). */
export async function readAllowlist(nft: Nft, port: number, vni: number): Promise<{ guarded: boolean; allowed: Set<string> }> {
  const v = await view(nft, vni);
  return {
    guarded: v.set && v.rules.length === 1 && v.rules[0]!.comment === ruleComment(vni, port),
    allowed: v.set ? await elements(nft, vni) : new Set(),
  };
}

/** Put the table, the network's set and its one rule in place in `tx` (what `v` lacks). */
function ensureIn(tx: NftTransaction, v: TableView, port: number, vni: number): void {
  if (v.table !== 'current') {
    if (v.table === 'other') tx.destroyTable(OVERLAY_TABLE);
    tx.addTable({ ...OVERLAY_TABLE, comment: OVERLAY_LAYOUT_COMMENT });
    tx.addChain(OVERLAY_CHAIN);
  }
  if (!v.set || v.table !== 'current') tx.addSet(allowSet(vni));
  const right = v.table === 'current' && v.rules.length === 1 && v.rules[0]!.comment === ruleComment(vni, port);
  if (!right) {
    if (v.table === 'current') for (const r of v.rules) tx.deleteRule({ ...t, chain: OVERLAY_CHAIN.name, handle: r.handle });
    tx.addRule(allowRule(vni, port));
  }
}

/**
 * Make what is missing (the table, rebuilt if of another layout; the network's set and rule, the
 * rule made again if its port changed), add `add` and remove `remove` sources, in one
 * transaction pinned to the generation it read.
 */
export async function writeAllowlist(nft: Nft, port: number, vni: number, add: readonly string[], remove: readonly string[]): Promise<void> {
  await withGeneration(nft, async (genid) => {
    const v = await view(nft, vni);
    const tx = nft.transaction({ genid });
    ensureIn(tx, v, port, vni);
    if (add.length > 0) tx.addElements(allowSet(vni), add.map((a) => ({ key: a })));
    if (remove.length > 0 && v.set && v.table === 'current') tx.destroyElements(allowSet(vni), remove.map((a) => ({ key: a })));
    if (tx.size > 0) await tx.commit();
  });
}

/** Remove the network's rule and set (nothing there is fine); the table stays for other networks. */
export async function removeAllowlist(nft: Nft, vni: number): Promise<void> {
  await withGeneration(nft, async (genid) => {
    const v = await view(nft, vni);
    if (v.table !== 'current') return;
    const tx = nft.transaction({ genid });
    for (const r of v.rules) tx.deleteRule({ ...t, chain: OVERLAY_CHAIN.name, handle: r.handle });
    if (v.set) tx.destroySet(allowSet(vni));
    if (tx.size > 0) await tx.commit();
  });
}
