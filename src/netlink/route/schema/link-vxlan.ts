/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * vxlan (IFLA_VXLAN_*). The kernel keeps one "remote" slot, IFLA_VXLAN_GROUP(6): a multicast
 * address there is a group, anything else a unicast remote; decode sorts it back by address type.
 * IFLA_VXLAN_PORT is in network byte order.
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
}

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
  if (info.ttl !== undefined) w.u8(IFLA_VXLAN.TTL, info.ttl);
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
  return info;
}
