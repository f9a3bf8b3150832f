/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * A qdisc's or class's counters in a dump: TCA_STATS2 > TCA_STATS_BASIC (struct
 * gnet_stats_basic, <linux/gen_stats.h>: bytes u64, packets u32; TCA_STATS_PKT64 past 2^32) and TCA_STATS_QUEUE (struct
 * gnet_stats_queue: qlen, backlog, drops, requeues, overlimits, u32 each), what `tc -s` prints as
 * "Sent N bytes M pkt (dropped D, overlimits O requeues R) backlog Bb Qp". Other TCA_STATS_*
 * (rate estimators, the kind's TCA_STATS_APP) are not decoded.
 */
import { attrMap, readU64 } from '../../wire/attr.js';
import { TCA_STATS } from './constants.js';
import { structView } from './tc-rate.js';

export interface TcStats {
  bytes: number;
  packets: number;
  qlen: number;
  backlog: number;
  drops: number;
  requeues: number;
  overlimits: number;
}

const TWO_32 = 2 ** 32;

/** Decode a TCA_STATS2 nest; counters absent from it read 0. */
export function decodeTcStats2(v: Uint8Array): TcStats {
  const a = attrMap(v);
  const out: TcStats = { bytes: 0, packets: 0, qlen: 0, backlog: 0, drops: 0, requeues: 0, overlimits: 0 };
  const basic = a.get(TCA_STATS.BASIC);
  if (basic !== undefined) {
    const dv = structView(basic, 12, 'TCA_STATS_BASIC');
    out.bytes = dv.getUint32(0, true) + dv.getUint32(4, true) * TWO_32;
    out.packets = dv.getUint32(8, true);
  }
  const pkt64 = a.get(TCA_STATS.PKT64);
  if (pkt64 !== undefined) out.packets = Number(readU64(pkt64, 'TCA_STATS_PKT64'));
  const queue = a.get(TCA_STATS.QUEUE);
  if (queue !== undefined) {
    const dv = structView(queue, 20, 'TCA_STATS_QUEUE');
    out.qlen = dv.getUint32(0, true);
    out.backlog = dv.getUint32(4, true);
    out.drops = dv.getUint32(8, true);
    out.requeues = dv.getUint32(12, true);
    out.overlimits = dv.getUint32(16, true);
  }
  return out;
}
