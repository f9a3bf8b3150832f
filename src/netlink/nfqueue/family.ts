/**
 * Layer: netlink/nfqueue — the nfnetlink_queue family's descriptor: numbers and names only.
 *
 * What NetlinkSocket needs to speak nfnetlink_queue: the protocol to open (NETLINK_NETFILTER)
 * and the names of its message types (NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_*), so errors read
 * `NFQNL_MSG_CONFIG: EBUSY`.
 */
import type { NetlinkFamily } from '../family.js';
import { NETLINK_NETFILTER, NFNL_SUBSYS, nfnlType } from '../wire/nfgen.js';
import { NFQNL_MSG } from './schema/constants.js';

/** The nlmsg_type of nfnetlink_queue operation `msg` (NFQNL_MSG_*). */
export function nfqType(msg: number): number {
  return nfnlType(NFNL_SUBSYS.QUEUE, msg);
}

const NAMES = new Map<number, string>(Object.entries(NFQNL_MSG).map(([k, v]) => [nfqType(v), `NFQNL_MSG_${k}`]));

/** The kernel's name of an nfnetlink_queue message type ('NFQNL_MSG_VERDICT'), or undefined. */
export function nfqName(type: number): string | undefined {
  return NAMES.get(type);
}

/** nfnetlink_queue (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_QUEUE): packets queued to userspace by NFQUEUE. */
export const NFQUEUE: NetlinkFamily = Object.freeze({ name: 'nfnetlink_queue', protocol: NETLINK_NETFILTER, messageName: nfqName });
