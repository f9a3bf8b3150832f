/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * RTM_NEWNEIGH / DELNEIGH / GETNEIGH bodies: struct ndmsg (family u8, 3 pad bytes, ifindex s32,
 * state u16, flags u8, type u8) then NDA_* attributes (<linux/neighbour.h>). Used for ARP/ND
 * entries (AF_INET/AF_INET6) and bridge/vxlan FDB entries (AF_BRIDGE).
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap } from '../../wire/attr.js';
import { FieldTable, be16, ip, mac, u16, u32 } from '../../wire/attr-fields.js';
import { AF, NDA } from './constants.js';

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

/** NDA_* attributes, in iproute2's order for `ip neigh add` (DST, LLADDR, then the rest). */
const FIELDS = new FieldTable<NeighMessage>({
  dst: [NDA.DST, 'NDA_DST', ip],
  lladdr: [NDA.LLADDR, 'NDA_LLADDR', mac],
  master: [NDA.MASTER, 'NDA_MASTER', u32],
  vlan: [NDA.VLAN, 'NDA_VLAN', u16],
  vni: [NDA.VNI, 'NDA_VNI', u32],
  port: [NDA.PORT, 'NDA_PORT', be16],
  probes: [NDA.PROBES, 'NDA_PROBES', u32],
});

/** The same, in `bridge fdb`'s order (LLADDR first) for AF_BRIDGE entries. */
const FDB_FIELDS = new FieldTable<NeighMessage>({
  lladdr: [NDA.LLADDR, 'NDA_LLADDR', mac],
  dst: [NDA.DST, 'NDA_DST', ip],
  master: [NDA.MASTER, 'NDA_MASTER', u32],
  vlan: [NDA.VLAN, 'NDA_VLAN', u16],
  port: [NDA.PORT, 'NDA_PORT', be16],
  vni: [NDA.VNI, 'NDA_VNI', u32],
  probes: [NDA.PROBES, 'NDA_PROBES', u32],
});

/** Write an ndmsg and the attributes of `m` into `w`, in the order of iproute2's `ip neigh` or (AF_BRIDGE) `bridge fdb`. */
export function encodeNeighMessage(w: AttrWriter, m: NeighMessage): void {
  const at = w.reserve(NDMSG_LEN);
  const dv = w.view();
  dv.setUint8(at, m.family);
  dv.setInt32(at + 4, m.index, true);
  dv.setUint16(at + 8, m.state ?? 0, true);
  dv.setUint8(at + 10, m.flags ?? 0);
  dv.setUint8(at + 11, m.type ?? 0);
  (m.family === AF.BRIDGE ? FDB_FIELDS : FIELDS).encode(w, m);
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
  FIELDS.decode(attrMap(payload, NDMSG_LEN), m);
  return m;
}
