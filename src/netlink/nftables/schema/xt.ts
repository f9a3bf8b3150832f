/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The xtables extensions iptables-nft puts inside nf_tables rules (nft_compat): a `match` or
 * `target` expression naming an xtables module, its revision, and the module's own struct as
 * bytes (NFTA_MATCH_* / NFTA_TARGET_*). nsbox never writes them; it reads them in other
 * firewalls' rules. They decode as `raw` expressions (expr/index.ts); `xtExtension` reads one,
 * and the two structs nsbox needs are read here too: the conntrack match (`-m conntrack
 * --ctstate …`, revisions 1 to 3) and the state match (`-m state --state …`). Their words are
 * in host byte order, like every xtables struct.
 */
import { DecodeError } from '../../../errors.js';
import { attrMap, readBe32, readString } from '../../wire/attr.js';
import { NFTA_MATCH, NFTA_TARGET } from './constants.js';
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
