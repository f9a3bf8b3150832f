/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * NFT_MSG_{NEW,GET,DEL,DESTROY}SET bodies: nfgenmsg then NFTA_SET_*, in nft's order (TABLE, NAME,
 * FLAGS, KEY_TYPE, KEY_LEN, DATA_TYPE, DATA_LEN, ID, DESC, USERDATA). Key and data types are
 * nft's datatype ids, informational to the kernel; lengths are bytes. An interval set of a
 * concatenation (pipapo) describes each field's length in DESC.CONCAT, in bytes (the header's
 * comment says bits; the kernel and nft use bytes). A set's comment is userdata TLV 7.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, decodeAttrs } from '../../wire/attr.js';
import { FieldTable, be32, be64, str } from '../../wire/attr-fields.js';
import { NFTA_LIST, NFTA_SET, NFTA_SET_DESC, NFTA_SET_FIELD } from './constants.js';
import { NFGENMSG_LEN, readFamily, writeFamily, type NftFamily } from './nfgenmsg.js';
import { UDATA_SET, commentOf, userdataFor } from './userdata.js';

/** NFTA_SET_DESC. */
export interface SetDesc {
  /** NFTA_SET_DESC_SIZE: how many elements to size the set for */
  size?: number;
  /** NFTA_SET_DESC_CONCAT: the length in bytes of each concatenated field */
  concat?: number[];
}

export interface SetMessage {
  family: NftFamily;
  /** NFTA_SET_TABLE */
  table?: string;
  /** NFTA_SET_NAME */
  name?: string;
  /** NFTA_SET_HANDLE */
  handle?: bigint;
  /** NFTA_SET_FLAGS: NFT_SET_* */
  flags?: number;
  /** NFTA_SET_KEY_TYPE: nft's datatype id (concatenations: id << 6 per field) */
  keyType?: number;
  /** NFTA_SET_KEY_LEN, bytes */
  keyLen?: number;
  /** NFTA_SET_DATA_TYPE (maps): a datatype id, or NFT_DATA_VERDICT */
  dataType?: number;
  /** NFTA_SET_DATA_LEN (maps), bytes */
  dataLen?: number;
  /** NFTA_SET_POLICY: NFT_SET_POL_* */
  policy?: number;
  /** NFTA_SET_ID: names the set to later messages of the same transaction */
  id?: number;
  /** NFTA_SET_DESC */
  desc?: SetDesc;
  /** NFTA_SET_TIMEOUT, ms */
  timeout?: bigint;
  /** NFTA_SET_GC_INTERVAL, ms */
  gcInterval?: number;
  /** NFTA_SET_USERDATA as sent or received; wins over `comment` on encode */
  userdata?: Uint8Array;
  /** The comment TLV (type 7) of the userdata */
  comment?: string;
  /** NFTA_SET_TYPE: the backend the kernel chose (replies) */
  backend?: string;
  /** NFTA_SET_COUNT: how many elements it holds (replies, recent kernels) */
  count?: number;
}

const FIELDS = new FieldTable<SetMessage>({
  table: [NFTA_SET.TABLE, 'NFTA_SET_TABLE', str],
  name: [NFTA_SET.NAME, 'NFTA_SET_NAME', str],
  handle: [NFTA_SET.HANDLE, 'NFTA_SET_HANDLE', be64],
  flags: [NFTA_SET.FLAGS, 'NFTA_SET_FLAGS', be32],
  keyType: [NFTA_SET.KEY_TYPE, 'NFTA_SET_KEY_TYPE', be32],
  keyLen: [NFTA_SET.KEY_LEN, 'NFTA_SET_KEY_LEN', be32],
  dataType: [NFTA_SET.DATA_TYPE, 'NFTA_SET_DATA_TYPE', be32],
  dataLen: [NFTA_SET.DATA_LEN, 'NFTA_SET_DATA_LEN', be32],
  policy: [NFTA_SET.POLICY, 'NFTA_SET_POLICY', be32],
  id: [NFTA_SET.ID, 'NFTA_SET_ID', be32],
});
const LATER_FIELDS = new FieldTable<SetMessage>({
  timeout: [NFTA_SET.TIMEOUT, 'NFTA_SET_TIMEOUT', be64],
  gcInterval: [NFTA_SET.GC_INTERVAL, 'NFTA_SET_GC_INTERVAL', be32],
  backend: [NFTA_SET.TYPE, 'NFTA_SET_TYPE', str],
  count: [NFTA_SET.COUNT, 'NFTA_SET_COUNT', be32],
});

export function encodeSetMessage(w: AttrWriter, m: SetMessage): void {
  writeFamily(w, m.family);
  FIELDS.encode(w, m);
  if (m.desc !== undefined) {
    const desc = m.desc;
    w.nest(NFTA_SET.DESC, (d) => {
      if (desc.size !== undefined) d.be32(NFTA_SET_DESC.SIZE, desc.size);
      if (desc.concat !== undefined) {
        const fields = desc.concat;
        d.nest(NFTA_SET_DESC.CONCAT, (c) => {
          for (const len of fields) c.nest(NFTA_LIST.ELEM, (f) => { f.be32(NFTA_SET_FIELD.LEN, len); });
        });
      }
    });
  }
  const userdata = userdataFor(m, UDATA_SET.COMMENT);
  if (userdata !== undefined) w.bytes(NFTA_SET.USERDATA, userdata);
  LATER_FIELDS.encode(w, m);
}

export function decodeSetMessage(payload: Uint8Array): SetMessage {
  const m: SetMessage = { family: readFamily(payload) };
  const a = attrMap(payload, NFGENMSG_LEN);
  FIELDS.decode(a, m);
  LATER_FIELDS.decode(a, m);
  const desc = a.get(NFTA_SET.DESC);
  if (desc !== undefined) {
    const d = attrMap(desc);
    const out: SetDesc = {};
    const size = d.get(NFTA_SET_DESC.SIZE);
    if (size !== undefined) out.size = be32.read(size, 'NFTA_SET_DESC_SIZE')!;
    const concat = d.get(NFTA_SET_DESC.CONCAT);
    if (concat !== undefined) {
      out.concat = decodeAttrs(concat).map((f) => {
        const len = attrMap(f.value).get(NFTA_SET_FIELD.LEN);
        return len === undefined ? 0 : be32.read(len, 'NFTA_SET_FIELD_LEN')!;
      });
    }
    if (out.size !== undefined || out.concat !== undefined) m.desc = out;
  }
  const userdata = a.get(NFTA_SET.USERDATA);
  if (userdata !== undefined) {
    m.userdata = Uint8Array.from(userdata);
    const comment = commentOf(userdata, UDATA_SET.COMMENT);
    if (comment !== undefined) m.comment = comment;
  }
  return m;
}
