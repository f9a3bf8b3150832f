/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * RTM_NEWROUTE / DELROUTE / GETROUTE bodies: struct rtmsg (family, dst_len, src_len, tos, table,
 * protocol, scope, type: u8 each; flags u32) then RTA_* attributes (<linux/rtnetlink.h>).
 * Multipath (RTA_MULTIPATH), metrics (RTA_METRICS) and encapsulation are not decoded.
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap } from '../../wire/attr.js';
import { FieldTable, ip, u32, u8 } from '../../wire/attr-fields.js';
import { RTA, RT_TABLE } from './constants.js';

const RTMSG_LEN = 12;

export interface RouteMessage {
  /** rtm_family */
  family: number;
  /** rtm_dst_len */
  dstLen: number;
  /** rtm_src_len */
  srcLen?: number;
  tos?: number;
  /**
   * Routing table. Encode: rtm_table = table when < 256, else RT_TABLE_UNSPEC, and RTA_TABLE
   * (u32) always carries it. Decode: RTA_TABLE when present, else rtm_table.
   */
  table?: number;
  /** rtm_protocol: RTPROT_* */
  protocol?: number;
  /** rtm_scope: RT_SCOPE_* */
  scope?: number;
  /** rtm_type: RTN_* */
  type?: number;
  /** rtm_flags: RTM_F_* */
  flags?: number;
  dst?: string;
  src?: string;
  gateway?: string;
  /** RTA_OIF: output ifindex */
  oif?: number;
  /** RTA_IIF: input ifindex */
  iif?: number;
  /** RTA_PRIORITY: the metric */
  priority?: number;
  /** RTA_PREFSRC: preferred source address */
  prefsrc?: string;
  /** RTA_PREF: IPv6 router preference (ICMPV6_ROUTER_PREF_*) */
  pref?: number;
  mark?: number;
}

/** RTA_* attributes, in iproute2's order for `ip route add`. */
const FIELDS = new FieldTable<RouteMessage>({
  dst: [RTA.DST, 'RTA_DST', ip],
  src: [RTA.SRC, 'RTA_SRC', ip],
  priority: [RTA.PRIORITY, 'RTA_PRIORITY', u32],
  gateway: [RTA.GATEWAY, 'RTA_GATEWAY', ip],
  prefsrc: [RTA.PREFSRC, 'RTA_PREFSRC', ip],
  table: [RTA.TABLE, 'RTA_TABLE', u32],
  iif: [RTA.IIF, 'RTA_IIF', u32],
  oif: [RTA.OIF, 'RTA_OIF', u32],
  mark: [RTA.MARK, 'RTA_MARK', u32],
  pref: [RTA.PREF, 'RTA_PREF', u8],
});

/** Write an rtmsg and the attributes of `m` into `w` (iproute2's order for `ip route add`). */
export function encodeRouteMessage(w: AttrWriter, m: RouteMessage): void {
  const at = w.reserve(RTMSG_LEN);
  const dv = w.view();
  dv.setUint8(at, m.family);
  dv.setUint8(at + 1, m.dstLen);
  dv.setUint8(at + 2, m.srcLen ?? 0);
  dv.setUint8(at + 3, m.tos ?? 0);
  dv.setUint8(at + 4, m.table === undefined || m.table > 0xff ? RT_TABLE.UNSPEC : m.table);
  dv.setUint8(at + 5, m.protocol ?? 0);
  dv.setUint8(at + 6, m.scope ?? 0);
  dv.setUint8(at + 7, m.type ?? 0);
  dv.setUint32(at + 8, (m.flags ?? 0) >>> 0, true);
  FIELDS.encode(w, m);
}

/** Decode an RTM_*ROUTE payload. The rtmsg fields (and `table`) are always filled in. */
export function decodeRouteMessage(payload: Uint8Array): RouteMessage {
  if (payload.length < RTMSG_LEN) throw new DecodeError('rtmsg', 0, `needs ${RTMSG_LEN} bytes, got ${payload.length}`);
  const dv = new DataView(payload.buffer, payload.byteOffset, RTMSG_LEN);
  const m: RouteMessage = {
    family: dv.getUint8(0),
    dstLen: dv.getUint8(1),
    srcLen: dv.getUint8(2),
    tos: dv.getUint8(3),
    table: dv.getUint8(4),
    protocol: dv.getUint8(5),
    scope: dv.getUint8(6),
    type: dv.getUint8(7),
    flags: dv.getUint32(8, true),
  };
  FIELDS.decode(attrMap(payload, RTMSG_LEN), m);
  return m;
}
