/**
 * Layer: netlink/conntrack/ops — ctnetlink operations.
 *
 * Deleting entries: one by its key (`conntrack -D` of one tuple), many at once (several
 * CT_DELETE in each datagram, one ack each: what conntrack-tools sends one datagram at a time),
 * and a filtered flush (one CT_DELETE without a tuple whose CTA_FILTER the kernel applies to the
 * whole table). An entry that is gone by the time its delete arrives — it expired, someone else
 * deleted it, or it was replaced by a newer one with the same tuple (CTA_ID differs) — is
 * ENOENT, and that is success: what was asked for is true.
 */
import { NetlinkError } from '../../../errors.js';
import type { NetlinkSocket, RequestOptions } from '../../socket.js';
import type { BatchMessage } from '../../batch.js';
import { NFPROTO } from '../../wire/nfgen.js';
import { ctnlType } from '../family.js';
import { IPCTNL_MSG } from '../schema/constants.js';
import { encodeCtMessage } from '../schema/message.js';
import { keyMessage, type ConntrackKey } from './entry.js';
import { tupleFilter } from './filter.js';

/** How many CT_DELETE go in one datagram: ~80–110 bytes each, their acks 36 bytes each. */
export const DELETE_BATCH_SIZE = 256;

/** What a deleteWhere did. */
export interface ConntrackDeleteReport {
  /** Entries this call deleted. */
  deleted: number;
  /** Entries the filter selected that were gone when their delete arrived (ENOENT). */
  alreadyGone: number;
}

const GONE = 'gone';
const goneWhenMissing = (err: NetlinkError): typeof GONE | undefined => (err.code === 'ENOENT' ? GONE : undefined);

/** The CT_DELETE of `key`'s entry, with ENOENT as a result. TypeError for an invalid key. */
function deleteMessage(key: ConntrackKey): BatchMessage<typeof GONE> {
  const m = keyMessage(key);
  return { type: ctnlType(IPCTNL_MSG.CT_DELETE), body: (w) => encodeCtMessage(w, m), tolerate: goneWhenMissing };
}

/** Delete one entry: true when this call deleted it, false when it was gone already. */
export async function deleteEntry(socket: NetlinkSocket, key: ConntrackKey, req?: RequestOptions): Promise<boolean> {
  const m = keyMessage(key);
  try {
    await socket.request(ctnlType(IPCTNL_MSG.CT_DELETE), 0, (w) => encodeCtMessage(w, m), undefined, req);
    return true;
  } catch (err) {
    if (err instanceof NetlinkError && goneWhenMissing(err) === GONE) return false;
    throw err;
  }
}

/** Delete every entry of `keys`, DELETE_BATCH_SIZE to a datagram; ENOENT counts as gone. */
export async function deleteEntries(socket: NetlinkSocket, keys: readonly ConntrackKey[], req?: RequestOptions): Promise<ConntrackDeleteReport> {
  const messages = keys.map(deleteMessage); // every key checked before anything is sent
  const report: ConntrackDeleteReport = { deleted: 0, alreadyGone: 0 };
  for (let at = 0; at < messages.length; at += DELETE_BATCH_SIZE) {
    for (const results of await socket.requestBatch(messages.slice(at, at + DELETE_BATCH_SIZE), req)) {
      if (results.length === 0) report.deleted++;
      else report.alreadyGone++;
    }
  }
  return report;
}

/**
 * One filtered flush per family of `families`: the kernel deletes every entry of protocol
 * `protoNum` (and original destination port `port`) in one pass and counts nothing. For a kernel
 * whose flush reads CTA_FILTER (probe.ts), which then takes CTA_TUPLE_ORIG for the filter's
 * tuple; another takes the request for the delete of one entry and refuses it (EINVAL: the tuple
 * has no addresses), deleting nothing.
 */
export async function flushFiltered(
  socket: NetlinkSocket,
  families: readonly (4 | 6)[],
  protoNum: number,
  port: number | undefined,
  req?: RequestOptions,
): Promise<void> {
  for (const family of families) {
    const m = tupleFilter(family === 4 ? NFPROTO.IPV4 : NFPROTO.IPV6, protoNum, port, 1);
    await socket.request(ctnlType(IPCTNL_MSG.CT_DELETE), 0, (w) => encodeCtMessage(w, m), undefined, req);
  }
}
