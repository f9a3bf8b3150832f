/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * RTM_NEWNSID / DELNSID / GETNSID bodies: struct rtgenmsg (family u8, padded to 4 bytes, AF_UNSPEC)
 * then NETNSA_* attributes (<linux/net_namespace.h>). An id of -1 is NETNSA_NSID_NOT_ASSIGNED.
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readS32, readU32 } from '../../wire/attr.js';
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

/** Write a rtgenmsg (AF_UNSPEC) and the attributes of `m` into `w` (iproute2's order: FD/PID, then NSID). */
export function encodeNsidMessage(w: AttrWriter, m: NsidMessage): void {
  w.reserve(RTGENMSG_LEN);
  if (m.fd !== undefined) w.u32(NETNSA.FD, m.fd);
  if (m.pid !== undefined) w.u32(NETNSA.PID, m.pid);
  if (m.nsid !== undefined) w.s32(NETNSA.NSID, m.nsid);
  if (m.targetNsid !== undefined) w.s32(NETNSA.TARGET_NSID, m.targetNsid);
  if (m.currentNsid !== undefined) w.s32(NETNSA.CURRENT_NSID, m.currentNsid);
}

/** Decode an RTM_*NSID payload. */
export function decodeNsidMessage(payload: Uint8Array): NsidMessage {
  if (payload.length < RTGENMSG_LEN) throw new DecodeError('rtgenmsg', 0, `needs ${RTGENMSG_LEN} bytes, got ${payload.length}`);
  const a = attrMap(payload, RTGENMSG_LEN);
  const m: NsidMessage = {};
  const nsid = a.get(NETNSA.NSID);
  if (nsid !== undefined) m.nsid = readS32(nsid, 'NETNSA_NSID');
  const fd = a.get(NETNSA.FD);
  if (fd !== undefined) m.fd = readU32(fd, 'NETNSA_FD');
  const pid = a.get(NETNSA.PID);
  if (pid !== undefined) m.pid = readU32(pid, 'NETNSA_PID');
  const target = a.get(NETNSA.TARGET_NSID);
  if (target !== undefined) m.targetNsid = readS32(target, 'NETNSA_TARGET_NSID');
  const current = a.get(NETNSA.CURRENT_NSID);
  if (current !== undefined) m.currentNsid = readS32(current, 'NETNSA_CURRENT_NSID');
  return m;
}
