/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The byteorder expression (NFTA_BYTEORDER_*): `len` bytes of registers from `sreg` to `dreg`,
 * each `size`-byte word (2, 4 or 8) converted host to network order (hton) or back (ntoh). nft
 * puts an hton after a host-order load (numgen, meta mark …) that is part of a concatenation or
 * range compared in network order.
 */
import { be32, named } from '../../../wire/attr-fields.js';
import { NFT_BYTEORDER, NFTA_BYTEORDER } from '../constants.js';
import { fieldExpr, lowercaseNames } from './codec.js';

export type ByteorderOp = Lowercase<keyof typeof NFT_BYTEORDER>;
export const BYTEORDER_OPS = lowercaseNames(NFT_BYTEORDER);

export interface ByteorderExpr {
  type: 'byteorder';
  /** NFTA_BYTEORDER_SREG */
  sreg: number;
  /** NFTA_BYTEORDER_DREG */
  dreg: number;
  /** NFTA_BYTEORDER_OP */
  op: ByteorderOp;
  /** NFTA_BYTEORDER_LEN: bytes in all */
  len: number;
  /** NFTA_BYTEORDER_SIZE: bytes of each word */
  size: number;
}

export const byteorder = fieldExpr<ByteorderExpr>('byteorder', {
  sreg: [NFTA_BYTEORDER.SREG, 'NFTA_BYTEORDER_SREG', be32],
  dreg: [NFTA_BYTEORDER.DREG, 'NFTA_BYTEORDER_DREG', be32],
  op: [NFTA_BYTEORDER.OP, 'NFTA_BYTEORDER_OP', named(BYTEORDER_OPS, be32, 'byteorder op')],
  len: [NFTA_BYTEORDER.LEN, 'NFTA_BYTEORDER_LEN', be32],
  size: [NFTA_BYTEORDER.SIZE, 'NFTA_BYTEORDER_SIZE', be32],
}, ['sreg', 'dreg', 'op', 'len', 'size']);
