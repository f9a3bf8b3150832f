/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The meta expression (NFTA_META_*): load packet metadata into a register (`meta nfproto`,
 * `oifname`, `l4proto`, `mark` …), or set it from one. Its values are host order, except
 * ifnames (16 NUL-padded bytes) and the one-byte nfproto and l4proto.
 */
import { be32, named } from '../../../wire/attr-fields.js';
import { NFT_META, NFTA_META } from '../constants.js';
import { fieldExpr, lowercaseNames } from './codec.js';

export type MetaKey = Lowercase<keyof typeof NFT_META>;
export const META_KEYS = lowercaseNames(NFT_META);

export interface MetaExpr {
  type: 'meta';
  /** NFTA_META_KEY */
  key: MetaKey;
  /** NFTA_META_DREG: load into this register */
  dreg?: number;
  /** NFTA_META_SREG: set from this register */
  sreg?: number;
}

export const meta = fieldExpr<MetaExpr>('meta', {
  key: [NFTA_META.KEY, 'NFTA_META_KEY', named(META_KEYS, be32, 'meta key')],
  dreg: [NFTA_META.DREG, 'NFTA_META_DREG', be32],
  sreg: [NFTA_META.SREG, 'NFTA_META_SREG', be32],
}, ['key']);
