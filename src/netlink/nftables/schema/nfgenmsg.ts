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
import { NFPROTO, decodeNfgenmsg, encodeNfgenmsg } from '../../wire/nfgen.js';

export { NFGENMSG_LEN, type Nfgenmsg } from '../../wire/nfgen.js';

/** A netfilter family, as nft spells it. */
export type NftFamily = 'unspec' | 'inet' | 'ip' | 'ip6' | 'arp' | 'bridge' | 'netdev';

/** NftFamily <-> NFPROTO_*. */
export const NFT_FAMILIES = enumCodec<NftFamily>({
  unspec: NFPROTO.UNSPEC, inet: NFPROTO.INET, ip: NFPROTO.IPV4, ip6: NFPROTO.IPV6, arp: NFPROTO.ARP, bridge: NFPROTO.BRIDGE, netdev: NFPROTO.NETDEV,
});

/** Write a struct nfgenmsg: `family` (NFPROTO_*), version 0, `resId` in network order (netlink/wire/nfgen.ts). */
export function writeNfgenmsg(w: AttrWriter, family: number, resId = 0): void {
  encodeNfgenmsg(w, { family, resId });
}

/** Write the nfgenmsg of an nf_tables object message of `family`. */
export function writeFamily(w: AttrWriter, family: NftFamily): void {
  writeNfgenmsg(w, NFT_FAMILIES.encode(family, 'nf_tables family'));
}

/** Read the nfgenmsg at the start of a message payload; DecodeError when it is shorter. */
export const readNfgenmsg = decodeNfgenmsg;

/** The family of an nf_tables object message; DecodeError for an NFPROTO nsbox does not know. */
export function readFamily(payload: Uint8Array): NftFamily {
  const { family } = readNfgenmsg(payload);
  const name = NFT_FAMILIES.decode(family);
  if (name === undefined) throw new DecodeError('nfgenmsg', 0, `unknown netfilter family ${family}`);
  return name;
}
