/**
 * Test helper: a fake kernel that answers ctnetlink as net/netfilter/nf_conntrack_netlink.c does,
 * over a table of entries, for a kernel that reads CTA_FILTER on dumps and flushes, on dumps
 * only, or not at all:
 *
 * - CT_GET dump: nfgen_family and CTA_MARK/CTA_MARK_MASK select; CTA_FILTER (when read) compares
 *   the flagged CTA_TUPLE_ORIG fields (protocol, ports), a flag without a tuple is EINVAL; the
 *   replies of a filtered dump carry NLM_F_DUMP_FILTERED; a kernel that does not read
 *   CTA_FILTER ignores it;
 * - CT_DELETE with CTA_TUPLE_ORIG (and no CTA_FILTER where the flush reads it): that entry (its
 *   CTA_ID must match when given), else ENOENT; an incomplete tuple is EINVAL;
 * - CT_DELETE without a tuple (or, where the flush reads it, with CTA_FILTER): a flush; with
 *   CTA_FILTER where the flush does not read it, EOPNOTSUPP.
 *
 * Each answer is its own datagram (a dump's replies and its NLMSG_DONE one more).
 */
import { errnoNumber } from '../../src/errno.js';
import { NLM_F } from '../../src/netlink/wire/header.js';
import type { NlMessage } from '../../src/netlink/wire/message.js';
import { NFPROTO } from '../../src/netlink/wire/nfgen.js';
import { ctnlType } from '../../src/netlink/conntrack/family.js';
import { IPCTNL_MSG } from '../../src/netlink/conntrack/schema/constants.js';
import { CTA_FILTER_FLAG } from '../../src/netlink/conntrack/schema/filter.js';
import { decodeCtMessage, encodeCtMessage, type CtMessage } from '../../src/netlink/conntrack/schema/message.js';
import type { CtTuple } from '../../src/netlink/conntrack/schema/tuple.js';
import { FakeKernel, ack, done, reply } from './fake-kernel.js';

const errno = (name: string): number => -(errnoNumber(name) ?? 0);

const CT_NEW = ctnlType(IPCTNL_MSG.CT_NEW);
const CT_GET = ctnlType(IPCTNL_MSG.CT_GET);
const CT_DELETE = ctnlType(IPCTNL_MSG.CT_DELETE);

/** What the fake kernel's ctnetlink reads of CTA_FILTER. */
export interface FakeCtCapabilities {
  filteredDump: boolean;
  filteredFlush: boolean;
}

const sameTuple = (a: CtTuple | undefined, b: CtTuple | undefined): boolean =>
  a?.src === b?.src && a?.dst === b?.dst && a?.protoNum === b?.protoNum && a?.srcPort === b?.srcPort && a?.dstPort === b?.dstPort &&
  a?.icmpId === b?.icmpId && a?.icmpType === b?.icmpType && a?.icmpCode === b?.icmpCode;

export class FakeCtnetlink {
  readonly kernel = new FakeKernel();
  /** The conntrack table. */
  entries: CtMessage[];
  readonly reads: FakeCtCapabilities;
  /** Every request decoded, with its type. */
  readonly requests: { type: number; flags: number; message: CtMessage }[] = [];

  constructor(entries: CtMessage[], reads: FakeCtCapabilities = { filteredDump: true, filteredFlush: true }) {
    this.entries = [...entries];
    this.reads = reads;
    this.kernel.answer = (req) => this.#answer(req);
  }

  #answer(req: NlMessage): Uint8Array[] {
    const m = decodeCtMessage(req.payload);
    this.requests.push({ type: req.type, flags: req.flags, message: m });
    if (req.type === CT_GET && (req.flags & NLM_F.DUMP) === NLM_F.DUMP) return this.#dump(req, m);
    if (req.type === CT_DELETE) return [ack(req, this.#delete(m))];
    return [ack(req, errno('EOPNOTSUPP'))];
  }

  /** ctnetlink_filter_match: family, then the tuple filter, then the mark. */
  #selects(e: CtMessage, m: CtMessage, tupleFilter: boolean): boolean {
    if (m.family !== NFPROTO.UNSPEC && e.family !== m.family) return false;
    const flags = tupleFilter ? m.filter?.orig ?? 0 : 0;
    if (flags & CTA_FILTER_FLAG.CTA_PROTO_NUM && e.orig?.protoNum !== m.orig?.protoNum) return false;
    if (flags & CTA_FILTER_FLAG.CTA_PROTO_DST_PORT && e.orig?.dstPort !== m.orig?.dstPort) return false;
    if (flags & CTA_FILTER_FLAG.CTA_PROTO_SRC_PORT && e.orig?.srcPort !== m.orig?.srcPort) return false;
    if (m.mark !== undefined && ((e.mark ?? 0) & (m.markMask ?? 0xffffffff)) !== m.mark) return false;
    return true;
  }

  /** ctnetlink_alloc_filter's checks of a CTA_FILTER it reads; 0 when the filter is usable. */
  #checkFilter(m: CtMessage): number {
    if (m.filter === undefined) return 0;
    if (m.family !== NFPROTO.IPV4 && m.family !== NFPROTO.IPV6) return errno('EOPNOTSUPP');
    if ((m.filter.orig ?? 0) !== 0 && m.orig === undefined) return errno('EINVAL');
    return 0;
  }

  #dump(req: NlMessage, m: CtMessage): Uint8Array[] {
    const tupleFilter = this.reads.filteredDump && m.filter !== undefined;
    if (tupleFilter) {
      const err = this.#checkFilter(m);
      if (err !== 0) return [ack(req, err)];
    }
    const filtered = m.family !== NFPROTO.UNSPEC || m.mark !== undefined || tupleFilter;
    const flags = NLM_F.MULTI | (filtered ? NLM_F.DUMP_FILTERED : 0);
    return [
      ...this.entries.filter((e) => this.#selects(e, m, tupleFilter)).map((e) => reply(req, CT_NEW, (w) => encodeCtMessage(w, e), flags)),
      done(req),
    ];
  }

  #delete(m: CtMessage): number {
    const flush = m.filter !== undefined && this.reads.filteredFlush ? true : m.orig === undefined && m.reply === undefined;
    if (!flush) {
      const t = m.orig;
      const complete = t?.src !== undefined && t.dst !== undefined && t.protoNum !== undefined;
      if (!complete) return errno('EINVAL');
      const at = this.entries.findIndex((e) => sameTuple(e.orig, t) && (m.id === undefined || e.id === m.id));
      if (at < 0) return errno('ENOENT');
      this.entries.splice(at, 1);
      return 0;
    }
    if (m.filter !== undefined) {
      if (!this.reads.filteredFlush) return errno('EOPNOTSUPP');
      const err = this.#checkFilter(m);
      if (err !== 0) return err;
    }
    const family = (m.version ?? 0) !== 0 || m.filter !== undefined ? m.family : NFPROTO.UNSPEC;
    this.entries = this.entries.filter((e) => !this.#selects(e, { ...m, family }, true));
    return 0;
  }
}
