/**
 * Layer: sys.
 *
 * Linux ABI numbers the sys layer and the socket users above it need (x86_64/generic).
 */
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;

export const NETLINK_ROUTE = 0;

export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;

export const SOL_NETLINK = 270;
export const NETLINK_ADD_MEMBERSHIP = 1;
export const NETLINK_CAP_ACK = 10;

export const MSG_TRUNC = 0x20;

export const CLONE_NEWNET = 0x40000000;

/** uv_poll event bit. */
export const UV_READABLE = 1;

/** flock(2) operations. */
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export const IPPROTO_IPV6 = 41;
export const IPV6_V6ONLY = 26;
export const IPPROTO_ICMPV6 = 58;
export const IPV6_MULTICAST_IF = 17;
export const IPV6_MULTICAST_HOPS = 18;
export const ICMP6_FILTER = 1;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IP = 0x0800;
