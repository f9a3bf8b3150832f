/**
 * Layer: netlink/conntrack/schema — ctnetlink schema, pure.
 *
 * IPCTNL_MSG_CT_NEW / CT_GET / CT_DELETE bodies (<linux/netfilter/nfnetlink_conntrack.h>):
 * struct nfgenmsg (nfgen_family: the entry's layer 3, NFPROTO_IPV4 or NFPROTO_IPV6, or UNSPEC
 * in a request for both), then CTA_* attributes, every integer big-endian. The same shape is a
 * dump's reply (one entry), a delete request (CTA_TUPLE_ORIG names the entry, CTA_ID makes sure
 * it is the same one, CTA_ZONE its zone) and a filtered dump or flush request (CTA_FILTER says
 * which fields of CTA_TUPLE_ORIG to compare, CTA_MARK/CTA_MARK_MASK and CTA_STATUS/
 * CTA_STATUS_MASK select by mark and status).
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap } from '../../wire/attr.js';
import { FieldTable, be16, be32, u8 } from '../../wire/attr-fields.js';
import { NFGENMSG_LEN, decodeNfgenmsg, encodeNfgenmsg } from '../../wire/nfgen.js';
import { CTA, CTA_PROTOINFO, CTA_PROTOINFO_TCP } from './constants.js';
import { decodeTuple, encodeTuple, type CtTuple } from './tuple.js';
import { decodeFilter, encodeFilter, type CtFilterFlags } from './filter.js';

export interface CtMessage {
  /** nfgen_family: NFPROTO_IPV4, NFPROTO_IPV6, or NFPROTO_UNSPEC (a request about both) */
  family: number;
  /**
   * nfgenmsg version: 0; ctnetlink reads a non-zero one on a flush (CT_DELETE without a
   * tuple) as "only entries of nfgen_family".
   */
  version?: number;
  /** CTA_TUPLE_ORIG: the original direction (or a filter's tuple) */
  orig?: CtTuple;
  /** CTA_TUPLE_REPLY: the reply direction */
  reply?: CtTuple;
  /** CTA_ZONE: the entry's zone, when not 0 */
  zone?: number;
  /** CTA_STATUS: IPS_* bits (in a filter: the values the bits under statusMask must have) */
  status?: number;
  /** CTA_MARK: the connection mark (in a filter: the value under markMask) */
  mark?: number;
  /** CTA_ID: the kernel's id of the entry (a hash, stable for its life) */
  id?: number;
  /** CTA_USE: its reference count */
  use?: number;
  /** CTA_TIMEOUT: seconds until it expires */
  timeout?: number;
  /** CTA_MARK_MASK: filters only */
  markMask?: number;
  /** CTA_STATUS_MASK: filters only */
  statusMask?: number;
  /** CTA_PROTOINFO { CTA_PROTOINFO_TCP { CTA_PROTOINFO_TCP_STATE } }: TCP_CONNTRACK_* */
  tcpState?: number;
  /** CTA_FILTER: which fields of the tuples a dump or flush compares */
  filter?: CtFilterFlags;
}

type PlainFields = Pick<CtMessage, 'zone' | 'status' | 'mark' | 'id' | 'use' | 'timeout' | 'markMask' | 'statusMask'>;

/** The plain attributes, in the kernel's dump order (ctnetlink_fill_info), then the request-only ones. */
const FIELDS = new FieldTable<PlainFields>({
  zone: [CTA.ZONE, 'CTA_ZONE', be16],
  status: [CTA.STATUS, 'CTA_STATUS', be32],
  mark: [CTA.MARK, 'CTA_MARK', be32],
  id: [CTA.ID, 'CTA_ID', be32],
  use: [CTA.USE, 'CTA_USE', be32],
  timeout: [CTA.TIMEOUT, 'CTA_TIMEOUT', be32],
  markMask: [CTA.MARK_MASK, 'CTA_MARK_MASK', be32],
  statusMask: [CTA.STATUS_MASK, 'CTA_STATUS_MASK', be32],
});

/** Write an nfgenmsg and the attributes of `m`: tuples first, then the plain fields, then CTA_FILTER. */
export function encodeCtMessage(w: AttrWriter, m: CtMessage): void {
  encodeNfgenmsg(w, { family: m.family, version: m.version });
  if (m.orig !== undefined) encodeTuple(w, CTA.TUPLE_ORIG, m.orig);
  if (m.reply !== undefined) encodeTuple(w, CTA.TUPLE_REPLY, m.reply);
  FIELDS.encode(w, m);
  if (m.tcpState !== undefined) {
    const state = m.tcpState;
    w.nest(CTA.PROTOINFO, () => w.nest(CTA_PROTOINFO.TCP, () => w.u8(CTA_PROTOINFO_TCP.STATE, state)));
  }
  if (m.filter !== undefined) encodeFilter(w, CTA.FILTER, m.filter);
}

/** Decode a ctnetlink message body (a dump's reply, an event, or a request). */
export function decodeCtMessage(payload: Uint8Array): CtMessage {
  const { family, version } = decodeNfgenmsg(payload);
  const a = attrMap(payload, NFGENMSG_LEN);
  const m: CtMessage = { family };
  if (version !== 0) m.version = version;
  const orig = a.get(CTA.TUPLE_ORIG);
  if (orig !== undefined) m.orig = decodeTuple(orig, 'CTA_TUPLE_ORIG');
  const reply = a.get(CTA.TUPLE_REPLY);
  if (reply !== undefined) m.reply = decodeTuple(reply, 'CTA_TUPLE_REPLY');
  FIELDS.decode(a, m);
  const protoinfo = a.get(CTA.PROTOINFO);
  const tcp = protoinfo === undefined ? undefined : attrMap(protoinfo).get(CTA_PROTOINFO.TCP);
  const state = tcp === undefined ? undefined : attrMap(tcp).get(CTA_PROTOINFO_TCP.STATE);
  if (state !== undefined) m.tcpState = u8.read(state, 'CTA_PROTOINFO_TCP_STATE');
  const filter = a.get(CTA.FILTER);
  if (filter !== undefined) m.filter = decodeFilter(filter);
  return m;
}
