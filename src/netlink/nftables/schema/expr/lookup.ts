/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The lookup expression (NFTA_LOOKUP_*): is the register's key in the set (`@bridges`), or not
 * (`!= @bridges`, NFT_LOOKUP_F_INV)? On a map, the key's data goes to `dreg`. A set made in the
 * same transaction may also be named by its NFTA_SET_ID.
 */
import type { ValueCodec } from '../../../wire/attr-fields.js';
import { be32, str } from '../../../wire/attr-fields.js';
import { NFT_LOOKUP_F, NFTA_LOOKUP } from '../constants.js';
import { fieldExpr } from './codec.js';

export interface LookupExpr {
  type: 'lookup';
  /** NFTA_LOOKUP_SREG: the first register of the key */
  sreg: number;
  /** NFTA_LOOKUP_DREG: where a map puts the data */
  dreg?: number;
  /** NFTA_LOOKUP_SET: the set's name */
  set: string;
  /** NFTA_LOOKUP_SET_ID: the set's id in the same transaction */
  setId?: number;
  /** NFTA_LOOKUP_FLAGS & NFT_LOOKUP_F_INV: match when the key is absent */
  invert?: boolean;
}

/** NFTA_LOOKUP_FLAGS as a boolean: written only when true, as nft does. */
const invertFlag: ValueCodec<boolean> = {
  read: (v, what) => (be32.read(v, what)! & NFT_LOOKUP_F.INV) !== 0,
  write: (w, t, v) => { if (v) be32.write(w, t, NFT_LOOKUP_F.INV); },
};

export const lookup = fieldExpr<LookupExpr>('lookup', {
  sreg: [NFTA_LOOKUP.SREG, 'NFTA_LOOKUP_SREG', be32],
  dreg: [NFTA_LOOKUP.DREG, 'NFTA_LOOKUP_DREG', be32],
  set: [NFTA_LOOKUP.SET, 'NFTA_LOOKUP_SET', str],
  setId: [NFTA_LOOKUP.SET_ID, 'NFTA_LOOKUP_SET_ID', be32],
  invert: [NFTA_LOOKUP.FLAGS, 'NFTA_LOOKUP_FLAGS', invertFlag],
}, ['sreg', 'set']);
