/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * RTM_NEWLINK / DELLINK / GETLINK / SETLINK bodies: struct ifinfomsg then IFLA_* attributes
 * (<linux/if_link.h>). Decode ignores attributes it does not know.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readS32, readString, readU8 } from '../../wire/attr.js';
import { FieldTable, bool8, mac, s32, str, u32, u8 } from '../../wire/attr-fields.js';
import { AF, DEVCONF_DISABLE_IPV6, IFLA, IFLA_INET6 } from './constants.js';
import { IFINFOMSG_LEN, decodeIfinfomsg, encodeIfinfomsg } from './ifinfomsg.js';
import { type BridgePortInfo, type LinkInfo, decodeLinkInfo, encodeLinkInfo } from './link-info.js';
import { type LinkStats64, decodeLinkStats64, encodeLinkStats64 } from './link-stats.js';

export type * from './link-info.js';
export type { LinkStats64 } from './link-stats.js';

/** What encodeLinkMessage takes and decodeLinkMessage returns. Decode always fills the five ifinfomsg fields. */
export interface LinkMessage {
  /** ifi_family (AF_UNSPEC for links, AF_BRIDGE for bridge port messages) */
  family?: number;
  /** ifi_type: ARPHRD_* */
  type?: number;
  /** ifi_index */
  index?: number;
  /** ifi_flags: IFF_* */
  flags?: number;
  /** ifi_change: mask of the IFF_* bits a request changes */
  change?: number;
  /** IFLA_IFNAME */
  name?: string;
  mtu?: number;
  address?: string;
  broadcast?: string;
  /** IFLA_MASTER: ifindex of the master; 0 = nomaster */
  master?: number;
  /** IFLA_LINK: peer/parent ifindex (in the namespace linkNetnsId names, if set) */
  link?: number;
  /** IFLA_LINK_NETNSID */
  linkNetnsId?: number;
  /** IFLA_NET_NS_FD: move to / create in this namespace */
  netnsFd?: number;
  /** IFLA_NET_NS_PID */
  netnsPid?: number;
  /** IFLA_TARGET_NETNSID: operate on the namespace with this id */
  targetNetnsId?: number;
  txqlen?: number;
  /**
   * IFLA_NUM_TX_QUEUES / IFLA_NUM_RX_QUEUES: queues allocated at creation. A veth made without
   * them gets one per CPU and is then cut to one real queue, which costs two expedited RCU
   * grace periods (synchronize_net) per end; asking for 1 skips both.
   */
  numTxQueues?: number;
  numRxQueues?: number;
  group?: number;
  /** IFLA_OPERSTATE: IF_OPER_* */
  operstate?: number;
  carrier?: boolean;
  /** IFLA_IFALIAS */
  alias?: string;
  /** IFLA_AF_SPEC > AF_INET6 > IFLA_INET6_ADDR_GEN_MODE (IN6_ADDR_GEN_MODE_*): how IPv6 link-local addresses are made; NONE makes none. */
  addrGenMode?: number;
  /**
   * IFLA_AF_SPEC > AF_INET6 > IFLA_INET6_CONF[DEVCONF_DISABLE_IPV6] (read only): the link's
   * net.ipv6.conf.IFNAME.disable_ipv6. Absent when the link has no IPv6 state at all (IPv6
   * off in the kernel, or an MTU under 1280). Setting it needs /proc/sys.
   */
  ipv6Disabled?: boolean;
  promiscuity?: number;
  /** IFLA_EXT_MASK: RTEXT_FILTER_* */
  extMask?: number;
  /** IFLA_LINKINFO → IFLA_INFO_KIND + IFLA_INFO_DATA */
  info?: LinkInfo;
  /** IFLA_LINKINFO → IFLA_INFO_SLAVE_KIND */
  slaveKind?: string;
  /** IFLA_LINKINFO → IFLA_INFO_SLAVE_DATA of a bridge port: hairpin, learning, state */
  bridgePort?: BridgePortInfo;
  stats64?: LinkStats64;
  minMtu?: number;
  maxMtu?: number;
}

/** The plain IFLA_* settings, in iproute2's order (before IFLA_STATS64, IFLA_IFNAME and the nests). */
const SETTINGS = new FieldTable<LinkMessage>({
  extMask: [IFLA.EXT_MASK, 'IFLA_EXT_MASK', u32],
  link: [IFLA.LINK, 'IFLA_LINK', u32],
  mtu: [IFLA.MTU, 'IFLA_MTU', u32],
  address: [IFLA.ADDRESS, 'IFLA_ADDRESS', mac],
  broadcast: [IFLA.BROADCAST, 'IFLA_BROADCAST', mac],
  txqlen: [IFLA.TXQLEN, 'IFLA_TXQLEN', u32],
  numTxQueues: [IFLA.NUM_TX_QUEUES, 'IFLA_NUM_TX_QUEUES', u32],
  numRxQueues: [IFLA.NUM_RX_QUEUES, 'IFLA_NUM_RX_QUEUES', u32],
  group: [IFLA.GROUP, 'IFLA_GROUP', u32],
  operstate: [IFLA.OPERSTATE, 'IFLA_OPERSTATE', u8],
  carrier: [IFLA.CARRIER, 'IFLA_CARRIER', bool8],
  promiscuity: [IFLA.PROMISCUITY, 'IFLA_PROMISCUITY', u32],
  master: [IFLA.MASTER, 'IFLA_MASTER', u32],
  netnsFd: [IFLA.NET_NS_FD, 'IFLA_NET_NS_FD', u32],
  netnsPid: [IFLA.NET_NS_PID, 'IFLA_NET_NS_PID', u32],
  linkNetnsId: [IFLA.LINK_NETNSID, 'IFLA_LINK_NETNSID', s32],
  targetNetnsId: [IFLA.TARGET_NETNSID, 'IFLA_TARGET_NETNSID', s32],
  alias: [IFLA.IFALIAS, 'IFLA_IFALIAS', str],
  minMtu: [IFLA.MIN_MTU, 'IFLA_MIN_MTU', u32],
  maxMtu: [IFLA.MAX_MTU, 'IFLA_MAX_MTU', u32],
});

/**
 * Write an ifinfomsg and the attributes of `m` into `w`. Attribute order follows iproute2
 * (IFLA_EXT_MASK, settings, IFLA_IFNAME, IFLA_LINKINFO), so requests compare byte for byte with its.
 */
export function encodeLinkMessage(w: AttrWriter, m: LinkMessage): void {
  encodeIfinfomsg(w, m);
  SETTINGS.encode(w, m);
  if (m.stats64 !== undefined) encodeLinkStats64(w, IFLA.STATS64, m.stats64);
  if (m.name !== undefined) w.string(IFLA.IFNAME, m.name);
  if (m.addrGenMode !== undefined) {
    const mode = m.addrGenMode;
    w.nest(IFLA.AF_SPEC, (spec) => spec.nest(AF.INET6, (inet6) => inet6.u8(IFLA_INET6.ADDR_GEN_MODE, mode)));
  }
  if (m.info !== undefined || m.slaveKind !== undefined || m.bridgePort !== undefined) encodeLinkInfo(w, IFLA.LINKINFO, m.info, m);
}

/** Options that leave the 64-bit counters out (decodeLinkMessage, link.get, link.find). */
export const NO_STATS = Object.freeze({ stats: false } as const);

/** Decode an RTM_*LINK payload (the bytes after the nlmsghdr); `stats: false` leaves IFLA_STATS64 undecoded. */
export function decodeLinkMessage(payload: Uint8Array, options: { stats?: boolean } = {}): LinkMessage {
  const h = decodeIfinfomsg(payload);
  const m: LinkMessage = { family: h.family, type: h.type, index: h.index, flags: h.flags, change: h.change };
  const a = attrMap(payload, IFINFOMSG_LEN);
  SETTINGS.decode(a, m);
  const name = a.get(IFLA.IFNAME);
  if (name !== undefined) m.name = readString(name, 'IFLA_IFNAME');
  const afSpec = a.get(IFLA.AF_SPEC);
  if (afSpec !== undefined) {
    const inet6 = attrMap(afSpec).get(AF.INET6);
    const inet6Attrs = inet6 === undefined ? undefined : attrMap(inet6);
    const mode = inet6Attrs?.get(IFLA_INET6.ADDR_GEN_MODE);
    if (mode !== undefined) m.addrGenMode = readU8(mode, 'IFLA_INET6_ADDR_GEN_MODE');
    const conf = inet6Attrs?.get(IFLA_INET6.CONF);
    const at = DEVCONF_DISABLE_IPV6 * 4;
    if (conf !== undefined && conf.length >= at + 4) m.ipv6Disabled = readS32(conf.subarray(at, at + 4), 'DEVCONF_DISABLE_IPV6') !== 0;
  }
  const linkinfo = a.get(IFLA.LINKINFO);
  if (linkinfo !== undefined) {
    const { info, slaveKind, bridgePort } = decodeLinkInfo(linkinfo);
    if (info !== undefined) m.info = info;
    if (slaveKind !== undefined) m.slaveKind = slaveKind;
    if (bridgePort !== undefined) m.bridgePort = bridgePort;
  }
  const stats = options.stats === false ? undefined : a.get(IFLA.STATS64);
  if (stats !== undefined) m.stats64 = decodeLinkStats64(stats);
  return m;
}
