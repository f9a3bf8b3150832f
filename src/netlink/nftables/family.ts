/**
 * Layer: netlink/nftables — the nf_tables family's descriptor: numbers and names only.
 *
 * What NetlinkSocket needs to speak nf_tables over nfnetlink: the protocol to open
 * (NETLINK_NETFILTER) and the names of its message types, so errors read
 * `NFT_MSG_NEWSETELEM: EEXIST`. nf_tables types are `NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_*`; a
 * transaction's frame, NFNL_MSG_BATCH_BEGIN and _END, belongs to nfnetlink itself.
 */
import type { NetlinkFamily } from '../family.js';
import { NETLINK_NETFILTER, NFNL_MSG, NFNL_SUBSYS, NFT_MSG } from './schema/constants.js';

/** The nlmsg_type of nf_tables message `msg` (an NFT_MSG value). */
export function nftMessageType(msg: number): number {
  return (NFNL_SUBSYS.NFTABLES << 8) | msg;
}

const NAMES = new Map<number, string>([
  ...Object.entries(NFNL_MSG).map(([k, v]) => [v, `NFNL_MSG_${k}`] as const),
  ...Object.entries(NFT_MSG).map(([k, v]) => [nftMessageType(v), `NFT_MSG_${k}`] as const),
]);

/** The kernel's name of an nf_tables or nfnetlink batch message type ('NFT_MSG_NEWRULE'), or undefined. */
export function nftMessageName(type: number): string | undefined {
  return NAMES.get(type);
}

/** nf_tables over nfnetlink (NETLINK_NETFILTER): tables, chains, rules, sets, elements, generations. */
export const NFTABLES: NetlinkFamily = Object.freeze({ name: 'nfnetlink', protocol: NETLINK_NETFILTER, messageName: nftMessageName });
