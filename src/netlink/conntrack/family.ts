/**
 * Layer: netlink/conntrack — the ctnetlink family's descriptor: numbers and names only.
 *
 * What NetlinkSocket needs to speak ctnetlink: the protocol to open (NETLINK_NETFILTER) and the
 * names of its message types (NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_*), so errors read
 * `IPCTNL_MSG_CT_DELETE: ENOENT`.
 */
import type { NetlinkFamily } from '../family.js';
import { NETLINK_NETFILTER, NFNL_SUBSYS, nfnlType } from '../wire/nfgen.js';
import { IPCTNL_MSG } from './schema/constants.js';

/** The nlmsg_type of ctnetlink operation `msg` (IPCTNL_MSG_*). */
export function ctnlType(msg: number): number {
  return nfnlType(NFNL_SUBSYS.CTNETLINK, msg);
}

const NAMES = new Map<number, string>(Object.entries(IPCTNL_MSG).map(([k, v]) => [ctnlType(v), `IPCTNL_MSG_${k}`]));

/** The kernel's name of a ctnetlink message type ('IPCTNL_MSG_CT_NEW'), or undefined. */
export function ctnlName(type: number): string | undefined {
  return NAMES.get(type);
}

/** ctnetlink (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_CTNETLINK): the connection tracking table. */
export const CTNETLINK: NetlinkFamily = Object.freeze({ name: 'ctnetlink', protocol: NETLINK_NETFILTER, messageName: ctnlName });
