/**
 * Layer: netlink/socket.
 *
 * What the socket knows of a netlink protocol family: its protocol number, to open the socket,
 * and the names of its message types, to name requests in errors. Each family describes itself
 * (netlink/route/family.ts for rtnetlink); the socket imports none of them.
 */
import { NLMSG, NLMSG_MIN_TYPE } from './wire/header.js';

/** A netlink protocol family, as NetlinkSocket needs it. */
export interface NetlinkFamily {
  /** A short name for messages about the family, e.g. 'rtnetlink'. */
  readonly name: string;
  /** The netlink protocol the socket is opened with (NETLINK_ROUTE 0, NETLINK_NETFILTER 12, …). */
  readonly protocol: number;
  /**
   * The kernel's name of one of the family's own message types (NLMSG_MIN_TYPE and up), e.g.
   * 'RTM_NEWLINK'; undefined for a type the family does not name.
   */
  messageName(type: number): string | undefined;
}

const CONTROL_NAMES = new Map<number, string>(Object.entries(NLMSG).map(([k, v]) => [v, `NLMSG_${k}`]));

/**
 * The name of message `type` in `family`: NLMSG_* for control messages (the same in every
 * family), else the family's own name for it, else e.g. 'rtnetlink type 99'.
 */
export function messageName(family: NetlinkFamily, type: number): string {
  if (type < NLMSG_MIN_TYPE) return CONTROL_NAMES.get(type) ?? `netlink control type ${type}`;
  return family.messageName(type) ?? `${family.name} type ${type}`;
}
