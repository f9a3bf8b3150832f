/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The cmp expression (NFTA_CMP_*): compare a register with constant bytes; a false comparison
 * ends the rule for this packet (NFT_BREAK).
 */
import { be32, named } from '../../../wire/attr-fields.js';
import { NFT_CMP, NFTA_CMP } from '../constants.js';
import { dataValue } from '../data.js';
import { fieldExpr, lowercaseNames } from './codec.js';

export type CmpOp = Lowercase<keyof typeof NFT_CMP>;
export const CMP_OPS = lowercaseNames(NFT_CMP);

export interface CmpExpr {
  type: 'cmp';
  /** NFTA_CMP_SREG */
  sreg: number;
  /** NFTA_CMP_OP */
  op: CmpOp;
  /** NFTA_CMP_DATA: the constant, as many bytes as the register holds for it */
  data: Uint8Array;
}

export const cmp = fieldExpr<CmpExpr>('cmp', {
  sreg: [NFTA_CMP.SREG, 'NFTA_CMP_SREG', be32],
  op: [NFTA_CMP.OP, 'NFTA_CMP_OP', named(CMP_OPS, be32, 'cmp operator')],
  data: [NFTA_CMP.DATA, 'NFTA_CMP_DATA', dataValue],
}, ['sreg', 'op', 'data']);
