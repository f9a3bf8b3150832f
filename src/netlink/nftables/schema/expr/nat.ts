/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The nat expression (NFTA_NAT_*): snat or dnat to the address (and port) range held in
 * registers, e.g. the data a map lookup loaded. nft sends no FLAGS: the kernel derives
 * NF_NAT_RANGE_MAP_IPS and PROTO_SPECIFIED from the registers given.
 */
import { be32, named } from '../../../wire/attr-fields.js';
import { enumCodec } from '../../../wire/enum-codec.js';
import { NFT_NAT, NFTA_NAT } from '../constants.js';
import { NFT_FAMILIES, type NftFamily } from '../nfgenmsg.js';
import { fieldExpr } from './codec.js';

export type NatType = 'snat' | 'dnat';
export const NAT_TYPES = enumCodec<NatType>({ snat: NFT_NAT.SNAT, dnat: NFT_NAT.DNAT });

export interface NatExpr {
  type: 'nat';
  /** NFTA_NAT_TYPE */
  nat: NatType;
  /** NFTA_NAT_FAMILY: the address family of the registers ('ip' or 'ip6') */
  family: NftFamily;
  /** NFTA_NAT_REG_ADDR_MIN, _MAX */
  addrMin?: number;
  addrMax?: number;
  /** NFTA_NAT_REG_PROTO_MIN, _MAX */
  protoMin?: number;
  protoMax?: number;
  /** NFTA_NAT_FLAGS: NF_NAT_RANGE_* */
  flags?: number;
}

export const nat = fieldExpr<NatExpr>('nat', {
  nat: [NFTA_NAT.TYPE, 'NFTA_NAT_TYPE', named(NAT_TYPES, be32, 'nat type')],
  family: [NFTA_NAT.FAMILY, 'NFTA_NAT_FAMILY', named(NFT_FAMILIES, be32, 'nat family')],
  addrMin: [NFTA_NAT.REG_ADDR_MIN, 'NFTA_NAT_REG_ADDR_MIN', be32],
  addrMax: [NFTA_NAT.REG_ADDR_MAX, 'NFTA_NAT_REG_ADDR_MAX', be32],
  protoMin: [NFTA_NAT.REG_PROTO_MIN, 'NFTA_NAT_REG_PROTO_MIN', be32],
  protoMax: [NFTA_NAT.REG_PROTO_MAX, 'NFTA_NAT_REG_PROTO_MAX', be32],
  flags: [NFTA_NAT.FLAGS, 'NFTA_NAT_FLAGS', be32],
}, ['nat', 'family']);
