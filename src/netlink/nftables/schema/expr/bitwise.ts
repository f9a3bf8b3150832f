/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The bitwise expression (NFTA_BITWISE_*): dreg = (sreg & mask) ^ xor over `len` bytes (a
 * prefix that is not byte-aligned, `ct state`/`ct status` bit tests), or a shift by DATA.
 */
import { be32, named } from '../../../wire/attr-fields.js';
import { NFT_BITWISE, NFTA_BITWISE } from '../constants.js';
import { dataValue } from '../data.js';
import { fieldExpr, lowercaseNames } from './codec.js';

export type BitwiseOp = Lowercase<keyof typeof NFT_BITWISE>;
export const BITWISE_OPS = lowercaseNames(NFT_BITWISE);

export interface BitwiseExpr {
  type: 'bitwise';
  /** NFTA_BITWISE_SREG */
  sreg: number;
  /** NFTA_BITWISE_DREG */
  dreg: number;
  /** NFTA_BITWISE_LEN, in bytes */
  len: number;
  /** NFTA_BITWISE_MASK (mask_xor) */
  mask?: Uint8Array;
  /** NFTA_BITWISE_XOR (mask_xor) */
  xor?: Uint8Array;
  /** NFTA_BITWISE_OP; absent means mask_xor */
  op?: BitwiseOp;
  /** NFTA_BITWISE_DATA: the shift amount (lshift, rshift) */
  data?: Uint8Array;
}

export const bitwise = fieldExpr<BitwiseExpr>('bitwise', {
  sreg: [NFTA_BITWISE.SREG, 'NFTA_BITWISE_SREG', be32],
  dreg: [NFTA_BITWISE.DREG, 'NFTA_BITWISE_DREG', be32],
  len: [NFTA_BITWISE.LEN, 'NFTA_BITWISE_LEN', be32],
  mask: [NFTA_BITWISE.MASK, 'NFTA_BITWISE_MASK', dataValue],
  xor: [NFTA_BITWISE.XOR, 'NFTA_BITWISE_XOR', dataValue],
  op: [NFTA_BITWISE.OP, 'NFTA_BITWISE_OP', named(BITWISE_OPS, be32, 'bitwise operation')],
  data: [NFTA_BITWISE.DATA, 'NFTA_BITWISE_DATA', dataValue],
}, ['sreg', 'dreg', 'len']);
