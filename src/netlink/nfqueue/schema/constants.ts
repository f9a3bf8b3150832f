/**
 * Layer: netlink/nfqueue/schema — nfnetlink_queue schema, pure.
 *
 * The numbers of nfnetlink_queue (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_QUEUE), from
 * <linux/netfilter/nfnetlink_queue.h>, the verdicts of <linux/netfilter.h>, and the NFQUEUE
 * xtables target's flags (<linux/netfilter/xt_NFQUEUE.h>). Checked against the uapi headers by
 * `scripts/capture-fixtures.sh check-constants`.
 */

/** Message types within the subsystem (enum nfqnl_msg_types). */
export const NFQNL_MSG = {
  PACKET: 0,
  VERDICT: 1,
  CONFIG: 2,
  VERDICT_BATCH: 3,
} as const;

/** Attributes of PACKET and VERDICT messages (enum nfqnl_attr_type). */
export const NFQA = {
  UNSPEC: 0,
  PACKET_HDR: 1,
  VERDICT_HDR: 2,
  MARK: 3,
  TIMESTAMP: 4,
  IFINDEX_INDEV: 5,
  IFINDEX_OUTDEV: 6,
  IFINDEX_PHYSINDEV: 7,
  IFINDEX_PHYSOUTDEV: 8,
  HWADDR: 9,
  PAYLOAD: 10,
  CT: 11,
  CT_INFO: 12,
  CAP_LEN: 13,
  SKB_INFO: 14,
  EXP: 15,
  UID: 16,
  GID: 17,
  SECCTX: 18,
  VLAN: 19,
  L2HDR: 20,
  PRIORITY: 21,
} as const;

/** Attributes of CONFIG messages (enum nfqnl_attr_config). */
export const NFQA_CFG = {
  UNSPEC: 0,
  CMD: 1,
  PARAMS: 2,
  QUEUE_MAXLEN: 3,
  MASK: 4,
  FLAGS: 5,
} as const;

/** NFQA_CFG_CMD commands (enum nfqnl_msg_config_cmds); PF_BIND/PF_UNBIND are no-ops since Linux 3.8. */
export const NFQNL_CFG_CMD = {
  NONE: 0,
  BIND: 1,
  UNBIND: 2,
  PF_BIND: 3,
  PF_UNBIND: 4,
} as const;

/** What a packet message carries of the packet (enum nfqnl_config_mode). */
export const NFQNL_COPY = {
  NONE: 0,
  META: 1,
  PACKET: 2,
} as const;

/** NFQA_CFG_FLAGS bits (NFQA_CFG_F_*). */
export const NFQA_CFG_F = {
  FAIL_OPEN: 1 << 0,
  CONNTRACK: 1 << 1,
  GSO: 1 << 2,
  UID_GID: 1 << 3,
  SECCTX: 1 << 4,
} as const;

/** NFQA_SKB_INFO bits (NFQA_SKB_*). */
export const NFQA_SKB = {
  CSUMNOTREADY: 1 << 0,
  GSO: 1 << 1,
  CSUM_NOTVERIFIED: 1 << 2,
} as const;

/** Netfilter verdicts (NF_*, <linux/netfilter.h>) a verdict message may carry. */
export const NF = {
  DROP: 0,
  ACCEPT: 1,
  STOLEN: 2,
  QUEUE: 3,
  REPEAT: 4,
  STOP: 5,
} as const;

/** struct xt_NFQ_info_v3 flags (NFQ_FLAG_*). */
export const NFQ_FLAG = {
  BYPASS: 0x01,
  CPU_FANOUT: 0x02,
  MASK: 0x03,
} as const;

/** sizeof(struct nfqnl_msg_packet_hdr): packet_id be32, hw_protocol be16, hook u8, packed. */
export const NFQNL_PACKET_HDR_LEN = 7;
/** sizeof(struct nfqnl_msg_config_params): copy_range be32, copy_mode u8, packed. */
export const NFQNL_CONFIG_PARAMS_LEN = 5;
/** sizeof(struct xt_NFQ_info_v3): queuenum, queues_total, flags (u16 each, host order). */
export const XT_NFQ_INFO_V3_LEN = 6;
