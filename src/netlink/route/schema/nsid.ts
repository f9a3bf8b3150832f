/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * RTM_NEWNSID / DELNSID / GETNSID bodies: struct rtgenmsg (family u8, padded to 4 bytes, AF_UNSPEC)
 * then NETNSA_* attributes (<linux/net_namespace.h>). An id of -1 is NETNSA_NSID_NOT_ASSIGNED.
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap } from '../../wire/attr.js';
import { FieldTable, s32, u32 } from '../../wire/attr-fields.js';
import { NETNSA } from './constants.js';

const RTGENMSG_LEN = 4;

export interface NsidMessage {
  /** NETNSA_NSID (s32): the id; -1 = not assigned */
  nsid?: number;
  /** NETNSA_FD (u32): the namespace, by an open fd */
  fd?: number;
  /** NETNSA_PID (u32): the namespace, by a process in it */
  pid?: number;
  /** NETNSA_TARGET_NSID (s32): ask about the namespace with this id */
  targetNsid?: number;
  /** NETNSA_CURRENT_NSID (s32): reply field, the id of the current namespace seen from the target */
  currentNsid?: number;
}

/** NETNSA_* attributes, in iproute2's order (FD/PID, then NSID). */
const FIELDS = new FieldTable<NsidMessage>({
  fd: [NETNSA.FD, 'NETNSA_FD', u32],
  pid: [NETNSA.PID, 'NETNSA_PID', u32],
  nsid: [NETNSA.NSID, 'NETNSA_NSID', s32],
  targetNsid: [NETNSA.TARGET_NSID, 'NETNSA_TARGET_NSID', s32],
  currentNsid: [NETNSA.CURRENT_NSID, 'NETNSA_CURRENT_NSID', s32],
});

/** Write a rtgenmsg (AF_UNSPEC) and the attributes of `m` into `w` (iproute2's order: FD/PID, then NSID). */
export function encodeNsidMessage(w: AttrWriter, m: NsidMessage): void {
  w.reserve(RTGENMSG_LEN);
  FIELDS.encode(w, m);
}

/** Decode an RTM_*NSID payload. */
export function decodeNsidMessage(payload: Uint8Array): NsidMessage {
  if (payload.length < RTGENMSG_LEN) throw new DecodeError('rtgenmsg', 0, `needs ${RTGENMSG_LEN} bytes, got ${payload.length}`);
  const m: NsidMessage = {};
  FIELDS.decode(attrMap(payload, RTGENMSG_LEN), m);
  return m;
}
