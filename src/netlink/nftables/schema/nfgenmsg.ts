/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * struct nfgenmsg, the 4-byte header after nlmsghdr of every nfnetlink message: the netfilter
 * family (nfgen_family), NFNETLINK_V0, and res_id, big-endian (the subsystem in a batch's frame,
 * 0 on nf_tables objects). Families are named as nft names them ('inet', 'ip', 'ip6' …).
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { enumCodec } from '../../wire/enum-codec.js';
import { NFNETLINK_V0, NFPROTO } from './constants.js';

/** sizeof(struct nfgenmsg). */
export const NFGENMSG_LEN = 4;

/** A netfilter family, as nft spells it. */
export type NftFamily = 'unspec' | 'inet' | 'ip' | 'ip6' | 'arp' | 'bridge' | 'netdev';

/** NftFamily <-> NFPROTO_*. */
export const NFT_FAMILIES = enumCodec<NftFamily>({
  unspec: NFPROTO.UNSPEC, inet: NFPROTO.INET, ip: NFPROTO.IPV4, ip6: NFPROTO.IPV6, arp: NFPROTO.ARP, bridge: NFPROTO.BRIDGE, netdev: NFPROTO.NETDEV,
});

/** Write a struct nfgenmsg: `family` (NFPROTO_*), version 0, `resId` in network order. */
export function writeNfgenmsg(w: AttrWriter, family: number, resId = 0): void {
  const at = w.reserve(NFGENMSG_LEN);
  const dv = w.view();
  dv.setUint8(at, family);
  dv.setUint8(at + 1, NFNETLINK_V0);
  dv.setUint16(at + 2, resId, false);
}

/** Write the nfgenmsg of an nf_tables object message of `family`. */
export function writeFamily(w: AttrWriter, family: NftFamily): void {
  writeNfgenmsg(w, NFT_FAMILIES.encode(family, 'nf_tables family'));
}

export interface Nfgenmsg {
  /** nfgen_family (NFPROTO_*) */
  family: number;
  version: number;
  /** res_id, read in network order */
  resId: number;
}

/** Read the nfgenmsg at the start of a message payload; DecodeError when it is shorter. */
export function readNfgenmsg(payload: Uint8Array): Nfgenmsg {
  if (payload.length < NFGENMSG_LEN) throw new DecodeError('nfgenmsg', 0, `needs ${NFGENMSG_LEN} bytes, got ${payload.length}`);
  return { family: payload[0]!, version: payload[1]!, resId: (payload[2]! << 8) | payload[3]! };
}

/** The family of an nf_tables object message; DecodeError for an NFPROTO nsbox does not know. */
export function readFamily(payload: Uint8Array): NftFamily {
  const { family } = readNfgenmsg(payload);
  const name = NFT_FAMILIES.decode(family);
  if (name === undefined) throw new DecodeError('nfgenmsg', 0, `unknown netfilter family ${family}`);
  return name;
}
