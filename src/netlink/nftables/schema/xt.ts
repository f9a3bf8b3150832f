/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The xtables extensions iptables-nft puts inside nf_tables rules (nft_compat): a `match` or
 * `target` expression naming an xtables module, its revision, and the module's own struct as
 * bytes (NFTA_MATCH_* / NFTA_TARGET_*). nsbox reads them in other firewalls' rules, and writes
 * one: the NFQUEUE target, where the kernel has no native `queue` expression (CONFIG_NFT_QUEUE
 * unset; research/labs-overlay.md §A2.4), byte for byte as iptables-nft 1.8.9 writes
 * `-j NFQUEUE --queue-num N --queue-bypass` (fixture nft-iptables-nfqueue). They decode as `raw`
 * expressions (expr/index.ts); `xtExtension` reads one, and the structs nsbox needs are read
 * here too: the conntrack match (`-m conntrack --ctstate …`, revisions 1 to 3), the state match
 * (`-m state --state …`) and NFQUEUE revision 3. Their words are in host byte order, like every
 * xtables struct; NFTA_*_INFO is padded to 8 bytes (XT_ALIGN).
 */
import { DecodeError } from '../../../errors.js';
import { AttrWriter, attrMap, readBe32, readString } from '../../wire/attr.js';
import { NFTA_MATCH, NFTA_QUEUE, NFTA_TARGET, NFT_QUEUE_FLAG } from './constants.js';
import type { Expr } from './expr/index.js';

/** An xtables match (`-m NAME`) or target (`-j NAME`) inside a rule. */
export interface XtExtension {
  kind: 'match' | 'target';
  /** NFTA_MATCH_NAME / NFTA_TARGET_NAME: the xtables module ('conntrack', 'REJECT' …) */
  name: string;
  /** NFTA_MATCH_REV / NFTA_TARGET_REV: the revision of its struct */
  rev: number;
  /** NFTA_MATCH_INFO / NFTA_TARGET_INFO: the module's struct */
  info: Uint8Array;
}

/** The xtables extension an expression is, or undefined for any other expression. */
export function xtExtension(e: Expr): XtExtension | undefined {
  if (e.type !== 'raw' || (e.name !== 'match' && e.name !== 'target')) return undefined;
  const A = e.name === 'match' ? NFTA_MATCH : NFTA_TARGET;
  const a = attrMap(e.data);
  const name = a.get(A.NAME);
  const rev = a.get(A.REV);
  if (name === undefined || rev === undefined) throw new DecodeError(`${e.name} expression`, 0, 'no name or revision');
  return { kind: e.name, name: readString(name, 'NFTA_MATCH_NAME'), rev: readBe32(rev, 'NFTA_MATCH_REV'), info: Uint8Array.from(a.get(A.INFO) ?? []) };
}

/** What a conntrack match tests: XT_CONNTRACK flags and their inversions, and the state and status masks. */
export interface XtConntrackInfo {
  /** match_flags: XT_CONNTRACK_* */
  matchFlags: number;
  /** invert_flags: XT_CONNTRACK_* negated with `!` */
  invertFlags: number;
  /** state_mask: XT_CONNTRACK_STATE_BIT(ctinfo) and XT_CONNTRACK_STATE_* */
  stateMask: number;
  /** status_mask: IPS_* */
  statusMask: number;
}

/**
 * struct xt_conntrack_mtinfo1/2/3: eight 16-byte addresses and masks, expires_min and _max
 * (u32), l4proto and four ports (u16), then match_flags and invert_flags (u16) at byte 146,
 * and state_mask and status_mask: u8 at 150 and 151 in revision 1, u16 at 150 and 152 after.
 */
export function xtConntrackInfo(x: XtExtension): XtConntrackInfo | undefined {
  if (x.kind !== 'match' || x.name !== 'conntrack' || x.rev < 1 || x.rev > 3) return undefined;
  const need = x.rev === 1 ? 152 : 154;
  if (x.info.length < need) throw new DecodeError(`xt_conntrack_mtinfo${x.rev}`, 0, `${x.info.length} bytes, expected at least ${need}`);
  const dv = new DataView(x.info.buffer, x.info.byteOffset, x.info.byteLength);
  const wide = x.rev > 1;
  return {
    matchFlags: dv.getUint16(146, true),
    invertFlags: dv.getUint16(148, true),
    stateMask: wide ? dv.getUint16(150, true) : dv.getUint8(150),
    statusMask: wide ? dv.getUint16(152, true) : dv.getUint8(151),
  };
}

/** struct xt_state_info (`-m state`, revision 0): one host-order u32, statemask. */
export function xtStateMask(x: XtExtension): number | undefined {
  if (x.kind !== 'match' || x.name !== 'state' || x.rev !== 0) return undefined;
  if (x.info.length < 4) throw new DecodeError('xt_state_info', 0, `${x.info.length} bytes, expected 4`);
  return new DataView(x.info.buffer, x.info.byteOffset, x.info.byteLength).getUint32(0, true);
}

/** XT_ALIGN: xtables structs are padded to 8 bytes. */
const xtAlign = (n: number): number => (n + 7) & ~7;

/** An xtables target (`-j NAME`) as a rule expression (nft_compat), its `info` padded as iptables-nft pads it. */
export function xtTarget(name: string, rev: number, info: Uint8Array): Expr {
  const padded = new Uint8Array(xtAlign(info.length));
  padded.set(info);
  const w = new AttrWriter();
  w.string(NFTA_TARGET.NAME, name);
  w.be32(NFTA_TARGET.REV, rev);
  w.bytes(NFTA_TARGET.INFO, padded);
  return { type: 'raw', name: 'target', data: Uint8Array.from(w.finish()) };
}

/** Where NFQUEUE sends a packet: queue `queue` (or `total` queues from it), and whether packets pass while nothing is bound. */
export interface NfqueueTargetInfo {
  queue: number;
  /** queues_total: spread over this many queues (default 1, as iptables writes it) */
  total?: number;
  /** NFQ_FLAG_BYPASS: accept instead of dropping while no program is bound to the queue */
  bypass?: boolean;
}

function checkQueue(t: NfqueueTargetInfo): number {
  const total = t.total ?? 1;
  if (!Number.isInteger(t.queue) || t.queue < 0 || t.queue > 0xffff) throw new RangeError(`queue must be an integer from 0 to 65535, got ${t.queue}`);
  if (!Number.isInteger(total) || total < 1 || t.queue + total - 1 > 0xffff) throw new RangeError(`queues ${t.queue} + ${total} go past 65535`);
  return total;
}

/** `-j NFQUEUE --queue-num N [--queue-bypass]`: the xtables target, revision 3 (struct xt_NFQ_info_v3 {queuenum, queues_total, flags}). */
export function nfqueueTarget(t: NfqueueTargetInfo): Expr {
  const total = checkQueue(t);
  const info = new Uint8Array(6);
  const dv = new DataView(info.buffer);
  dv.setUint16(0, t.queue, true);
  dv.setUint16(2, total, true);
  dv.setUint16(4, t.bypass === true ? 1 : 0, true);
  return xtTarget('NFQUEUE', 3, info);
}

/** nft's own `queue num N [bypass]` (the nft_queue expression, where the kernel has it), as a raw expression. */
export function nftQueue(t: NfqueueTargetInfo): Expr {
  const total = checkQueue(t);
  const w = new AttrWriter();
  w.be16(NFTA_QUEUE.NUM, t.queue);
  w.be16(NFTA_QUEUE.TOTAL, total);
  w.be16(NFTA_QUEUE.FLAGS, t.bypass === true ? NFT_QUEUE_FLAG.BYPASS : 0);
  return { type: 'raw', name: 'queue', data: Uint8Array.from(w.finish()) };
}

/** What a rule's NFQUEUE target or queue expression sends to, or undefined for any other expression. */
export function queueOf(e: Expr): (NfqueueTargetInfo & { total: number; bypass: boolean }) | undefined {
  if (e.type !== 'raw') return undefined;
  if (e.name === 'queue') {
    const a = attrMap(e.data);
    const be16 = (v: Uint8Array | undefined): number | undefined => (v === undefined || v.length < 2 ? undefined : (v[0]! << 8) | v[1]!);
    const queue = be16(a.get(NFTA_QUEUE.NUM));
    if (queue === undefined) return undefined;
    return { queue, total: be16(a.get(NFTA_QUEUE.TOTAL)) ?? 1, bypass: ((be16(a.get(NFTA_QUEUE.FLAGS)) ?? 0) & NFT_QUEUE_FLAG.BYPASS) !== 0 };
  }
  const x = xtExtension(e);
  if (x === undefined || x.kind !== 'target' || x.name !== 'NFQUEUE' || x.rev !== 3) return undefined;
  if (x.info.length < 6) throw new DecodeError('xt_NFQ_info_v3', 0, `${x.info.length} bytes, expected 6`);
  const dv = new DataView(x.info.buffer, x.info.byteOffset, x.info.byteLength);
  return { queue: dv.getUint16(0, true), total: dv.getUint16(2, true), bypass: (dv.getUint16(4, true) & 1) !== 0 };
}
