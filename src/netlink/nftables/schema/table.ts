/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * NFT_MSG_{NEW,GET,DEL,DESTROY}TABLE bodies: nfgenmsg (the family) then NFTA_TABLE_*, in nft's
 * order (NAME, FLAGS, USERDATA). A comment travels as a userdata TLV.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap } from '../../wire/attr.js';
import { FieldTable, be32, be64, str } from '../../wire/attr-fields.js';
import { NFTA_TABLE } from './constants.js';
import { NFGENMSG_LEN, readFamily, writeFamily, type NftFamily } from './nfgenmsg.js';
import { commentOf, userdataFor } from './userdata.js';

export interface TableMessage {
  family: NftFamily;
  /** NFTA_TABLE_NAME */
  name?: string;
  /** NFTA_TABLE_FLAGS: NFT_TABLE_F_* (DORMANT, OWNER, PERSIST) */
  flags?: number;
  /** NFTA_TABLE_USERDATA as sent or received; wins over `comment` on encode */
  userdata?: Uint8Array;
  /** The comment TLV of the userdata (`comment "…"` in nft) */
  comment?: string;
  /** NFTA_TABLE_HANDLE (replies; or to name a table by handle) */
  handle?: bigint;
  /** NFTA_TABLE_USE: how many chains and sets it holds (replies) */
  use?: number;
  /** NFTA_TABLE_OWNER: the owner's netlink port id (replies, OWNER tables) */
  owner?: number;
}

const FIELDS = new FieldTable<TableMessage>({
  name: [NFTA_TABLE.NAME, 'NFTA_TABLE_NAME', str],
  handle: [NFTA_TABLE.HANDLE, 'NFTA_TABLE_HANDLE', be64],
  flags: [NFTA_TABLE.FLAGS, 'NFTA_TABLE_FLAGS', be32],
});
const REPLY_FIELDS = new FieldTable<TableMessage>({
  use: [NFTA_TABLE.USE, 'NFTA_TABLE_USE', be32],
  owner: [NFTA_TABLE.OWNER, 'NFTA_TABLE_OWNER', be32],
});

export function encodeTableMessage(w: AttrWriter, m: TableMessage): void {
  writeFamily(w, m.family);
  FIELDS.encode(w, m);
  const userdata = userdataFor(m);
  if (userdata !== undefined) w.bytes(NFTA_TABLE.USERDATA, userdata);
  REPLY_FIELDS.encode(w, m);
}

export function decodeTableMessage(payload: Uint8Array): TableMessage {
  const m: TableMessage = { family: readFamily(payload) };
  const a = attrMap(payload, NFGENMSG_LEN);
  FIELDS.decode(a, m);
  REPLY_FIELDS.decode(a, m);
  const userdata = a.get(NFTA_TABLE.USERDATA);
  if (userdata !== undefined) {
    m.userdata = Uint8Array.from(userdata);
    const comment = commentOf(userdata);
    if (comment !== undefined) m.comment = comment;
  }
  return m;
}
