/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * veth (<linux/veth.h>): IFLA_INFO_DATA holds VETH_INFO_PEER, which is a whole ifinfomsg followed
 * by IFLA_* attributes for the other end. The kernel only reads it on create; dumps never carry it
 * (the peer shows up as IFLA_LINK / IFLA_LINK_NETNSID instead).
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readMac, readString, readU32 } from '../../wire/attr.js';
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

/** Write the contents of IFLA_INFO_DATA for a veth. Attribute order follows iproute2. */
export function encodeVethData(w: AttrWriter, info: VethInfo): void {
  const p = info.peer;
  if (p === undefined) return;
  w.nest(VETH_INFO.PEER, () => {
    encodeIfinfomsg(w, { index: p.index ?? 0, flags: p.flags ?? 0, change: p.change ?? 0 });
    if (p.mtu !== undefined) w.u32(IFLA.MTU, p.mtu);
    if (p.numTxQueues !== undefined) w.u32(IFLA.NUM_TX_QUEUES, p.numTxQueues);
    if (p.numRxQueues !== undefined) w.u32(IFLA.NUM_RX_QUEUES, p.numRxQueues);
    if (p.address !== undefined) w.mac(IFLA.ADDRESS, p.address);
    if (p.netnsFd !== undefined) w.u32(IFLA.NET_NS_FD, p.netnsFd);
    if (p.name !== undefined) w.string(IFLA.IFNAME, p.name);
  });
}

/** Decode a veth's IFLA_INFO_DATA. */
export function decodeVethData(data: Uint8Array): VethInfo {
  const info: VethInfo = { kind: 'veth' };
  const peerBytes = attrMap(data).get(VETH_INFO.PEER);
  if (peerBytes === undefined) return info;
  const h = decodeIfinfomsg(peerBytes, 'VETH_INFO_PEER');
  const a = attrMap(peerBytes, IFINFOMSG_LEN);
  const peer: VethPeer = {};
  const name = a.get(IFLA.IFNAME);
  if (name !== undefined) peer.name = readString(name, 'IFLA_IFNAME');
  if (h.index !== 0) peer.index = h.index;
  const fd = a.get(IFLA.NET_NS_FD);
  if (fd !== undefined) peer.netnsFd = readU32(fd, 'IFLA_NET_NS_FD');
  const address = a.get(IFLA.ADDRESS);
  if (address !== undefined && address.length > 0) peer.address = readMac(address, 'IFLA_ADDRESS');
  const mtu = a.get(IFLA.MTU);
  if (mtu !== undefined) peer.mtu = readU32(mtu, 'IFLA_MTU');
  const tx = a.get(IFLA.NUM_TX_QUEUES);
  if (tx !== undefined) peer.numTxQueues = readU32(tx, 'IFLA_NUM_TX_QUEUES');
  const rx = a.get(IFLA.NUM_RX_QUEUES);
  if (rx !== undefined) peer.numRxQueues = readU32(rx, 'IFLA_NUM_RX_QUEUES');
  if (h.flags !== 0) peer.flags = h.flags;
  if (h.change !== 0) peer.change = h.change;
  info.peer = peer;
  return info;
}
