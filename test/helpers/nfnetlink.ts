/**
 * Test helper: just enough nfnetlink (NETLINK_NETFILTER) to drive nf_tables transactions
 * through NetlinkSocket.requestBatch, for the fake kernel and the real one: a family descriptor,
 * the batch framing (BATCH_BEGIN with res_id NFNL_SUBSYS_NFTABLES, BATCH_END) and tables by name.
 * Numbers from <linux/netfilter/nfnetlink.h> and <linux/netfilter/nf_tables.h>. The nf_tables
 * client proper will be a family of its own under src/netlink/.
 */
import type { NetlinkFamily } from '../../src/netlink/family.js';
import type { BatchMessage } from '../../src/netlink/batch.js';
import { NLM_F } from '../../src/netlink/wire/header.js';
import { decodeAttrs, readString, type AttrWriter } from '../../src/netlink/wire/attr.js';

export const NETLINK_NETFILTER = 12;
export const NFNL_SUBSYS_NFTABLES = 10;
/** nfnetlink's own messages, outside any subsystem. */
export const NFNL_MSG = { BATCH_BEGIN: 0x10, BATCH_END: 0x11 } as const;
/** nf_tables messages (NFT_MSG_*), the low byte of the type under NFNL_SUBSYS_NFTABLES. */
export const NFT_MSG = { NEWTABLE: 0, GETTABLE: 1, DELTABLE: 2 } as const;
export const NFTA_TABLE_NAME = 1;
/** NFNL_BATCH_GENID: BATCH_BEGIN's optional generation id (be32). */
export const NFNL_BATCH_GENID = 1;
export const NFPROTO_INET = 1;
/** sizeof(struct nfgenmsg). */
export const NFGENMSG_LEN = 4;

/** The nlmsg_type of an nf_tables message. */
export function nftType(msg: number): number {
  return (NFNL_SUBSYS_NFTABLES << 8) | msg;
}

const NAMES = new Map<number, string>([
  ...Object.entries(NFNL_MSG).map(([k, v]) => [v, `NFNL_MSG_${k}`] as const),
  ...Object.entries(NFT_MSG).map(([k, v]) => [nftType(v), `NFT_MSG_${k}`] as const),
]);

/** nfnetlink as far as these tests speak it. */
export const NFNETLINK: NetlinkFamily = { name: 'nfnetlink', protocol: NETLINK_NETFILTER, messageName: (type) => NAMES.get(type) };

/** struct nfgenmsg: nfgen_family, version NFNETLINK_V0, res_id in network order. */
export function writeNfgenmsg(w: AttrWriter, family: number, resId = 0): void {
  const at = w.reserve(NFGENMSG_LEN);
  w.view().setUint8(at, family);
  w.view().setUint16(at + 2, resId, false);
}

/** BATCH_BEGIN for nf_tables, with a generation id to check when given. No ack unless asked. */
export function batchBegin(options: { genid?: number; ack?: boolean } = {}): BatchMessage {
  return {
    type: NFNL_MSG.BATCH_BEGIN,
    ack: options.ack ?? false,
    body: (w) => {
      writeNfgenmsg(w, 0, NFNL_SUBSYS_NFTABLES);
      if (options.genid !== undefined) w.be32(NFNL_BATCH_GENID, options.genid);
    },
  };
}

/** BATCH_END; acked by default (the kernel acks it only once the transaction is committed). */
export function batchEnd(options: { ack?: boolean } = {}): BatchMessage {
  return { type: NFNL_MSG.BATCH_END, ack: options.ack ?? true, body: (w) => writeNfgenmsg(w, 0, NFNL_SUBSYS_NFTABLES) };
}

/** The body of a message about table inet NAME: nfgenmsg and NFTA_TABLE_NAME. */
export function tableBody(name: string): (w: AttrWriter) => void {
  return (w) => { writeNfgenmsg(w, NFPROTO_INET); w.string(NFTA_TABLE_NAME, name); };
}

/** NEWTABLE inet NAME (CREATE, and EXCL to fail on an existing one). */
export function newTable(name: string, options: { excl?: boolean; ack?: boolean } = {}): BatchMessage {
  return {
    type: nftType(NFT_MSG.NEWTABLE),
    flags: NLM_F.CREATE | (options.excl ? NLM_F.EXCL : 0),
    ack: options.ack ?? true,
    body: tableBody(name),
  };
}

/** DELTABLE inet NAME (ENOENT when it does not exist). */
export function delTable(name: string, options: { ack?: boolean } = {}): BatchMessage {
  return {
    type: nftType(NFT_MSG.DELTABLE),
    ack: options.ack ?? true,
    body: tableBody(name),
  };
}

/** The attributes after the nfgenmsg of an nfnetlink message body. */
export function nfAttrs(payload: Uint8Array): Map<number, Uint8Array> {
  return new Map(decodeAttrs(payload, NFGENMSG_LEN).map((a) => [a.type, a.value]));
}

/** NFTA_TABLE_NAME of a table message body. */
export function tableName(payload: Uint8Array): string {
  const value = nfAttrs(payload).get(NFTA_TABLE_NAME);
  if (value === undefined) throw new Error('no NFTA_TABLE_NAME');
  return readString(value, 'NFTA_TABLE_NAME');
}
