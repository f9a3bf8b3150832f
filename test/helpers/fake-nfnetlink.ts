/**
 * Test helper: a fake kernel that handles nf_tables batches the way nfnetlink does
 * (net/netfilter/nfnetlink.c, nfnetlink_rcv_batch), over tables by name only:
 *
 * - the whole datagram is one transaction from BATCH_BEGIN to BATCH_END, applied all or nothing;
 * - every message is processed even after one failed, and the answers (an error for any message
 *   that failed, a 0 ack for any other that asked) are queued and delivered only after the batch;
 * - a failed commit, a bad res_id or a stale generation id is reported against BATCH_BEGIN,
 *   first; BATCH_END is acked (last) only when the transaction was committed.
 *
 * Each answer is its own datagram, as netlink_ack sends them.
 */
import { NLM_F } from '../../src/netlink/wire/header.js';
import type { NlMessage } from '../../src/netlink/wire/message.js';
import { errnoNumber } from '../../src/errno.js';
import { FakeKernel, ack } from './fake-kernel.js';
import { decodeBatchBegin } from '../../src/netlink/nftables/schema/index.js';
import { NFNL_MSG, NFNL_SUBSYS, NFT_MSG, nftType, tableName } from './nfnetlink.js';

const errno = (name: string): number => -(errnoNumber(name) ?? 0);

export class FakeNfTables {
  readonly kernel = new FakeKernel();
  /** The committed tables. */
  tables = new Set<string>();
  /** The generation id: bumped by every committed transaction. */
  genid = 1;
  /** When set, the next commit fails with this errno name (as a commit-time error would). */
  failCommit: string | undefined;

  constructor() {
    this.kernel.answerDatagram = (msgs) => this.#receive(msgs);
  }

  #receive(msgs: NlMessage[]): Uint8Array[] {
    const [begin, ...rest] = msgs;
    if (begin === undefined || begin.type !== NFNL_MSG.BATCH_BEGIN) return msgs.map((m) => ack(m, errno('EINVAL')));
    const { subsystem, genid } = decodeBatchBegin(begin.payload);
    if (subsystem !== NFNL_SUBSYS.NFTABLES) return [ack(begin, errno('EINVAL'))];
    if (genid !== undefined && genid !== this.genid) return [ack(begin, errno('ERESTART'))];

    const working = new Set(this.tables);
    const queued: Uint8Array[] = [];
    let failed = false;
    let end: NlMessage | undefined;
    for (const m of rest) {
      if (m.type === NFNL_MSG.BATCH_END) {
        end = m;
        break;
      }
      const err = this.#apply(m, working);
      if (err !== 0 || (m.flags & NLM_F.ACK) !== 0) queued.push(ack(m, err, err === 0 ? undefined : { message: `fake nf_tables: ${tableName(m.payload)}` }));
      if (err !== 0) failed = true;
    }
    if (end === undefined || failed) return queued; // aborted: nothing applied
    if (this.failCommit !== undefined) {
      const name = this.failCommit;
      this.failCommit = undefined;
      return [ack(begin, errno(name)), ...queued];
    }
    this.tables = working;
    this.genid++;
    if ((end.flags & NLM_F.ACK) !== 0) queued.push(ack(end));
    return queued;
  }

  #apply(m: NlMessage, tables: Set<string>): number {
    const name = tableName(m.payload);
    if (m.type === nftType(NFT_MSG.NEWTABLE)) {
      if (tables.has(name)) return (m.flags & NLM_F.EXCL) !== 0 ? errno('EEXIST') : 0;
      tables.add(name);
      return 0;
    }
    if (m.type === nftType(NFT_MSG.DELTABLE)) return tables.delete(name) ? 0 : errno('ENOENT');
    return errno('EINVAL');
  }
}
