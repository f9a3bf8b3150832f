/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The frame of an nf_tables transaction: NFNL_MSG_BATCH_BEGIN and NFNL_MSG_BATCH_END, each an
 * nfgenmsg with family 0 and res_id NFNL_SUBSYS_NFTABLES (the subsystem the batch is for), BEGIN
 * optionally carrying NFNL_BATCH_GENID: the generation the transaction was computed against.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap } from '../../wire/attr.js';
import { be32 } from '../../wire/attr-fields.js';
import { NFNL_BATCH, NFNL_SUBSYS, NFPROTO } from './constants.js';
import { NFGENMSG_LEN, readNfgenmsg, writeNfgenmsg } from './nfgenmsg.js';

/** What BATCH_BEGIN carries. */
export interface BatchBegin {
  /** res_id: the subsystem (NFNL_SUBSYS_NFTABLES) */
  subsystem: number;
  /** NFNL_BATCH_GENID: commit only if the ruleset is still at this generation (else ERESTART) */
  genid?: number;
}

/** The body of BATCH_BEGIN for nf_tables, with the generation id to check when given. */
export function encodeBatchBegin(w: AttrWriter, genid?: number): void {
  writeNfgenmsg(w, NFPROTO.UNSPEC, NFNL_SUBSYS.NFTABLES);
  if (genid !== undefined) be32.write(w, NFNL_BATCH.GENID, genid);
}

/** The body of BATCH_END for nf_tables. */
export function encodeBatchEnd(w: AttrWriter): void {
  writeNfgenmsg(w, NFPROTO.UNSPEC, NFNL_SUBSYS.NFTABLES);
}

/** Decode a BATCH_BEGIN (or BATCH_END) body. */
export function decodeBatchBegin(payload: Uint8Array): BatchBegin {
  const { resId } = readNfgenmsg(payload);
  const out: BatchBegin = { subsystem: resId };
  const genid = attrMap(payload, NFGENMSG_LEN).get(NFNL_BATCH.GENID);
  if (genid !== undefined) out.genid = be32.read(genid, 'NFNL_BATCH_GENID')!;
  return out;
}
