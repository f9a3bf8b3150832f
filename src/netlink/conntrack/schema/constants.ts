/**
 * Layer: netlink/conntrack/schema — ctnetlink schema, pure.
 *
 * ctnetlink constants, keyed by the kernel suffix so `grep` from the uapi headers finds them:
 * `CTA.TUPLE_ORIG` is CTA_TUPLE_ORIG in <linux/netfilter/nfnetlink_conntrack.h>. Every value here
 * is compared with the uapi headers by `scripts/capture-fixtures.sh check-constants` (a C program
 * checks each one); the numbers are ABI, so they never change, only grow. The CTA_FILTER flag bits
 * are not uapi (net/netfilter/nf_internals.h) and live in filter.ts with their source.
 */

/** ctnetlink's message types (enum cntl_msg_types): the low byte under NFNL_SUBSYS_CTNETLINK. */
export const IPCTNL_MSG = {
  CT_NEW: 0,
  CT_GET: 1,
  CT_DELETE: 2,
  CT_GET_CTRZERO: 3,
  CT_GET_STATS_CPU: 4,
  CT_GET_STATS: 5,
  CT_GET_DYING: 6,
  CT_GET_UNCONFIRMED: 7,
} as const;

/** An entry's attributes (enum ctattr_type). Integers are big-endian. */
export const CTA = {
  TUPLE_ORIG: 1,
  TUPLE_REPLY: 2,
  STATUS: 3,
  PROTOINFO: 4,
  HELP: 5,
  NAT_SRC: 6,
  TIMEOUT: 7,
  MARK: 8,
  COUNTERS_ORIG: 9,
  COUNTERS_REPLY: 10,
  USE: 11,
  ID: 12,
  NAT_DST: 13,
  TUPLE_MASTER: 14,
  SEQ_ADJ_ORIG: 15,
  SEQ_ADJ_REPLY: 16,
  SECMARK: 17,
  ZONE: 18,
  SECCTX: 19,
  TIMESTAMP: 20,
  MARK_MASK: 21,
  LABELS: 22,
  LABELS_MASK: 23,
  SYNPROXY: 24,
  FILTER: 25,
  STATUS_MASK: 26,
} as const;

/** A tuple's attributes (enum ctattr_tuple), inside CTA_TUPLE_ORIG / CTA_TUPLE_REPLY. */
export const CTA_TUPLE = {
  IP: 1,
  PROTO: 2,
  ZONE: 3,
} as const;

/** Addresses (enum ctattr_ip), inside CTA_TUPLE_IP: 4 or 16 bytes, network order. */
export const CTA_IP = {
  V4_SRC: 1,
  V4_DST: 2,
  V6_SRC: 3,
  V6_DST: 4,
} as const;

/** Layer 4 (enum ctattr_l4proto), inside CTA_TUPLE_PROTO: NUM u8, ports and ICMP ids be16, ICMP type and code u8. */
export const CTA_PROTO = {
  NUM: 1,
  SRC_PORT: 2,
  DST_PORT: 3,
  ICMP_ID: 4,
  ICMP_TYPE: 5,
  ICMP_CODE: 6,
  ICMPV6_ID: 7,
  ICMPV6_TYPE: 8,
  ICMPV6_CODE: 9,
} as const;

/** Protocol state (enum ctattr_protoinfo), inside CTA_PROTOINFO. */
export const CTA_PROTOINFO = {
  TCP: 1,
  DCCP: 2,
  SCTP: 3,
} as const;

/** TCP state (enum ctattr_protoinfo_tcp), inside CTA_PROTOINFO_TCP. */
export const CTA_PROTOINFO_TCP = {
  STATE: 1,
  WSCALE_ORIGINAL: 2,
  WSCALE_REPLY: 3,
  FLAGS_ORIGINAL: 4,
  FLAGS_REPLY: 5,
} as const;

/** Kernel-side dump and flush filters (enum ctattr_filter), inside CTA_FILTER: flag words, u32 in host order. */
export const CTA_FILTER = {
  ORIG_FLAGS: 1,
  REPLY_FLAGS: 2,
} as const;

/** An entry's status bits (enum ip_conntrack_status, <linux/netfilter/nf_conntrack_common.h>): CTA_STATUS. */
export const IPS = {
  EXPECTED: 0x1,
  SEEN_REPLY: 0x2,
  ASSURED: 0x4,
  CONFIRMED: 0x8,
  SRC_NAT: 0x10,
  DST_NAT: 0x20,
  SEQ_ADJUST: 0x40,
  SRC_NAT_DONE: 0x80,
  DST_NAT_DONE: 0x100,
  DYING: 0x200,
  FIXED_TIMEOUT: 0x400,
  TEMPLATE: 0x800,
  UNTRACKED: 0x1000,
  HELPER: 0x2000,
  OFFLOAD: 0x4000,
  HW_OFFLOAD: 0x8000,
} as const;

/** TCP connection states (enum tcp_conntrack, <linux/netfilter/nf_conntrack_tcp.h>): CTA_PROTOINFO_TCP_STATE. */
export const TCP_CONNTRACK = {
  NONE: 0,
  SYN_SENT: 1,
  SYN_RECV: 2,
  ESTABLISHED: 3,
  FIN_WAIT: 4,
  CLOSE_WAIT: 5,
  LAST_ACK: 6,
  TIME_WAIT: 7,
  CLOSE: 8,
  SYN_SENT2: 9,
} as const;

/** The layer-4 protocols conntrack tracks by name (IPPROTO_*, <linux/in.h>, <linux/in6.h>). */
export const IPPROTO = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  DCCP: 33,
  GRE: 47,
  ICMPV6: 58,
  SCTP: 132,
  UDPLITE: 136,
} as const;
