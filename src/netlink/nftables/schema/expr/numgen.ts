/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The numgen expression (NFTA_NG_*): a number into a register, host order, in [offset, offset +
 * modulus): `numgen random mod N` (a fresh random number per packet) or `numgen inc mod N` (a
 * counter). nft sends OFFSET even when it is 0.
 */
import { be32, named } from '../../../wire/attr-fields.js';
import { NFT_NG, NFTA_NG } from '../constants.js';
import { fieldExpr, lowercaseNames } from './codec.js';

export type NumgenType = Lowercase<keyof typeof NFT_NG>;
export const NUMGEN_TYPES = lowercaseNames(NFT_NG);

export interface NumgenExpr {
  type: 'numgen';
  /** NFTA_NG_DREG */
  dreg: number;
  /** NFTA_NG_MODULUS: numbers are below it (before the offset) */
  modulus: number;
  /** NFTA_NG_TYPE */
  ng: NumgenType;
  /** NFTA_NG_OFFSET: added to the number */
  offset?: number;
}

export const numgen = fieldExpr<NumgenExpr>('numgen', {
  dreg: [NFTA_NG.DREG, 'NFTA_NG_DREG', be32],
  modulus: [NFTA_NG.MODULUS, 'NFTA_NG_MODULUS', be32],
  ng: [NFTA_NG.TYPE, 'NFTA_NG_TYPE', named(NUMGEN_TYPES, be32, 'numgen type')],
  offset: [NFTA_NG.OFFSET, 'NFTA_NG_OFFSET', be32],
}, ['dreg', 'modulus', 'ng']);
