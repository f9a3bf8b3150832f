/**
 * Test helper: raw nf_tables messages for tests of NetlinkSocket.requestBatch itself (the fake
 * kernel of fake-nfnetlink.ts, and the real one): tables by name, framed by BATCH_BEGIN and
 * BATCH_END. Everything nf_tables is src/netlink/nftables' (the family descriptor, constants,
 * nfgenmsg, the batch frame, table messages); this only shapes BatchMessages from it, below the
 * Nft handle, so that the socket's batch semantics are tested on their own.
 */
import type { BatchMessage } from '../../src/netlink/batch.js';
import { NLM_F } from '../../src/netlink/wire/header.js';
import type { AttrWriter } from '../../src/netlink/wire/attr.js';
import { NFTABLES, nftMessageType } from '../../src/netlink/nftables/family.js';
import { NFNL_MSG, NFT_MSG, decodeTableMessage, encodeBatchBegin, encodeBatchEnd, encodeTableMessage } from '../../src/netlink/nftables/schema/index.js';

export { NFNL_BATCH, NFNL_MSG, NFNL_SUBSYS, NFT_MSG } from '../../src/netlink/nftables/schema/constants.js';
export { NFGENMSG_LEN } from '../../src/netlink/nftables/schema/nfgenmsg.js';
/** The descriptor under its old name in these tests. */
export const NFNETLINK = NFTABLES;
export const nftType = nftMessageType;

/** BATCH_BEGIN for nf_tables, with a generation id to check when given. No ack unless asked. */
export function batchBegin(options: { genid?: number; ack?: boolean } = {}): BatchMessage {
  return { type: NFNL_MSG.BATCH_BEGIN, ack: options.ack ?? false, body: (w) => encodeBatchBegin(w, options.genid) };
}

/** BATCH_END; acked by default (the kernel acks it only once the transaction is committed). */
export function batchEnd(options: { ack?: boolean } = {}): BatchMessage {
  return { type: NFNL_MSG.BATCH_END, ack: options.ack ?? true, body: encodeBatchEnd };
}

/** The body of a message about table inet NAME. */
export function tableBody(name: string): (w: AttrWriter) => void {
  return (w) => encodeTableMessage(w, { family: 'inet', name });
}

/** NEWTABLE inet NAME (CREATE, and EXCL to fail on an existing one). */
export function newTable(name: string, options: { excl?: boolean; ack?: boolean } = {}): BatchMessage {
  return { type: nftType(NFT_MSG.NEWTABLE), flags: NLM_F.CREATE | (options.excl ? NLM_F.EXCL : 0), ack: options.ack ?? true, body: tableBody(name) };
}

/** DELTABLE inet NAME (ENOENT when it does not exist). */
export function delTable(name: string, options: { ack?: boolean } = {}): BatchMessage {
  return { type: nftType(NFT_MSG.DELTABLE), ack: options.ack ?? true, body: tableBody(name) };
}

/** NFTA_TABLE_NAME of a table message body. */
export function tableName(payload: Uint8Array): string {
  const { name } = decodeTableMessage(payload);
  if (name === undefined) throw new Error('no NFTA_TABLE_NAME');
  return name;
}
