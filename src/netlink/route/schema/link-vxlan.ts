/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * vxlan (IFLA_VXLAN_*). The kernel keeps one "remote" slot, IFLA_VXLAN_GROUP(6): a multicast
 * address there is a group, anything else a unicast remote; decode sorts it back by address type.
 * IFLA_VXLAN_PORT is in network byte order. The flags an overlay sets (proxy, l2miss, l3miss,
 * udpCsum) are u8 attributes written only when given, in iproute2's order; the device's MTU is
 * the kernel's to derive from `dev` (VXLAN_OVERHEAD below) when none is given.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, ipFamily, readBe16, readIp, readU32, readU8 } from '../../wire/attr.js';
import { IFLA_VXLAN } from './constants.js';

export interface VxlanInfo {
  kind: 'vxlan';
  /** IFLA_VXLAN_ID: the VNI */
  id: number;
  /** IFLA_VXLAN_LOCAL / IFLA_VXLAN_LOCAL6 */
  local?: string;
  /** IFLA_VXLAN_GROUP / IFLA_VXLAN_GROUP6 holding a unicast address */
  remote?: string;
  /** IFLA_VXLAN_GROUP / IFLA_VXLAN_GROUP6 holding a multicast address */
  group?: string;
  /** IFLA_VXLAN_PORT: UDP destination port */
  port?: number;
  /** IFLA_VXLAN_LINK: ifindex of the underlay device */
  dev?: number;
  learning?: boolean;
  /** IFLA_VXLAN_TTL: 0 = inherit */
  ttl?: number;
  /** IFLA_VXLAN_PROXY: answer ARP/ND from the neighbour table (`proxy`) */
  proxy?: boolean;
  /** IFLA_VXLAN_L2MISS: notify userspace of FDB misses (`l2miss`) */
  l2miss?: boolean;
  /** IFLA_VXLAN_L3MISS: notify userspace of neighbour misses (`l3miss`) */
  l3miss?: boolean;
  /** IFLA_VXLAN_UDP_CSUM: UDP checksums on transmit over an IPv4 underlay (`udpcsum`) */
  udpCsum?: boolean;
}

/**
 * The bytes VXLAN adds to each frame: outer IPv4 (20) or IPv6 (40) + UDP (8) + VXLAN (8) + the
 * inner Ethernet header (14). The kernel gives a vxlan with `dev` and no MTU the underlay's MTU
 * minus this (vxlan_config_apply); sandboxes on the overlay need the same figure.
 */
export const VXLAN_OVERHEAD = { 4: 50, 6: 70 } as const;

/** The MTU of a vxlan over an underlay of MTU `underlayMtu` in IP family `family`. */
export function vxlanMtu(underlayMtu: number, family: 4 | 6): number {
  return underlayMtu - VXLAN_OVERHEAD[family];
}

/** The u8 flags, in the order iproute2 6.1 writes them (after IFLA_VXLAN_LINK, before TTL and the rest). */
const FLAGS_BEFORE_TTL = [['proxy', IFLA_VXLAN.PROXY], ['l2miss', IFLA_VXLAN.L2MISS], ['l3miss', IFLA_VXLAN.L3MISS]] as const;

function isMulticast(addr: string, bytes: Uint8Array): boolean {
  const first = bytes[0] ?? 0;
  return ipFamily(addr) === 4 ? first >= 224 && first <= 239 : first === 0xff;
}

/** Write the contents of IFLA_INFO_DATA for a vxlan, in iproute2's order. TypeError when both `remote` and `group` are set. */
export function encodeVxlanData(w: AttrWriter, info: VxlanInfo): void {
  if (info.remote !== undefined && info.group !== undefined) {
    throw new TypeError('vxlan: set either remote or group, not both (they share IFLA_VXLAN_GROUP)');
  }
  if (info.dev !== undefined) w.u32(IFLA_VXLAN.LINK, info.dev);
  for (const [key, type] of FLAGS_BEFORE_TTL) {
    const v = info[key];
    if (v !== undefined) w.u8(type, v ? 1 : 0);
  }
  if (info.ttl !== undefined) w.u8(IFLA_VXLAN.TTL, info.ttl);
  if (info.udpCsum !== undefined) w.u8(IFLA_VXLAN.UDP_CSUM, info.udpCsum ? 1 : 0);
  w.u32(IFLA_VXLAN.ID, info.id);
  if (info.local !== undefined) w.ip(ipFamily(info.local) === 4 ? IFLA_VXLAN.LOCAL : IFLA_VXLAN.LOCAL6, info.local);
  const peer = info.remote ?? info.group;
  if (peer !== undefined) w.ip(ipFamily(peer) === 4 ? IFLA_VXLAN.GROUP : IFLA_VXLAN.GROUP6, peer);
  if (info.learning !== undefined) w.u8(IFLA_VXLAN.LEARNING, info.learning ? 1 : 0);
  if (info.port !== undefined) w.be16(IFLA_VXLAN.PORT, info.port);
}

/** Decode a vxlan's IFLA_INFO_DATA. A missing IFLA_VXLAN_ID reads as 0. */
export function decodeVxlanData(data: Uint8Array): VxlanInfo {
  const a = attrMap(data);
  const id = a.get(IFLA_VXLAN.ID);
  const info: VxlanInfo = { kind: 'vxlan', id: id === undefined ? 0 : readU32(id, 'IFLA_VXLAN_ID') };
  const local = a.get(IFLA_VXLAN.LOCAL) ?? a.get(IFLA_VXLAN.LOCAL6);
  if (local !== undefined) info.local = readIp(local, 'IFLA_VXLAN_LOCAL');
  const peer = a.get(IFLA_VXLAN.GROUP) ?? a.get(IFLA_VXLAN.GROUP6);
  if (peer !== undefined) {
    const addr = readIp(peer, 'IFLA_VXLAN_GROUP');
    if (isMulticast(addr, peer)) info.group = addr;
    else info.remote = addr;
  }
  const port = a.get(IFLA_VXLAN.PORT);
  if (port !== undefined) info.port = readBe16(port, 'IFLA_VXLAN_PORT');
  const dev = a.get(IFLA_VXLAN.LINK);
  if (dev !== undefined) info.dev = readU32(dev, 'IFLA_VXLAN_LINK');
  const learning = a.get(IFLA_VXLAN.LEARNING);
  if (learning !== undefined) info.learning = readU8(learning, 'IFLA_VXLAN_LEARNING') !== 0;
  const ttl = a.get(IFLA_VXLAN.TTL);
  if (ttl !== undefined) info.ttl = readU8(ttl, 'IFLA_VXLAN_TTL');
  for (const [key, type] of [...FLAGS_BEFORE_TTL, ['udpCsum', IFLA_VXLAN.UDP_CSUM] as const]) {
    const v = a.get(type);
    if (v !== undefined) info[key] = readU8(v, `IFLA_VXLAN_${key.toUpperCase()}`) !== 0;
  }
  return info;
}
