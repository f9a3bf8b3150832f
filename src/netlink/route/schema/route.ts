/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * RTM_NEWROUTE / DELROUTE / GETROUTE bodies: struct rtmsg (family, dst_len, src_len, tos, table,
 * protocol, scope, type: u8 each; flags u32) then RTA_* attributes (<linux/rtnetlink.h>).
 * Multipath (RTA_MULTIPATH), metrics (RTA_METRICS) and encapsulation are not decoded.
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readIp, readU32, readU8 } from '../../wire/attr.js';
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
  if (m.dst !== undefined) w.ip(RTA.DST, m.dst);
  if (m.src !== undefined) w.ip(RTA.SRC, m.src);
  if (m.priority !== undefined) w.u32(RTA.PRIORITY, m.priority);
  if (m.gateway !== undefined) w.ip(RTA.GATEWAY, m.gateway);
  if (m.prefsrc !== undefined) w.ip(RTA.PREFSRC, m.prefsrc);
  if (m.table !== undefined) w.u32(RTA.TABLE, m.table);
  if (m.iif !== undefined) w.u32(RTA.IIF, m.iif);
  if (m.oif !== undefined) w.u32(RTA.OIF, m.oif);
  if (m.mark !== undefined) w.u32(RTA.MARK, m.mark);
  if (m.pref !== undefined) w.u8(RTA.PREF, m.pref);
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
  const a = attrMap(payload, RTMSG_LEN);
  const ip = (type: number, what: string): string | undefined => {
    const v = a.get(type);
    return v === undefined ? undefined : readIp(v, what);
  };
  const u32 = (type: number, what: string): number | undefined => {
    const v = a.get(type);
    return v === undefined ? undefined : readU32(v, what);
  };
  const table = u32(RTA.TABLE, 'RTA_TABLE');
  if (table !== undefined) m.table = table;
  const dst = ip(RTA.DST, 'RTA_DST');
  if (dst !== undefined) m.dst = dst;
  const src = ip(RTA.SRC, 'RTA_SRC');
  if (src !== undefined) m.src = src;
  const gateway = ip(RTA.GATEWAY, 'RTA_GATEWAY');
  if (gateway !== undefined) m.gateway = gateway;
  const oif = u32(RTA.OIF, 'RTA_OIF');
  if (oif !== undefined) m.oif = oif;
  const iif = u32(RTA.IIF, 'RTA_IIF');
  if (iif !== undefined) m.iif = iif;
  const priority = u32(RTA.PRIORITY, 'RTA_PRIORITY');
  if (priority !== undefined) m.priority = priority;
  const prefsrc = ip(RTA.PREFSRC, 'RTA_PREFSRC');
  if (prefsrc !== undefined) m.prefsrc = prefsrc;
  const pref = a.get(RTA.PREF);
  if (pref !== undefined) m.pref = readU8(pref, 'RTA_PREF');
  const mark = u32(RTA.MARK, 'RTA_MARK');
  if (mark !== undefined) m.mark = mark;
  return m;
}
