/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * The ruleset generation: NFT_MSG_GETGEN (an empty body) is answered with NFT_MSG_NEWGEN,
 * NFTA_GEN_* (the id, which every committed transaction in the namespace bumps, and a pid and
 * process name: in the answer to GETGEN the asking process's own, in the NEWGEN the kernel
 * multicasts after each commit the committer's).
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap } from '../../wire/attr.js';
import { FieldTable, be32, str } from '../../wire/attr-fields.js';
import { DecodeError } from '../../../errors.js';
import { NFPROTO, NFTA_GEN } from './constants.js';
import { NFGENMSG_LEN, readNfgenmsg, writeNfgenmsg } from './nfgenmsg.js';

export interface GenMessage {
  /** NFTA_GEN_ID */
  id: number;
  /** NFTA_GEN_PROC_PID: the asking process (GETGEN's answer) or the committer (a NEWGEN event) */
  pid?: number;
  /** NFTA_GEN_PROC_NAME: that process's command name (comm) */
  procName?: string;
}

const FIELDS = new FieldTable<GenMessage>({
  id: [NFTA_GEN.ID, 'NFTA_GEN_ID', be32],
  pid: [NFTA_GEN.PROC_PID, 'NFTA_GEN_PROC_PID', be32],
  procName: [NFTA_GEN.PROC_NAME, 'NFTA_GEN_PROC_NAME', str],
});

/** The body of GETGEN: an nfgenmsg of family unspec, nothing else. */
export function encodeGetGen(w: AttrWriter): void {
  writeNfgenmsg(w, NFPROTO.UNSPEC);
}

export function encodeGenMessage(w: AttrWriter, m: GenMessage): void {
  writeNfgenmsg(w, NFPROTO.UNSPEC);
  FIELDS.encode(w, m);
}

/** Decode NEWGEN; DecodeError without NFTA_GEN_ID. */
export function decodeGenMessage(payload: Uint8Array): GenMessage {
  readNfgenmsg(payload);
  const m = {} as GenMessage;
  FIELDS.decode(attrMap(payload, NFGENMSG_LEN), m);
  if (m.id === undefined) throw new DecodeError('NFT_MSG_NEWGEN', NFGENMSG_LEN, 'no NFTA_GEN_ID');
  return m;
}
