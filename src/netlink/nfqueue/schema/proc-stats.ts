/**
 * Layer: netlink/nfqueue/schema — nfnetlink_queue schema, pure.
 *
 * /proc/net/netfilter/nfnetlink_queue, one line per bound queue of the reading thread's network
 * namespace (net/netfilter/nfnetlink_queue.c, seq_show): queue_num, peer_portid, queue_total,
 * copy_mode, copy_range, queue_dropped, queue_user_dropped, id_sequence, and a constant 1.
 */
import { DecodeError } from '../../../errors.js';

export interface NfqProcStats {
  queue: number;
  /** The netlink port id of the socket bound to the queue */
  portId: number;
  /** Packets the kernel holds for userspace right now */
  queueTotal: number;
  copyMode: number;
  copyRange: number;
  /** Dropped (or accepted, with FAIL_OPEN) because the queue was at its maxlen */
  queueDropped: number;
  /** Dropped because the message could not be delivered (the socket's receive buffer was full) */
  userDropped: number;
  /** The last packet id given out */
  idSequence: number;
}

/** Every line of the file. DecodeError for a line that is not nine numbers. */
export function parseNfqProcStats(text: string): NfqProcStats[] {
  const out: NfqProcStats[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const f = line.trim().split(/\s+/).map(Number);
    if (f.length < 8 || f.some((x) => !Number.isInteger(x))) throw new DecodeError('nfnetlink_queue', i, `line ${JSON.stringify(line)}`);
    out.push({
      queue: f[0]!, portId: f[1]!, queueTotal: f[2]!, copyMode: f[3]!, copyRange: f[4]!, queueDropped: f[5]!, userDropped: f[6]!, idSequence: f[7]!,
    });
  }
  return out;
}
