/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The ct expression (NFTA_CT_*): load a conntrack field (`ct state`, `ct status`, `ct mark` …)
 * into a register, host order, or set one (`ct mark set`). DIRECTION (a u8) picks the original
 * or reply tuple for directional keys.
 */
import { be32, named, u8 } from '../../../wire/attr-fields.js';
import { enumCodec } from '../../../wire/enum-codec.js';
import { NFT_CT, NFTA_CT } from '../constants.js';
import { fieldExpr, lowercaseNames } from './codec.js';

export type CtKey = Lowercase<keyof typeof NFT_CT>;
export const CT_KEYS = lowercaseNames(NFT_CT);
export type CtDirection = 'original' | 'reply';
/** IP_CT_DIR_ORIGINAL 0, IP_CT_DIR_REPLY 1 (enum ip_conntrack_dir). */
export const CT_DIRECTIONS = enumCodec<CtDirection>({ original: 0, reply: 1 });

export interface CtExpr {
  type: 'ct';
  /** NFTA_CT_KEY */
  key: CtKey;
  /** NFTA_CT_DREG: load into this register */
  dreg?: number;
  /** NFTA_CT_DIRECTION */
  direction?: CtDirection;
  /** NFTA_CT_SREG: set from this register */
  sreg?: number;
}

export const ct = fieldExpr<CtExpr>('ct', {
  key: [NFTA_CT.KEY, 'NFTA_CT_KEY', named(CT_KEYS, be32, 'ct key')],
  dreg: [NFTA_CT.DREG, 'NFTA_CT_DREG', be32],
  direction: [NFTA_CT.DIRECTION, 'NFTA_CT_DIRECTION', named(CT_DIRECTIONS, u8, 'ct direction')],
  sreg: [NFTA_CT.SREG, 'NFTA_CT_SREG', be32],
}, ['key']);
