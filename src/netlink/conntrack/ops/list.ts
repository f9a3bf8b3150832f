/**
 * Layer: netlink/conntrack/ops — ctnetlink operations.
 *
 * `conntrack -L`: the entries a filter selects, by one or two CT_GET dumps that the kernel
 * narrows as far as it can (filter.ts), each reply decoded and the filter applied to it.
 */
import type { NetlinkSocket, RequestOptions } from '../../socket.js';
import { ctnlType } from '../family.js';
import { IPCTNL_MSG } from '../schema/constants.js';
import { decodeCtMessage, encodeCtMessage } from '../schema/message.js';
import { entryOf, type ConntrackEntry } from './entry.js';
import { dumpRequests, matchesFilter, type CheckedFilter } from './filter.js';

const CT_NEW = ctnlType(IPCTNL_MSG.CT_NEW);

/**
 * The entries `filter` selects, in the kernel's order (dump by dump). `kernelFilter`: the kernel
 * applies CTA_FILTER to dumps (probe.ts).
 */
export async function listEntries(socket: NetlinkSocket, filter: CheckedFilter, kernelFilter: boolean, req?: RequestOptions): Promise<ConntrackEntry[]> {
  const out: ConntrackEntry[] = [];
  for (const request of dumpRequests(filter, kernelFilter)) {
    const entries = await socket.dump(ctnlType(IPCTNL_MSG.CT_GET), (w) => encodeCtMessage(w, request), (m) => {
      if (m.type !== CT_NEW) return undefined;
      const e = entryOf(decodeCtMessage(m.payload));
      return matchesFilter(e, filter) ? e : undefined;
    }, req);
    out.push(...entries);
  }
  return out;
}
