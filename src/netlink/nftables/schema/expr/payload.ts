/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The payload expression (NFTA_PAYLOAD_*): load `len` bytes at `offset` from a header (link
 * layer, network, transport) into a register, network order as on the wire; or write a register
 * there (with checksum fix-up).
 */
import { be32, named } from '../../../wire/attr-fields.js';
import { enumCodec } from '../../../wire/enum-codec.js';
import { NFT_PAYLOAD, NFTA_PAYLOAD } from '../constants.js';
import { fieldExpr } from './codec.js';

export type PayloadBase = 'll' | 'network' | 'transport' | 'inner';
export const PAYLOAD_BASES = enumCodec<PayloadBase>({
  ll: NFT_PAYLOAD.LL_HEADER, network: NFT_PAYLOAD.NETWORK_HEADER, transport: NFT_PAYLOAD.TRANSPORT_HEADER, inner: NFT_PAYLOAD.INNER_HEADER,
});

export interface PayloadExpr {
  type: 'payload';
  /** NFTA_PAYLOAD_DREG: load into this register */
  dreg?: number;
  /** NFTA_PAYLOAD_BASE */
  base: PayloadBase;
  /** NFTA_PAYLOAD_OFFSET, in bytes from the base */
  offset: number;
  /** NFTA_PAYLOAD_LEN, in bytes */
  len: number;
  /** NFTA_PAYLOAD_SREG: write this register into the packet */
  sreg?: number;
  /** NFTA_PAYLOAD_CSUM_TYPE, _OFFSET, _FLAGS (writes) */
  csumType?: number;
  csumOffset?: number;
  csumFlags?: number;
}

export const payload = fieldExpr<PayloadExpr>('payload', {
  dreg: [NFTA_PAYLOAD.DREG, 'NFTA_PAYLOAD_DREG', be32],
  base: [NFTA_PAYLOAD.BASE, 'NFTA_PAYLOAD_BASE', named(PAYLOAD_BASES, be32, 'payload base')],
  offset: [NFTA_PAYLOAD.OFFSET, 'NFTA_PAYLOAD_OFFSET', be32],
  len: [NFTA_PAYLOAD.LEN, 'NFTA_PAYLOAD_LEN', be32],
  sreg: [NFTA_PAYLOAD.SREG, 'NFTA_PAYLOAD_SREG', be32],
  csumType: [NFTA_PAYLOAD.CSUM_TYPE, 'NFTA_PAYLOAD_CSUM_TYPE', be32],
  csumOffset: [NFTA_PAYLOAD.CSUM_OFFSET, 'NFTA_PAYLOAD_CSUM_OFFSET', be32],
  csumFlags: [NFTA_PAYLOAD.CSUM_FLAGS, 'NFTA_PAYLOAD_CSUM_FLAGS', be32],
}, ['base', 'offset', 'len']);
