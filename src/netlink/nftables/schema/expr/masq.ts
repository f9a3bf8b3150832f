/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The masq expression (NFTA_MASQ_*): source NAT to the outgoing interface's address. No
 * attributes at all is plain `masquerade`; FLAGS NF_NAT_RANGE_PROTO_RANDOM_FULLY is `fully-random`.
 */
import { be32 } from '../../../wire/attr-fields.js';
import { NFTA_MASQ } from '../constants.js';
import { fieldExpr } from './codec.js';

export interface MasqExpr {
  type: 'masq';
  /** NFTA_MASQ_FLAGS: NF_NAT_RANGE_* */
  flags?: number;
  /** NFTA_MASQ_REG_PROTO_MIN, _MAX: a port range from registers */
  protoMin?: number;
  protoMax?: number;
}

export const masq = fieldExpr<MasqExpr>('masq', {
  flags: [NFTA_MASQ.FLAGS, 'NFTA_MASQ_FLAGS', be32],
  protoMin: [NFTA_MASQ.REG_PROTO_MIN, 'NFTA_MASQ_REG_PROTO_MIN', be32],
  protoMax: [NFTA_MASQ.REG_PROTO_MAX, 'NFTA_MASQ_REG_PROTO_MAX', be32],
});
