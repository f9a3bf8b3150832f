/**
 * Layer: netlink/wire — pure codec, no I/O.
 *
 * What every nfnetlink (NETLINK_NETFILTER) message shares, whatever its subsystem (ctnetlink,
 * nf_tables, …): the message type split into subsystem and operation, and `struct nfgenmsg`,
 * the 4-byte header after the nlmsghdr (<linux/netfilter/nfnetlink.h>): nfgen_family u8
 * (NFPROTO_*), version u8 (NFNETLINK_V0), res_id be16 — the one big-endian field of a header,
 * 0 for objects and the subsystem id in nf_tables batch markers. Family-neutral: each netlink
 * family built on nfnetlink (netlink/conntrack, netlink/nftables) uses this one codec. Numbers
 * are checked against the uapi headers by `scripts/capture-fixtures.sh check-constants`.
 */
import { DecodeError } from '../../errors.js';
import type { AttrWriter } from './attr-writer.js';

/** The netlink protocol nfnetlink speaks (<linux/netlink.h>). */
export const NETLINK_NETFILTER = 12;

/** sizeof(struct nfgenmsg). */
export const NFGENMSG_LEN = 4;

/** nfgenmsg.version: the only version there is. */
export const NFNETLINK_V0 = 0;

/** Subsystem ids (NFNL_SUBSYS_*): the high byte of an nfnetlink message type. */
export const NFNL_SUBSYS = {
  NONE: 0,
  CTNETLINK: 1,
  CTNETLINK_EXP: 2,
  QUEUE: 3,
  ULOG: 4,
  OSF: 5,
  IPSET: 6,
  ACCT: 7,
  CTNETLINK_TIMEOUT: 8,
  CTHELPER: 9,
  NFTABLES: 10,
  NFT_COMPAT: 11,
  HOOK: 12,
} as const;

/** nfnetlink's own messages, outside every subsystem: the frame of an nf_tables transaction. */
export const NFNL_MSG = {
  BATCH_BEGIN: 0x10,
  BATCH_END: 0x11,
} as const;

/** Netfilter protocol families (NFPROTO_*, <linux/netfilter.h>): nfgen_family. */
export const NFPROTO = {
  UNSPEC: 0,
  INET: 1,
  IPV4: 2,
  ARP: 3,
  NETDEV: 5,
  BRIDGE: 7,
  IPV6: 10,
} as const;

/** struct nfgenmsg. */
export interface Nfgenmsg {
  /** nfgen_family: NFPROTO_* (AF_INET and NFPROTO_IPV4 are both 2, AF_INET6 and NFPROTO_IPV6 both 10). */
  family: number;
  /** version: NFNETLINK_V0; ctnetlink reads a non-zero one on a flush as "only nfgen_family". */
  version: number;
  /** res_id, in host order here (big-endian on the wire). */
  resId: number;
}

/** The nlmsg_type of operation `msg` of subsystem `subsys` (NFNL_SUBSYS_ID << 8 | NFNL_MSG_TYPE). */
export function nfnlType(subsys: number, msg: number): number {
  return ((subsys & 0xff) << 8) | (msg & 0xff);
}

/** NFNL_SUBSYS_ID(type): the subsystem of an nfnetlink message type. */
export function nfnlSubsys(type: number): number {
  return (type & 0xff00) >> 8;
}

/** NFNL_MSG_TYPE(type): the operation within its subsystem. */
export function nfnlOp(type: number): number {
  return type & 0x00ff;
}

/** Write a struct nfgenmsg (version and res_id default to 0). */
export function encodeNfgenmsg(w: AttrWriter, h: { family: number; version?: number; resId?: number }): void {
  const at = w.reserve(NFGENMSG_LEN);
  const dv = w.view();
  dv.setUint8(at, h.family);
  dv.setUint8(at + 1, h.version ?? NFNETLINK_V0);
  dv.setUint16(at + 2, h.resId ?? 0, false);
}

/** Read the struct nfgenmsg at the start of an nfnetlink message body; DecodeError when shorter. */
export function decodeNfgenmsg(payload: Uint8Array): Nfgenmsg {
  if (payload.length < NFGENMSG_LEN) throw new DecodeError('nfgenmsg', 0, `needs ${NFGENMSG_LEN} bytes, got ${payload.length}`);
  return { family: payload[0]!, version: payload[1]!, resId: (payload[2]! << 8) | payload[3]! };
}
