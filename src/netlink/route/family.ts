/**
 * Layer: netlink/route — the rtnetlink family's descriptor: numbers and names only.
 *
 * What NetlinkSocket needs to speak rtnetlink: the protocol to open (NETLINK_ROUTE) and the
 * names of its message types (RTM_*), so errors read `RTM_NEWLINK: EEXIST`.
 */
import { NETLINK_ROUTE } from '../../sys/constants.js';
import type { NetlinkFamily } from '../family.js';
import { RTM } from './schema/constants.js';

const RTM_NAMES = new Map<number, string>(Object.entries(RTM).map(([k, v]) => [v, `RTM_${k}`]));

/** The kernel's name of an rtnetlink message type ('RTM_NEWLINK'), or undefined. */
export function rtmName(type: number): string | undefined {
  return RTM_NAMES.get(type);
}

/** rtnetlink (NETLINK_ROUTE): links, addresses, routes, neighbours, namespace ids. */
export const RTNETLINK: NetlinkFamily = Object.freeze({ name: 'rtnetlink', protocol: NETLINK_ROUTE, messageName: rtmName });
