/**
 * Layer: overlay/dataplane — what is there, for `nsbox gc` and `nsbox doctor`.
 *
 * The overlay devices of a namespace as their tags say (names.ts: network, VNI, owner), the
 * routes of nsbox's protocol on a vxlan, and the allowlist table's per-VNI sets and rules.
 * sweepAllowlist removes the set and rule of every VNI no one uses any more (the callers say
 * which are live: those of a vxlan device still there, of any root, and those recorded), and
 * the table itself once no set and no overlay vxlan is left in the namespace. No store here:
 * which device is a leftover is the caller's call.
 */
import { withGeneration } from '../../firewall/generation.js';
import type { Nft } from '../../netlink/nftables/ops/index.js';
import type { Rtnl } from '../../netlink/route/ops/index.js';
import { NSBOX_ROUTE_PROTOCOL } from '../../netlink/route/ops/route.js';
import { OVERLAY_CHAIN, OVERLAY_LAYOUT_COMMENT, OVERLAY_TABLE } from './allowlist.js';
import { parseOverlayTag } from './names.js';

export interface OverlayDeviceSeen {
  index: number;
  name: string;
  kind: 'vxlan' | 'bridge' | string;
  network: string;
  /** The VNI of the tag (a vxlan's own id may differ only if someone changed it). */
  vni: number;
  /** The root scope of the tag, '' when none. */
  owner: string;
  /** A vxlan's VNI as the kernel has it. */
  id?: number;
}

/** Every link tagged as an overlay device (of any root). */
export async function listOverlayDevices(rtnl: Rtnl): Promise<OverlayDeviceSeen[]> {
  const out: OverlayDeviceSeen[] = [];
  for (const l of await rtnl.link.list()) {
    const tag = parseOverlayTag(l.alias);
    if (tag === undefined || l.index === undefined) continue;
    const id = l.info?.kind === 'vxlan' ? l.info.id : undefined;
    out.push({ index: l.index, name: l.name ?? `#${l.index}`, kind: l.info?.kind ?? '?', ...tag, ...(id === undefined ? {} : { id }) });
  }
  return out;
}

/** The routes of nsbox's protocol through link `index` (what goes with it when it is removed). */
export async function overlayRoutesOn(rtnl: Rtnl, index: number): Promise<string[]> {
  return (await rtnl.route.list({ family: 4, protocol: NSBOX_ROUTE_PROTOCOL, oif: index })).map((r) => r.destination);
}

export interface AllowlistSeen {
  /** The table is there, of the current layout. */
  table: boolean;
  /** VNIs with a set or a rule. */
  vnis: Set<number>;
  /** VNI → rule comments (one, `vni N port P`, when sound). */
  rules: Map<number, string[]>;
  /** VNIs with a set. */
  sets: Set<number>;
}

export async function readAllowlistTable(nft: Nft): Promise<AllowlistSeen> {
  const seen: AllowlistSeen = { table: false, vnis: new Set(), rules: new Map(), sets: new Set() };
  const t = (await nft.listTables({ family: 'inet' })).find((x) => x.name === OVERLAY_TABLE.name);
  if (t === undefined || t.comment !== OVERLAY_LAYOUT_COMMENT) return seen;
  seen.table = true;
  for (const s of await nft.listSets({ family: 'inet', table: OVERLAY_TABLE.name })) {
    const m = /^allow_v(\d+)$/.exec(s.name ?? '');
    if (m !== null) seen.sets.add(Number(m[1]));
  }
  for (const r of await nft.listRules({ family: 'inet', table: OVERLAY_TABLE.name, chain: OVERLAY_CHAIN.name })) {
    const m = /^vni (\d+) port /.exec(r.comment ?? '');
    if (m !== null) seen.rules.set(Number(m[1]), [...(seen.rules.get(Number(m[1])) ?? []), r.comment!]);
  }
  for (const v of [...seen.sets, ...seen.rules.keys()]) seen.vnis.add(v);
  return seen;
}

/**
 * Remove the set and rule of each VNI not in `live`, and the table when nothing is left in it
 * and `anyDevice` is false; what was (or, with `dryRun`, would be) removed (`set NAME`,
 * `rule "COMMENT"`, `table`). One transaction
 * pinned to the generation it read.
 */
export async function sweepAllowlist(nft: Nft, live: ReadonlySet<number>, anyDevice: boolean, dryRun: boolean): Promise<string[]> {
  return withGeneration(nft, async (genid) => {
    const t = (await nft.listTables({ family: 'inet' })).find((x) => x.name === OVERLAY_TABLE.name);
    if (t === undefined || t.comment !== OVERLAY_LAYOUT_COMMENT) return [];
    const sets = (await nft.listSets({ family: 'inet', table: OVERLAY_TABLE.name })).map((s) => s.name ?? '');
    const rules = await nft.listRules({ family: 'inet', table: OVERLAY_TABLE.name, chain: OVERLAY_CHAIN.name });
    const vniOfSet = (name: string): number | undefined => { const m = /^allow_v(\d+)$/.exec(name); return m === null ? undefined : Number(m[1]); };
    const vniOfRule = (comment: string | undefined): number | undefined => { const m = /^vni (\d+) port /.exec(comment ?? ''); return m === null ? undefined : Number(m[1]); };
    const goneSets = sets.filter((n) => { const v = vniOfSet(n); return v !== undefined && !live.has(v); });
    const goneRules = rules.filter((r) => { const v = vniOfRule(r.comment); return v !== undefined && !live.has(v) && r.handle !== undefined; });
    const removed = [...goneSets.map((n) => `set ${n}`), ...goneRules.map((r) => `rule "${r.comment!}"`)];
    const setsLeft = sets.filter((n) => !goneSets.includes(n)).length;
    const rulesLeft = rules.length - goneRules.length;
    const dropTable = !anyDevice && setsLeft === 0 && rulesLeft === 0;
    if (dropTable) removed.push('table');
    if (dryRun || removed.length === 0) return removed;
    const tx = nft.transaction({ genid });
    if (dropTable) tx.destroyTable(OVERLAY_TABLE);
    else {
      for (const r of goneRules) tx.deleteRule({ family: 'inet', table: OVERLAY_TABLE.name, chain: OVERLAY_CHAIN.name, handle: r.handle! });
      for (const n of goneSets) tx.destroySet({ family: 'inet', table: OVERLAY_TABLE.name, name: n });
    }
    await tx.commit();
    return removed;
  });
}
