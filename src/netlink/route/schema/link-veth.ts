/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * veth (<linux/veth.h>): IFLA_INFO_DATA holds VETH_INFO_PEER, which is a whole ifinfomsg followed
 * by IFLA_* attributes for the other end. The kernel only reads it on create; dumps never carry it
 * (the peer shows up as IFLA_LINK / IFLA_LINK_NETNSID instead).
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap } from '../../wire/attr.js';
import { FieldTable, mac, str, u32 } from '../../wire/attr-fields.js';
import { IFLA, VETH_INFO } from './constants.js';
import { IFINFOMSG_LEN, decodeIfinfomsg, encodeIfinfomsg } from './ifinfomsg.js';

/** The other end of a veth pair, as given at creation. `index`, `flags`, `change` are the peer's ifinfomsg fields; decode omits them when 0. */
export interface VethPeer {
  /** IFLA_IFNAME */
  name?: string;
  index?: number;
  /** IFLA_NET_NS_FD: create the peer directly in this namespace */
  netnsFd?: number;
  /** IFLA_ADDRESS */
  address?: string;
  mtu?: number;
  /** IFLA_NUM_TX_QUEUES / IFLA_NUM_RX_QUEUES of the peer (see LinkMessage.numTxQueues). */
  numTxQueues?: number;
  numRxQueues?: number;
  flags?: number;
  change?: number;
}

export interface VethInfo {
  kind: 'veth';
  peer?: VethPeer;
}

/** The peer's IFLA_* attributes after its ifinfomsg, in iproute2's order. */
const PEER_FIELDS = new FieldTable<VethPeer>({
  mtu: [IFLA.MTU, 'IFLA_MTU', u32],
  numTxQueues: [IFLA.NUM_TX_QUEUES, 'IFLA_NUM_TX_QUEUES', u32],
  numRxQueues: [IFLA.NUM_RX_QUEUES, 'IFLA_NUM_RX_QUEUES', u32],
  address: [IFLA.ADDRESS, 'IFLA_ADDRESS', mac],
  netnsFd: [IFLA.NET_NS_FD, 'IFLA_NET_NS_FD', u32],
  name: [IFLA.IFNAME, 'IFLA_IFNAME', str],
});

/** Write the contents of IFLA_INFO_DATA for a veth. Attribute order follows iproute2. */
export function encodeVethData(w: AttrWriter, info: VethInfo): void {
  const p = info.peer;
  if (p === undefined) return;
  w.nest(VETH_INFO.PEER, () => {
    encodeIfinfomsg(w, { index: p.index ?? 0, flags: p.flags ?? 0, change: p.change ?? 0 });
    PEER_FIELDS.encode(w, p);
  });
}

/** Decode a veth's IFLA_INFO_DATA. */
export function decodeVethData(data: Uint8Array): VethInfo {
  const info: VethInfo = { kind: 'veth' };
  const peerBytes = attrMap(data).get(VETH_INFO.PEER);
  if (peerBytes === undefined) return info;
  const h = decodeIfinfomsg(peerBytes, 'VETH_INFO_PEER');
  const peer: VethPeer = {};
  if (h.index !== 0) peer.index = h.index;
  PEER_FIELDS.decode(attrMap(peerBytes, IFINFOMSG_LEN), peer);
  if (h.flags !== 0) peer.flags = h.flags;
  if (h.change !== 0) peer.change = h.change;
  info.peer = peer;
  return info;
}
