/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * pfifo and bfifo: TCA_OPTIONS is struct tc_fifo_qopt itself (<linux/pkt_sched.h>: limit u32,
 * packets for pfifo, bytes for bfifo), not a nest; tc sends it only when a limit is given.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { TCA } from './constants.js';
import { structView } from './tc-rate.js';

export interface FifoOptions {
  kind: 'pfifo' | 'bfifo';
  /** Packets (pfifo) or bytes (bfifo); default the link's txqueuelen (× mtu for bfifo). */
  limit?: number;
}

export function encodeFifoOptions(w: AttrWriter, o: FifoOptions): void {
  if (o.limit === undefined) return;
  if (!Number.isInteger(o.limit) || o.limit < 0 || o.limit > 0xffffffff) throw new TypeError(`${o.kind} limit must be a u32, got ${o.limit}`);
  const v = new Uint8Array(4);
  new DataView(v.buffer).setUint32(0, o.limit, true);
  w.bytes(TCA.OPTIONS, v);
}

export function decodeFifoOptions(kind: 'pfifo' | 'bfifo', v: Uint8Array): FifoOptions {
  return { kind, limit: structView(v, 4, 'tc_fifo_qopt').getUint32(0, true) };
}
