/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * nfnetlink and nf_tables constants, keyed by the kernel suffix so `grep` from the uapi headers
 * finds them: `NFTA_RULE.TABLE` is NFTA_RULE_TABLE in <linux/netfilter/nf_tables.h>. Every
 * literal here is compared with the uapi headers by `scripts/capture-fixtures.sh check-constants`
 * (values newer than the build machine's headers are listed there as not checkable and were read
 * from torvalds/linux include/uapi by hand); the numbers are ABI, so they never change, only grow.
 * Only what nsbox speaks is here, not every enum of the header.
 */

// What every nfnetlink subsystem shares (the protocol, nfgenmsg, subsystems, the batch frame's
// message types, netfilter families) is in netlink/wire/nfgen.ts.
export { NETLINK_NETFILTER, NFNETLINK_V0, NFNL_SUBSYS, NFNL_MSG, NFPROTO } from '../../wire/nfgen.js';

/** BATCH_BEGIN attributes (enum nfnl_batch_attributes). */
export const NFNL_BATCH = {
  GENID: 1,
} as const;

/** nfnetlink multicast groups (enum nfnetlink_groups). */
export const NFNLGRP = {
  NFTABLES: 7,
} as const;

/** nf_tables message types (enum nf_tables_msg_types), the low byte under NFNL_SUBSYS.NFTABLES. */
export const NFT_MSG = {
  NEWTABLE: 0,
  GETTABLE: 1,
  DELTABLE: 2,
  NEWCHAIN: 3,
  GETCHAIN: 4,
  DELCHAIN: 5,
  NEWRULE: 6,
  GETRULE: 7,
  DELRULE: 8,
  NEWSET: 9,
  GETSET: 10,
  DELSET: 11,
  NEWSETELEM: 12,
  GETSETELEM: 13,
  DELSETELEM: 14,
  NEWGEN: 15,
  GETGEN: 16,
  TRACE: 17,
  NEWOBJ: 18,
  GETOBJ: 19,
  DELOBJ: 20,
  GETOBJ_RESET: 21,
  NEWFLOWTABLE: 22,
  GETFLOWTABLE: 23,
  DELFLOWTABLE: 24,
  GETRULE_RESET: 25,
  DESTROYTABLE: 26,
  DESTROYCHAIN: 27,
  DESTROYRULE: 28,
  DESTROYSET: 29,
  DESTROYSETELEM: 30,
  DESTROYOBJ: 31,
  DESTROYFLOWTABLE: 32,
  GETSETELEM_RESET: 33,
} as const;


/** Netfilter hooks of the ip, ip6 and inet families (enum nf_inet_hooks, <linux/netfilter.h>). */
export const NF_INET = {
  PRE_ROUTING: 0,
  LOCAL_IN: 1,
  FORWARD: 2,
  LOCAL_OUT: 3,
  POST_ROUTING: 4,
  INGRESS: 5,
} as const;

/** Netfilter verdicts (<linux/netfilter.h>): a base chain's policy, a verdict's code. */
export const NF = {
  DROP: 0,
  ACCEPT: 1,
} as const;

/** nf_tables' own verdicts (enum nft_verdicts), negative: on the wire as be32 two's complement. */
export const NFT = {
  CONTINUE: -1,
  BREAK: -2,
  JUMP: -3,
  GOTO: -4,
  RETURN: -5,
} as const;

/** Registers (enum nft_registers): four 16-byte ones over sixteen 4-byte ones. */
export const NFT_REG = {
  VERDICT: 0,
  1: 1,
  2: 2,
  3: 3,
  4: 4,
} as const;
/** NFT_REG32_00: the first 4-byte register; NFT_REG32_nn is this + nn. */
export const NFT_REG32_00 = 8;
/** NFT_REG_SIZE and NFT_REG32_SIZE: bytes of one register of each kind. */
export const NFT_REG_SIZE = 16;
export const NFT_REG32_SIZE = 4;
/** NFT_DATA_VALUE_MAXLEN: the longest value (a key, a register load) in bytes. */
export const NFT_DATA_VALUE_MAXLEN = 64;
/** NFT_USERDATA_MAXLEN: the longest userdata of a table, chain, rule or set element. */
export const NFT_USERDATA_MAXLEN = 256;

/** Generic list (enum nft_list_attributes): NFTA_LIST_ELEM, each item of a nested list. */
export const NFTA_LIST = {
  ELEM: 1,
} as const;

/** Chain hook (enum nft_hook_attributes). */
export const NFTA_HOOK = {
  HOOKNUM: 1,
  PRIORITY: 2,
  DEV: 3,
  DEVS: 4,
} as const;

/** Table flags (enum nft_table_flags). */
export const NFT_TABLE_F = {
  DORMANT: 0x1,
  OWNER: 0x2,
  PERSIST: 0x4,
} as const;

/** Table attributes (enum nft_table_attributes). */
export const NFTA_TABLE = {
  NAME: 1,
  FLAGS: 2,
  USE: 3,
  HANDLE: 4,
  PAD: 5,
  USERDATA: 6,
  OWNER: 7,
} as const;

/** Chain flags (enum nft_chain_flags). */
export const NFT_CHAIN = {
  BASE: 0x1,
  HW_OFFLOAD: 0x2,
  BINDING: 0x4,
} as const;

/** Chain attributes (enum nft_chain_attributes). */
export const NFTA_CHAIN = {
  TABLE: 1,
  HANDLE: 2,
  NAME: 3,
  HOOK: 4,
  POLICY: 5,
  USE: 6,
  TYPE: 7,
  COUNTERS: 8,
  PAD: 9,
  FLAGS: 10,
  ID: 11,
  USERDATA: 12,
} as const;

/** Rule attributes (enum nft_rule_attributes). */
export const NFTA_RULE = {
  TABLE: 1,
  CHAIN: 2,
  HANDLE: 3,
  EXPRESSIONS: 4,
  COMPAT: 5,
  POSITION: 6,
  USERDATA: 7,
  PAD: 8,
  ID: 9,
  POSITION_ID: 10,
  CHAIN_ID: 11,
} as const;

/** Set flags (enum nft_set_flags). */
export const NFT_SET = {
  ANONYMOUS: 0x1,
  CONSTANT: 0x2,
  INTERVAL: 0x4,
  MAP: 0x8,
  TIMEOUT: 0x10,
  EVAL: 0x20,
  OBJECT: 0x40,
  CONCAT: 0x80,
  EXPR: 0x100,
} as const;

/** Set selection policies (enum nft_set_policies). */
export const NFT_SET_POL = {
  PERFORMANCE: 0,
  MEMORY: 1,
} as const;

/** Set description (enum nft_set_desc_attributes). */
export const NFTA_SET_DESC = {
  SIZE: 1,
  CONCAT: 2,
} as const;

/** A concatenated field (enum nft_set_field_attributes); the header says bits, the kernel reads bytes. */
export const NFTA_SET_FIELD = {
  LEN: 1,
} as const;

/** Set attributes (enum nft_set_attributes). */
export const NFTA_SET = {
  TABLE: 1,
  NAME: 2,
  FLAGS: 3,
  KEY_TYPE: 4,
  KEY_LEN: 5,
  DATA_TYPE: 6,
  DATA_LEN: 7,
  POLICY: 8,
  DESC: 9,
  ID: 10,
  TIMEOUT: 11,
  GC_INTERVAL: 12,
  USERDATA: 13,
  PAD: 14,
  OBJ_TYPE: 15,
  HANDLE: 16,
  EXPR: 17,
  EXPRESSIONS: 18,
  TYPE: 19,
  COUNT: 20,
} as const;

/** Set element flags (enum nft_set_elem_flags). */
export const NFT_SET_ELEM = {
  INTERVAL_END: 0x1,
  CATCHALL: 0x2,
} as const;

/** Set element attributes (enum nft_set_elem_attributes). */
export const NFTA_SET_ELEM = {
  KEY: 1,
  DATA: 2,
  FLAGS: 3,
  TIMEOUT: 4,
  EXPIRATION: 5,
  USERDATA: 6,
  EXPR: 7,
  PAD: 8,
  OBJREF: 9,
  KEY_END: 10,
  EXPRESSIONS: 11,
} as const;

/** Set element list attributes (enum nft_set_elem_list_attributes). */
export const NFTA_SET_ELEM_LIST = {
  TABLE: 1,
  SET: 2,
  ELEMENTS: 3,
  SET_ID: 4,
} as const;

/** Data types (enum nft_data_types): a set's DATA_TYPE for a verdict map. */
export const NFT_DATA = {
  VALUE: 0,
  VERDICT: 0xffffff00,
} as const;

/** Data attributes (enum nft_data_attributes). */
export const NFTA_DATA = {
  VALUE: 1,
  VERDICT: 2,
} as const;

/** Verdict attributes (enum nft_verdict_attributes). */
export const NFTA_VERDICT = {
  CODE: 1,
  CHAIN: 2,
  CHAIN_ID: 3,
} as const;

/** Expression attributes (enum nft_expr_attributes). */
export const NFTA_EXPR = {
  NAME: 1,
  DATA: 2,
} as const;

/** Ruleset generation (enum nft_gen_attributes). */
export const NFTA_GEN = {
  ID: 1,
  PROC_PID: 2,
  PROC_NAME: 3,
} as const;

/** immediate expression (enum nft_immediate_attributes). */
export const NFTA_IMMEDIATE = {
  DREG: 1,
  DATA: 2,
} as const;

/** bitwise operations (enum nft_bitwise_ops). */
export const NFT_BITWISE = {
  MASK_XOR: 0,
  LSHIFT: 1,
  RSHIFT: 2,
} as const;

/** bitwise expression (enum nft_bitwise_attributes). */
export const NFTA_BITWISE = {
  SREG: 1,
  DREG: 2,
  LEN: 3,
  MASK: 4,
  XOR: 5,
  OP: 6,
  DATA: 7,
} as const;

/** cmp operators (enum nft_cmp_ops). */
export const NFT_CMP = {
  EQ: 0,
  NEQ: 1,
  LT: 2,
  LTE: 3,
  GT: 4,
  GTE: 5,
} as const;

/** cmp expression (enum nft_cmp_attributes). */
export const NFTA_CMP = {
  SREG: 1,
  OP: 2,
  DATA: 3,
} as const;

/** lookup flags (enum nft_lookup_flags). */
export const NFT_LOOKUP_F = {
  INV: 0x1,
} as const;

/** lookup expression (enum nft_lookup_attributes). */
export const NFTA_LOOKUP = {
  SET: 1,
  SREG: 2,
  DREG: 3,
  SET_ID: 4,
  FLAGS: 5,
} as const;

/** payload bases (enum nft_payload_bases). */
export const NFT_PAYLOAD = {
  LL_HEADER: 0,
  NETWORK_HEADER: 1,
  TRANSPORT_HEADER: 2,
  INNER_HEADER: 3,
} as const;

/** payload expression (enum nft_payload_attributes). */
export const NFTA_PAYLOAD = {
  DREG: 1,
  BASE: 2,
  OFFSET: 3,
  LEN: 4,
  SREG: 5,
  CSUM_TYPE: 6,
  CSUM_OFFSET: 7,
  CSUM_FLAGS: 8,
} as const;

/** meta keys (enum nft_meta_keys). */
export const NFT_META = {
  LEN: 0,
  PROTOCOL: 1,
  PRIORITY: 2,
  MARK: 3,
  IIF: 4,
  OIF: 5,
  IIFNAME: 6,
  OIFNAME: 7,
  IFTYPE: 8,
  OIFTYPE: 9,
  SKUID: 10,
  SKGID: 11,
  NFTRACE: 12,
  RTCLASSID: 13,
  SECMARK: 14,
  NFPROTO: 15,
  L4PROTO: 16,
  BRI_IIFNAME: 17,
  BRI_OIFNAME: 18,
  PKTTYPE: 19,
  CPU: 20,
  IIFGROUP: 21,
  OIFGROUP: 22,
  CGROUP: 23,
  PRANDOM: 24,
} as const;

/** meta expression (enum nft_meta_attributes). */
export const NFTA_META = {
  DREG: 1,
  KEY: 2,
  SREG: 3,
} as const;

/** ct keys (enum nft_ct_keys). */
export const NFT_CT = {
  STATE: 0,
  DIRECTION: 1,
  STATUS: 2,
  MARK: 3,
  SECMARK: 4,
  EXPIRATION: 5,
  HELPER: 6,
  L3PROTOCOL: 7,
  SRC: 8,
  DST: 9,
  PROTOCOL: 10,
  PROTO_SRC: 11,
  PROTO_DST: 12,
  LABELS: 13,
  PKTS: 14,
  BYTES: 15,
  AVGPKT: 16,
  ZONE: 17,
  EVENTMASK: 18,
  SRC_IP: 19,
  DST_IP: 20,
  SRC_IP6: 21,
  DST_IP6: 22,
  ID: 23,
} as const;

/** ct expression (enum nft_ct_attributes). */
export const NFTA_CT = {
  DREG: 1,
  KEY: 2,
  DIRECTION: 3,
  SREG: 4,
} as const;

/** Conntrack entry states (enum ip_conntrack_info, <linux/netfilter/nf_conntrack_common.h>). */
export const IP_CT = {
  ESTABLISHED: 0,
  RELATED: 1,
  NEW: 2,
} as const;

/** NF_CT_STATE_*_BIT: the bits `ct state` loads that are not 1 << (IP_CT_x + 1). */
export const NF_CT_STATE_INVALID_BIT = 1;
export const NF_CT_STATE_UNTRACKED_BIT = 64;

/** `ct state` bits as the ct expression loads them (host-order u32): NF_CT_STATE_BIT(ctinfo) = 1 << (ctinfo + 1). */
export const CT_STATE_BIT = {
  INVALID: NF_CT_STATE_INVALID_BIT,
  ESTABLISHED: 1 << (IP_CT.ESTABLISHED + 1),
  RELATED: 1 << (IP_CT.RELATED + 1),
  NEW: 1 << (IP_CT.NEW + 1),
  UNTRACKED: NF_CT_STATE_UNTRACKED_BIT,
} as const;

/** Conntrack status bits (enum ip_conntrack_status), as `ct status` loads them (host-order u32). */
export const IPS = {
  EXPECTED: 0x1,
  SEEN_REPLY: 0x2,
  ASSURED: 0x4,
  CONFIRMED: 0x8,
  SRC_NAT: 0x10,
  DST_NAT: 0x20,
} as const;

/** nat types (enum nft_nat_types). */
export const NFT_NAT = {
  SNAT: 0,
  DNAT: 1,
} as const;

/** nat expression (enum nft_nat_attributes). */
export const NFTA_NAT = {
  TYPE: 1,
  FAMILY: 2,
  REG_ADDR_MIN: 3,
  REG_ADDR_MAX: 4,
  REG_PROTO_MIN: 5,
  REG_PROTO_MAX: 6,
  FLAGS: 7,
} as const;

/** NAT range flags (NF_NAT_RANGE_*, <linux/netfilter/nf_nat.h>): nat's and masq's FLAGS. */
export const NF_NAT_RANGE = {
  MAP_IPS: 0x1,
  PROTO_SPECIFIED: 0x2,
  PROTO_RANDOM: 0x4,
  PERSISTENT: 0x8,
  PROTO_RANDOM_FULLY: 0x10,
  PROTO_OFFSET: 0x20,
  NETMAP: 0x40,
} as const;

/** masq expression (enum nft_masq_attributes). */
export const NFTA_MASQ = {
  FLAGS: 1,
  REG_PROTO_MIN: 2,
  REG_PROTO_MAX: 3,
} as const;

/** fib expression (enum nft_fib_attributes). */
export const NFTA_FIB = {
  DREG: 1,
  RESULT: 2,
  FLAGS: 3,
} as const;

/** fib results (enum nft_fib_result). */
export const NFT_FIB_RESULT = {
  UNSPEC: 0,
  OIF: 1,
  OIFNAME: 2,
  ADDRTYPE: 3,
} as const;

/** fib flags (enum nft_fib_flags): which packet fields the lookup uses. */
export const NFTA_FIB_F = {
  SADDR: 0x1,
  DADDR: 0x2,
  MARK: 0x4,
  IIF: 0x8,
  OIF: 0x10,
  PRESENT: 0x20,
} as const;

/** Route types (enum rtn types, <linux/rtnetlink.h>): what `fib … type` loads (host-order u32). */
export const RTN = {
  UNSPEC: 0,
  UNICAST: 1,
  LOCAL: 2,
  BROADCAST: 3,
  ANYCAST: 4,
  MULTICAST: 5,
  BLACKHOLE: 6,
  UNREACHABLE: 7,
  PROHIBIT: 8,
} as const;

/** counter expression (enum nft_counter_attributes). */
export const NFTA_COUNTER = {
  BYTES: 1,
  PACKETS: 2,
} as const;

/** numgen expression (enum nft_ng_attributes; SET_NAME and SET_ID are deprecated and not used). */
export const NFTA_NG = {
  DREG: 1,
  MODULUS: 2,
  TYPE: 3,
  OFFSET: 4,
} as const;

/** numgen types (enum nft_ng_types). */
export const NFT_NG = {
  INCREMENTAL: 0,
  RANDOM: 1,
} as const;

/** byteorder expression (enum nft_byteorder_attributes). */
export const NFTA_BYTEORDER = {
  SREG: 1,
  DREG: 2,
  OP: 3,
  LEN: 4,
  SIZE: 5,
} as const;

/** byteorder operators (enum nft_byteorder_ops). */
export const NFT_BYTEORDER = {
  NTOH: 0,
  HTON: 1,
} as const;

/** reject types (enum nft_reject_types). */
export const NFT_REJECT = {
  ICMP_UNREACH: 0,
  TCP_RST: 1,
  ICMPX_UNREACH: 2,
} as const;

/** Family-independent reject codes (enum nft_reject_inet_code), for inet tables. */
export const NFT_REJECT_ICMPX = {
  NO_ROUTE: 0,
  PORT_UNREACH: 1,
  HOST_UNREACH: 2,
  ADMIN_PROHIBITED: 3,
} as const;

/** reject expression (enum nft_reject_attributes). */
export const NFTA_REJECT = {
  TYPE: 1,
  ICMP_CODE: 2,
} as const;

/** Layer-4 protocol numbers (<linux/in.h>): `meta l4proto` and an inet_proto key field. */
export const IPPROTO = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPV6: 58,
  SCTP: 132,
} as const;

/** xtables matches inside nf_tables (enum nft_match_attributes, <linux/netfilter/nf_tables_compat.h>): iptables-nft's `-m`. */
export const NFTA_MATCH = {
  NAME: 1,
  REV: 2,
  INFO: 3,
} as const;

/** xtables targets inside nf_tables (enum nft_target_attributes): iptables-nft's `-j` to an extension. */
export const NFTA_TARGET = {
  NAME: 1,
  REV: 2,
  INFO: 3,
} as const;

/** The queue expression's attributes (`queue num N`; nft_queue, CONFIG_NFT_QUEUE). */
export const NFTA_QUEUE = {
  NUM: 1,
  TOTAL: 2,
  FLAGS: 3,
  SREG_QNUM: 4,
} as const;

/** NFTA_QUEUE_FLAGS bits (NFT_QUEUE_FLAG_*). */
export const NFT_QUEUE_FLAG = {
  BYPASS: 0x01,
  CPU_FANOUT: 0x02,
} as const;

/** The conntrack match's match_flags and invert_flags (<linux/netfilter/xt_conntrack.h>). */
export const XT_CONNTRACK = {
  STATE: 0x1,
  PROTO: 0x2,
  ORIGSRC: 0x4,
  ORIGDST: 0x8,
  REPLSRC: 0x10,
  REPLDST: 0x20,
  STATUS: 0x40,
  EXPIRES: 0x80,
  ORIGSRC_PORT: 0x100,
  ORIGDST_PORT: 0x200,
  REPLSRC_PORT: 0x400,
  REPLDST_PORT: 0x800,
  DIRECTION: 0x1000,
  STATE_ALIAS: 0x2000,
} as const;

/**
 * The conntrack match's state bits that are not XT_CONNTRACK_STATE_BIT(ctinfo) (which equals
 * CT_STATE_BIT): the SNAT and DNAT pseudo-states (`--ctstate DNAT`: the flow's destination was
 * translated) and UNTRACKED.
 */
export const XT_CONNTRACK_STATE = {
  INVALID: 0x1,
  SNAT: 0x40,
  DNAT: 0x80,
  UNTRACKED: 0x100,
} as const;

/** The state match's (`-m state`) bits besides XT_STATE_BIT(ctinfo) (<linux/netfilter/xt_state.h>). */
export const XT_STATE = {
  INVALID: 0x1,
  UNTRACKED: 0x40,
} as const;
