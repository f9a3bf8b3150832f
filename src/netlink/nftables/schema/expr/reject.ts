/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The reject expression (NFTA_REJECT_*): drop and answer with an ICMP error or a TCP reset.
 * Tables of the inet family use ICMPX codes (NFT_REJECT_ICMPX_*), which the kernel maps to
 * ICMP or ICMPv6.
 */
import { be32, named, u8 } from '../../../wire/attr-fields.js';
import { enumCodec } from '../../../wire/enum-codec.js';
import { NFT_REJECT, NFTA_REJECT } from '../constants.js';
import { fieldExpr } from './codec.js';

export type RejectType = 'icmp' | 'tcp-rst' | 'icmpx';
export const REJECT_TYPES = enumCodec<RejectType>({ icmp: NFT_REJECT.ICMP_UNREACH, 'tcp-rst': NFT_REJECT.TCP_RST, icmpx: NFT_REJECT.ICMPX_UNREACH });

export interface RejectExpr {
  type: 'reject';
  /** NFTA_REJECT_TYPE */
  reject: RejectType;
  /** NFTA_REJECT_ICMP_CODE (u8): an ICMP code, or NFT_REJECT_ICMPX_* for icmpx */
  code?: number;
}

export const reject = fieldExpr<RejectExpr>('reject', {
  reject: [NFTA_REJECT.TYPE, 'NFTA_REJECT_TYPE', named(REJECT_TYPES, be32, 'reject type')],
  code: [NFTA_REJECT.ICMP_CODE, 'NFTA_REJECT_ICMP_CODE', u8],
}, ['reject']);
