/**
 * Layer: netlink/conntrack/ops — ctnetlink operations.
 *
 * What this kernel's ctnetlink can filter, found by asking it, not by its version (backports):
 *
 * - filtered dump: a CT_GET dump whose CTA_FILTER flags CTA_PROTO_NUM but carries no
 *   CTA_TUPLE_ORIG. A kernel that reads CTA_FILTER refuses it (EINVAL) before dumping anything;
 *   one that predates it ignores the attribute and dumps, here nothing, since the request also
 *   selects a mark no entry can have (value 1 under mask 0).
 * - filtered flush (asked only when the dump filters, so the kernel also knows the mark filter):
 *   the same attributes on a CT_DELETE with no tuple, i.e. a flush. A kernel that filters
 *   flushes refuses the incomplete filter (EINVAL); one that does not answers EOPNOTSUPP ("if
 *   (cda[CTA_FILTER]) return -EOPNOTSUPP" in ctnetlink_flush_conntrack). Neither deletes
 *   anything, and the impossible mark keeps it so should a kernel ignore CTA_FILTER on a flush.
 */
import { NetlinkError } from '../../../errors.js';
import type { NetlinkSocket, RequestOptions } from '../../socket.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { NFPROTO } from '../../wire/nfgen.js';
import { ctnlType } from '../family.js';
import { IPCTNL_MSG } from '../schema/constants.js';
import { CTA_FILTER_FLAG } from '../schema/filter.js';
import { encodeCtMessage, type CtMessage } from '../schema/message.js';

/** What the kernel's ctnetlink can filter. */
export interface ConntrackCapabilities {
  /** Dumps take CTA_FILTER (protocol, ports, … compared in the kernel). */
  filteredDump: boolean;
  /** Flushes take CTA_FILTER: one request deletes every entry of a protocol and port. */
  filteredFlush: boolean;
}

/** A request that selects nothing and flags a tuple field without a tuple: EINVAL where CTA_FILTER is read. */
const INCOMPLETE_FILTER: CtMessage = {
  family: NFPROTO.IPV4,
  mark: 1,
  markMask: 0,
  filter: { orig: CTA_FILTER_FLAG.CTA_PROTO_NUM },
};

/** true when the kernel refused the incomplete filter (it read it), false when it ignored or declined it. */
async function refusesIncompleteFilter(attempt: Promise<unknown>): Promise<boolean> {
  try {
    await attempt;
    return false;
  } catch (err) {
    if (err instanceof NetlinkError && err.code === 'EINVAL') return true;
    if (err instanceof NetlinkError && err.code === 'EOPNOTSUPP') return false;
    throw err;
  }
}

/** Ask the kernel behind `socket` what it can filter (two requests at most, nothing changed). */
export async function probeCapabilities(socket: NetlinkSocket, req?: RequestOptions): Promise<ConntrackCapabilities> {
  const dump = (w: AttrWriter): void => encodeCtMessage(w, INCOMPLETE_FILTER);
  const flush = (w: AttrWriter): void => encodeCtMessage(w, { ...INCOMPLETE_FILTER, version: 1 }); // a flush of IPv4 only
  const filteredDump = await refusesIncompleteFilter(socket.dump(ctnlType(IPCTNL_MSG.CT_GET), dump, () => undefined, req));
  const filteredFlush = filteredDump && (await refusesIncompleteFilter(socket.request(ctnlType(IPCTNL_MSG.CT_DELETE), 0, flush, undefined, req)));
  return { filteredDump, filteredFlush };
}
