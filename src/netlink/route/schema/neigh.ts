/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * RTM_NEWNEIGH / DELNEIGH / GETNEIGH bodies: struct ndmsg (family u8, 3 pad bytes, ifindex s32,
 * state u16, flags u8, type u8) then NDA_* attributes (<linux/neighbour.h>). Used for ARP/ND
 * entries (AF_INET/AF_INET6) and bridge/vxlan FDB entries (AF_BRIDGE).
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readBe16, readIp, readMac, readU16, readU32 } from '../../wire/attr.js';
import { NDA } from './constants.js';

const NDMSG_LEN = 12;

export interface NeighMessage {
  /** ndm_family: AF_INET, AF_INET6, AF_BRIDGE */
  family: number;
  /** ndm_ifindex */
  index: number;
  /** ndm_state: NUD_* */
  state?: number;
  /** ndm_flags: NTF_* */
  flags?: number;
  /** ndm_type: RTN_* */
  type?: number;
  /** NDA_DST: the neighbour's IP (for FDB entries: the remote VTEP) */
  dst?: string;
  /** NDA_LLADDR: the link-layer address; absent on devices without one */
  lladdr?: string;
  /** NDA_MASTER: the bridge's ifindex */
  master?: number;
  vlan?: number;
  vni?: number;
  /** NDA_PORT: UDP port of the remote VTEP (network byte order on the wire) */
  port?: number;
  probes?: number;
}

/** Write an ndmsg and the attributes of `m` into `w` (iproute2's order: DST, LLADDR, then the rest). */
export function encodeNeighMessage(w: AttrWriter, m: NeighMessage): void {
  const at = w.reserve(NDMSG_LEN);
  const dv = w.view();
  dv.setUint8(at, m.family);
  dv.setInt32(at + 4, m.index, true);
  dv.setUint16(at + 8, m.state ?? 0, true);
  dv.setUint8(at + 10, m.flags ?? 0);
  dv.setUint8(at + 11, m.type ?? 0);
  if (m.dst !== undefined) w.ip(NDA.DST, m.dst);
  if (m.lladdr !== undefined) w.mac(NDA.LLADDR, m.lladdr);
  if (m.master !== undefined) w.u32(NDA.MASTER, m.master);
  if (m.vlan !== undefined) w.u16(NDA.VLAN, m.vlan);
  if (m.vni !== undefined) w.u32(NDA.VNI, m.vni);
  if (m.port !== undefined) w.be16(NDA.PORT, m.port);
  if (m.probes !== undefined) w.u32(NDA.PROBES, m.probes);
}

/** Decode an RTM_*NEIGH payload. The ndmsg fields are always filled in. */
export function decodeNeighMessage(payload: Uint8Array): NeighMessage {
  if (payload.length < NDMSG_LEN) throw new DecodeError('ndmsg', 0, `needs ${NDMSG_LEN} bytes, got ${payload.length}`);
  const dv = new DataView(payload.buffer, payload.byteOffset, NDMSG_LEN);
  const m: NeighMessage = {
    family: dv.getUint8(0),
    index: dv.getInt32(4, true),
    state: dv.getUint16(8, true),
    flags: dv.getUint8(10),
    type: dv.getUint8(11),
  };
  const a = attrMap(payload, NDMSG_LEN);
  const dst = a.get(NDA.DST);
  if (dst !== undefined) m.dst = readIp(dst, 'NDA_DST');
  const lladdr = a.get(NDA.LLADDR);
  if (lladdr !== undefined && lladdr.length > 0) m.lladdr = readMac(lladdr, 'NDA_LLADDR');
  const master = a.get(NDA.MASTER);
  if (master !== undefined) m.master = readU32(master, 'NDA_MASTER');
  const vlan = a.get(NDA.VLAN);
  if (vlan !== undefined) m.vlan = readU16(vlan, 'NDA_VLAN');
  const vni = a.get(NDA.VNI);
  if (vni !== undefined) m.vni = readU32(vni, 'NDA_VNI');
  const port = a.get(NDA.PORT);
  if (port !== undefined) m.port = readBe16(port, 'NDA_PORT');
  const probes = a.get(NDA.PROBES);
  if (probes !== undefined) m.probes = readU32(probes, 'NDA_PROBES');
  return m;
}
