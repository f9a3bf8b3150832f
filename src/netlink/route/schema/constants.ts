/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * rtnetlink constants, keyed by the kernel suffix so `grep` from the uapi headers finds them:
 * `IFLA.MTU` is IFLA_MTU in <linux/if_link.h>. Every value here was compared with the Linux 6.18
 * uapi headers by `scripts/capture-fixtures.sh check-constants` (it compiles a C program that checks
 * each one); the numbers are ABI, so they never change, only grow.
 */

/** Message types (<linux/rtnetlink.h>). */
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
  NEWNEIGH: 28,
  DELNEIGH: 29,
  GETNEIGH: 30,
  NEWRULE: 32,
  DELRULE: 33,
  GETRULE: 34,
  NEWQDISC: 36,
  DELQDISC: 37,
  GETQDISC: 38,
  NEWTCLASS: 40,
  DELTCLASS: 41,
  GETTCLASS: 42,
  NEWTFILTER: 44,
  DELTFILTER: 45,
  GETTFILTER: 46,
  NEWNSID: 88,
  DELNSID: 89,
  GETNSID: 90,
} as const;

/** Link attributes (enum IFLA_*, <linux/if_link.h>). */
export const IFLA = {
  UNSPEC: 0,
  ADDRESS: 1,
  BROADCAST: 2,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  QDISC: 6,
  STATS: 7,
  COST: 8,
  PRIORITY: 9,
  MASTER: 10,
  WIRELESS: 11,
  PROTINFO: 12,
  TXQLEN: 13,
  MAP: 14,
  WEIGHT: 15,
  OPERSTATE: 16,
  LINKMODE: 17,
  LINKINFO: 18,
  NET_NS_PID: 19,
  IFALIAS: 20,
  NUM_VF: 21,
  VFINFO_LIST: 22,
  STATS64: 23,
  VF_PORTS: 24,
  PORT_SELF: 25,
  AF_SPEC: 26,
  GROUP: 27,
  NET_NS_FD: 28,
  EXT_MASK: 29,
  PROMISCUITY: 30,
  NUM_TX_QUEUES: 31,
  NUM_RX_QUEUES: 32,
  CARRIER: 33,
  PHYS_PORT_ID: 34,
  CARRIER_CHANGES: 35,
  PHYS_SWITCH_ID: 36,
  LINK_NETNSID: 37,
  PHYS_PORT_NAME: 38,
  PROTO_DOWN: 39,
  GSO_MAX_SEGS: 40,
  GSO_MAX_SIZE: 41,
  PAD: 42,
  XDP: 43,
  EVENT: 44,
  NEW_NETNSID: 45,
  IF_NETNSID: 46,
  TARGET_NETNSID: 46,
  CARRIER_UP_COUNT: 47,
  CARRIER_DOWN_COUNT: 48,
  NEW_IFINDEX: 49,
  MIN_MTU: 50,
  MAX_MTU: 51,
  PROP_LIST: 52,
  ALT_IFNAME: 53,
  PERM_ADDRESS: 54,
  PROTO_DOWN_REASON: 55,
  PARENT_DEV_NAME: 56,
  PARENT_DEV_BUS_NAME: 57,
  GRO_MAX_SIZE: 58,
  TSO_MAX_SIZE: 59,
  TSO_MAX_SEGS: 60,
  ALLMULTI: 61,
} as const;

/** Inside IFLA_LINKINFO (IFLA_INFO_*). */
/** IFLA_AF_SPEC > AF_INET6 attributes (<linux/if_link.h> IFLA_INET6_*). */
export const IFLA_INET6 = { UNSPEC: 0, FLAGS: 1, CONF: 2, STATS: 3, MCAST: 4, CACHEINFO: 5, ICMP6STATS: 6, TOKEN: 7, ADDR_GEN_MODE: 8, RA_MTU: 9 } as const;

/** Index of disable_ipv6 in the s32 array of IFLA_INET6_CONF (enum in <linux/ipv6.h>). */
export const DEVCONF_DISABLE_IPV6 = 26;

/** enum in6_addr_gen_mode. */
export const IN6_ADDR_GEN_MODE = { EUI64: 0, NONE: 1, STABLE_PRIVACY: 2, RANDOM: 3 } as const;

export const IFLA_INFO = { UNSPEC: 0, KIND: 1, DATA: 2, XSTATS: 3, SLAVE_KIND: 4, SLAVE_DATA: 5 } as const;

/** Inside a veth's IFLA_INFO_DATA (<linux/veth.h>). VETH_INFO_PEER holds an ifinfomsg plus IFLA_* attributes. */
export const VETH_INFO = { UNSPEC: 0, PEER: 1 } as const;

/** Inside a vxlan's IFLA_INFO_DATA (IFLA_VXLAN_*). IFLA_VXLAN_GROUP is the group or the remote. */
export const IFLA_VXLAN = {
  UNSPEC: 0,
  ID: 1,
  GROUP: 2,
  LINK: 3,
  LOCAL: 4,
  TTL: 5,
  TOS: 6,
  LEARNING: 7,
  AGEING: 8,
  LIMIT: 9,
  PORT_RANGE: 10,
  PROXY: 11,
  RSC: 12,
  L2MISS: 13,
  L3MISS: 14,
  PORT: 15,
  GROUP6: 16,
  LOCAL6: 17,
  UDP_CSUM: 18,
  UDP_ZERO_CSUM6_TX: 19,
  UDP_ZERO_CSUM6_RX: 20,
  REMCSUM_TX: 21,
  REMCSUM_RX: 22,
  GBP: 23,
  REMCSUM_NOPARTIAL: 24,
  COLLECT_METADATA: 25,
  LABEL: 26,
  GPE: 27,
  TTL_INHERIT: 28,
  DF: 29,
  VNIFILTER: 30,
} as const;

/** Inside a macvlan's IFLA_INFO_DATA (IFLA_MACVLAN_*). */
export const IFLA_MACVLAN = {
  UNSPEC: 0,
  MODE: 1,
  FLAGS: 2,
  MACADDR_MODE: 3,
  MACADDR: 4,
  MACADDR_DATA: 5,
  MACADDR_COUNT: 6,
  BC_QUEUE_LEN: 7,
  BC_QUEUE_LEN_USED: 8,
} as const;

/** enum macvlan_mode (MACVLAN_MODE_*). */
export const MACVLAN_MODE = { PRIVATE: 1, VEPA: 2, BRIDGE: 4, PASSTHRU: 8, SOURCE: 16 } as const;

/** Inside an ipvlan's IFLA_INFO_DATA (IFLA_IPVLAN_*). */
export const IFLA_IPVLAN = { UNSPEC: 0, MODE: 1, FLAGS: 2 } as const;

/** enum ipvlan_mode (IPVLAN_MODE_*). */
export const IPVLAN_MODE = { L2: 0, L3: 1, L3S: 2 } as const;

/** Inside a bridge's IFLA_INFO_DATA (IFLA_BR_*). Times are in USER_HZ (1/100 s) ticks. */
/** Bridge port attributes (enum IFLA_BRPORT_*, <linux/if_link.h>), in IFLA_INFO_SLAVE_DATA or IFLA_PROTINFO. */
export const IFLA_BRPORT = {
  UNSPEC: 0,
  STATE: 1,
  PRIORITY: 2,
  COST: 3,
  /** hairpin mode: a frame may leave through the port it came in on */
  MODE: 4,
  GUARD: 5,
  PROTECT: 6,
  FAST_LEAVE: 7,
  LEARNING: 8,
  UNICAST_FLOOD: 9,
} as const;

export const IFLA_BR = {
  UNSPEC: 0,
  FORWARD_DELAY: 1,
  HELLO_TIME: 2,
  MAX_AGE: 3,
  AGEING_TIME: 4,
  STP_STATE: 5,
  PRIORITY: 6,
  VLAN_FILTERING: 7,
  VLAN_PROTOCOL: 8,
  GROUP_FWD_MASK: 9,
  ROOT_ID: 10,
  BRIDGE_ID: 11,
  ROOT_PORT: 12,
  ROOT_PATH_COST: 13,
  TOPOLOGY_CHANGE: 14,
  TOPOLOGY_CHANGE_DETECTED: 15,
  HELLO_TIMER: 16,
  TCN_TIMER: 17,
  TOPOLOGY_CHANGE_TIMER: 18,
  GC_TIMER: 19,
  GROUP_ADDR: 20,
  FDB_FLUSH: 21,
  MCAST_ROUTER: 22,
  MCAST_SNOOPING: 23,
  VLAN_DEFAULT_PVID: 39,
  PAD: 40,
  VLAN_STATS_ENABLED: 41,
  MULTI_BOOLOPT: 46,
} as const;

/** Device flags (IFF_*, <linux/if.h>), in ifinfomsg.ifi_flags. */
export const IFF = {
  UP: 0x1,
  BROADCAST: 0x2,
  DEBUG: 0x4,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  NOTRAILERS: 0x20,
  RUNNING: 0x40,
  NOARP: 0x80,
  PROMISC: 0x100,
  ALLMULTI: 0x200,
  MASTER: 0x400,
  SLAVE: 0x800,
  MULTICAST: 0x1000,
  PORTSEL: 0x2000,
  AUTOMEDIA: 0x4000,
  DYNAMIC: 0x8000,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
  ECHO: 0x40000,
} as const;

/** RFC 2863 operational states (IF_OPER_*, <linux/if.h>), the value of IFLA_OPERSTATE. */
export const IF_OPER = { UNKNOWN: 0, NOTPRESENT: 1, DOWN: 2, LOWERLAYERDOWN: 3, TESTING: 4, DORMANT: 5, UP: 6 } as const;

/** A few link-layer types (ARPHRD_*, <linux/if_arp.h>), the value of ifinfomsg.ifi_type. */
export const ARPHRD = {
  NETROM: 0,
  ETHER: 1,
  INFINIBAND: 32,
  TUNNEL: 768,
  LOOPBACK: 772,
  SIT: 776,
  IPGRE: 778,
  NONE: 0xfffe,
  VOID: 0xffff,
} as const;

/** Address attributes (enum IFA_*, <linux/if_addr.h>). */
export const IFA = {
  UNSPEC: 0,
  ADDRESS: 1,
  LOCAL: 2,
  LABEL: 3,
  BROADCAST: 4,
  ANYCAST: 5,
  CACHEINFO: 6,
  MULTICAST: 7,
  FLAGS: 8,
  RT_PRIORITY: 9,
  TARGET_NETNSID: 10,
  PROTO: 11,
} as const;

/** Address flags (IFA_F_*). Bits above 0xff only travel in the IFA_FLAGS attribute. */
export const IFA_F = {
  SECONDARY: 0x1,
  TEMPORARY: 0x1,
  NODAD: 0x2,
  OPTIMISTIC: 0x4,
  DADFAILED: 0x8,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
  STABLE_PRIVACY: 0x800,
} as const;

/** Route attributes (enum rtattr_type_t, RTA_*, <linux/rtnetlink.h>). */
export const RTA = {
  UNSPEC: 0,
  DST: 1,
  SRC: 2,
  IIF: 3,
  OIF: 4,
  GATEWAY: 5,
  PRIORITY: 6,
  PREFSRC: 7,
  METRICS: 8,
  MULTIPATH: 9,
  PROTOINFO: 10,
  FLOW: 11,
  CACHEINFO: 12,
  SESSION: 13,
  MP_ALGO: 14,
  TABLE: 15,
  MARK: 16,
  MFC_STATS: 17,
  VIA: 18,
  NEWDST: 19,
  PREF: 20,
  ENCAP_TYPE: 21,
  ENCAP: 22,
  EXPIRES: 23,
  PAD: 24,
  UID: 25,
  TTL_PROPAGATE: 26,
  IP_PROTO: 27,
  SPORT: 28,
  DPORT: 29,
  NH_ID: 30,
} as const;

/** Route types (RTN_*), rtmsg.rtm_type. */
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
  THROW: 9,
  NAT: 10,
  XRESOLVE: 11,
} as const;

/** Route origin (RTPROT_*), rtmsg.rtm_protocol. Values above STATIC are not interpreted by the kernel. */
export const RTPROT = {
  UNSPEC: 0,
  REDIRECT: 1,
  KERNEL: 2,
  BOOT: 3,
  STATIC: 4,
  RA: 9,
  DHCP: 16,
} as const;

/** Route scopes (enum rt_scope_t, RT_SCOPE_*). */
export const RT_SCOPE = { UNIVERSE: 0, SITE: 200, LINK: 253, HOST: 254, NOWHERE: 255 } as const;

/** Reserved routing tables (enum rt_class_t, RT_TABLE_*). */
export const RT_TABLE = { UNSPEC: 0, COMPAT: 252, DEFAULT: 253, MAIN: 254, LOCAL: 255 } as const;

/** Next-hop flags (RTNH_F_*), also in rtmsg.rtm_flags: ONLINK = the gateway is on the link, no check it is reachable. */
export const RTNH_F = { DEAD: 1, PERVASIVE: 2, ONLINK: 4, OFFLOAD: 8, LINKDOWN: 16, UNRESOLVED: 32, TRAP: 64 } as const;

/** rtmsg.rtm_flags (RTM_F_*). */
export const RTM_F = {
  NOTIFY: 0x100,
  CLONED: 0x200,
  EQUALIZE: 0x400,
  PREFIX: 0x800,
  LOOKUP_TABLE: 0x1000,
  FIB_MATCH: 0x2000,
  OFFLOAD: 0x4000,
  TRAP: 0x8000,
  OFFLOAD_FAILED: 0x20000000,
} as const;

/** Neighbour attributes (enum NDA_*, <linux/neighbour.h>). */
export const NDA = {
  UNSPEC: 0,
  DST: 1,
  LLADDR: 2,
  CACHEINFO: 3,
  PROBES: 4,
  VLAN: 5,
  PORT: 6,
  VNI: 7,
  IFINDEX: 8,
  MASTER: 9,
  LINK_NETNSID: 10,
  SRC_VNI: 11,
  PROTOCOL: 12,
  NH_ID: 13,
  FDB_EXT_ATTRS: 14,
  FLAGS_EXT: 15,
  NDM_STATE_MASK: 16,
  NDM_FLAGS_MASK: 17,
} as const;

/** Neighbour states (NUD_*), ndmsg.ndm_state. */
export const NUD = {
  NONE: 0x0,
  INCOMPLETE: 0x1,
  REACHABLE: 0x2,
  STALE: 0x4,
  DELAY: 0x8,
  PROBE: 0x10,
  FAILED: 0x20,
  NOARP: 0x40,
  PERMANENT: 0x80,
} as const;

/** Neighbour flags (NTF_*), ndmsg.ndm_flags. */
export const NTF = {
  USE: 0x1,
  SELF: 0x2,
  MASTER: 0x4,
  PROXY: 0x8,
  EXT_LEARNED: 0x10,
  OFFLOADED: 0x20,
  STICKY: 0x40,
  ROUTER: 0x80,
} as const;

/** Namespace-id attributes (NETNSA_*, <linux/net_namespace.h>). */
export const NETNSA = { NONE: 0, NSID: 1, PID: 2, FD: 3, TARGET_NSID: 4, CURRENT_NSID: 5 } as const;

/** NETNSA_NSID value of a peer namespace that has no id in this one. */
export const NETNSA_NSID_NOT_ASSIGNED = -1;

/** Address families used by rtnetlink (AF_*, <sys/socket.h>). */
export const AF = { UNSPEC: 0, INET: 2, BRIDGE: 7, INET6: 10, NETLINK: 16, PACKET: 17 } as const;

/** Multicast groups (enum rtnetlink_groups, RTNLGRP_*); subscribe with NETLINK_ADD_MEMBERSHIP. */
export const RTNLGRP = {
  NONE: 0,
  LINK: 1,
  NOTIFY: 2,
  NEIGH: 3,
  TC: 4,
  IPV4_IFADDR: 5,
  IPV4_MROUTE: 6,
  IPV4_ROUTE: 7,
  IPV4_RULE: 8,
  IPV6_IFADDR: 9,
  IPV6_MROUTE: 10,
  IPV6_ROUTE: 11,
  IPV6_IFINFO: 12,
  IPV6_PREFIX: 18,
  IPV6_RULE: 19,
  ND_USEROPT: 20,
  IPV4_NETCONF: 24,
  IPV6_NETCONF: 25,
  MDB: 26,
  MPLS_ROUTE: 27,
  NSID: 28,
  MPLS_NETCONF: 29,
  IPV4_MROUTE_R: 30,
  IPV6_MROUTE_R: 31,
  NEXTHOP: 32,
  BRVLAN: 33,
  MCTP_IFADDR: 34,
  TUNNEL: 35,
  STATS: 36,
} as const;

/** IFLA_EXT_MASK bits (RTEXT_FILTER_*). */
export const RTEXT_FILTER = {
  VF: 0x1,
  BRVLAN: 0x2,
  BRVLAN_COMPRESSED: 0x4,
  SKIP_STATS: 0x8,
  MRP: 0x10,
  CFM_CONFIG: 0x20,
  CFM_STATUS: 0x40,
  MST: 0x80,
} as const;

/** Traffic-control message attributes (enum TCA_*, <linux/rtnetlink.h>), after struct tcmsg. */
export const TCA = {
  UNSPEC: 0,
  KIND: 1,
  OPTIONS: 2,
  STATS: 3,
  XSTATS: 4,
  RATE: 5,
  FCNT: 6,
  STATS2: 7,
  STAB: 8,
  PAD: 9,
  DUMP_INVISIBLE: 10,
  CHAIN: 11,
  HW_OFFLOAD: 12,
  INGRESS_BLOCK: 13,
  EGRESS_BLOCK: 14,
  DUMP_FLAGS: 15,
  EXT_WARN_MSG: 16,
} as const;

/** Inside TCA_STATS2 (enum TCA_STATS_*, <linux/gen_stats.h>). */
export const TCA_STATS = { UNSPEC: 0, BASIC: 1, RATE_EST: 2, QUEUE: 3, APP: 4, RATE_EST64: 5, PAD: 6, BASIC_HW: 7, PKT64: 8 } as const;

/**
 * Handles and parents (TC_H_*, <linux/pkt_sched.h>): major in the upper 16 bits, minor in the
 * lower. ROOT is the egress root; INGRESS (= TC_H_CLSACT) the parent of ingress/clsact; their
 * filter hooks are MIN_INGRESS/MIN_EGRESS under major 0xffff.
 */
export const TC_H = {
  MAJ_MASK: 0xffff0000,
  MIN_MASK: 0x0000ffff,
  UNSPEC: 0,
  ROOT: 0xffffffff,
  INGRESS: 0xfffffff1,
  CLSACT: 0xfffffff1,
  MIN_PRIORITY: 0xffe0,
  MIN_INGRESS: 0xfff2,
  MIN_EGRESS: 0xfff3,
} as const;

/** tc_ratespec.linklayer (TC_LINKLAYER_*, <linux/pkt_sched.h>). */
export const TC_LINKLAYER = { UNAWARE: 0, ETHERNET: 1, ATM: 2 } as const;

/** Inside a tbf's TCA_OPTIONS (TCA_TBF_*). */
export const TCA_TBF = { UNSPEC: 0, PARMS: 1, RTAB: 2, PTAB: 3, RATE64: 4, PRATE64: 5, BURST: 6, PBURST: 7, PAD: 8 } as const;

/** Inside an htb's TCA_OPTIONS (TCA_HTB_*): INIT for the qdisc, PARMS and the tables for a class. */
export const TCA_HTB = { UNSPEC: 0, PARMS: 1, INIT: 2, CTAB: 3, RTAB: 4, DIRECT_QLEN: 5, RATE64: 6, CEIL64: 7, PAD: 8, OFFLOAD: 9 } as const;

/** After struct tc_netem_qopt in a netem's TCA_OPTIONS (TCA_NETEM_*). */
export const TCA_NETEM = {
  UNSPEC: 0,
  CORR: 1,
  DELAY_DIST: 2,
  REORDER: 3,
  CORRUPT: 4,
  LOSS: 5,
  RATE: 6,
  ECN: 7,
  RATE64: 8,
  PAD: 9,
  LATENCY64: 10,
  JITTER64: 11,
  SLOT: 12,
  SLOT_DIST: 13,
} as const;

/** Inside TCA_NETEM_LOSS (NETEM_LOSS_*): the loss models' structs. */
export const NETEM_LOSS = { UNSPEC: 0, GI: 1, GE: 2 } as const;
