/**
 * Layer: netlink/conntrack/ops — ctnetlink operations.
 *
 * Which entries a list, deleteWhere or flush is about, and how much of that the kernel can be
 * asked to select. The filter is always applied here to what the kernel returns, so the result
 * is the same whatever the kernel filtered; what the kernel is asked only narrows the dump:
 *
 * - the family, in nfgenmsg (every kernel);
 * - the protocol and the original destination port, as CTA_FILTER flags on CTA_TUPLE_ORIG (a
 *   dump since Linux 5.9, a flush since 6.x; probe.ts tells), one request per family since the
 *   kernel refuses a tuple filter without one;
 * - never addresses: the filter wants an entry that has one of them anywhere (either end of
 *   either direction), which CTA_FILTER (every flagged field equal) cannot say; and on Linux 6.18
 *   the kernel's IPv6 address comparison is inverted (ipv6_addr_cmp used as a boolean in
 *   ctnetlink_filter_match_tuple: an equal address is dropped, measured), so no IPv6 address is
 *   ever sent as a filter.
 */
import { decodeIp, encodeIp } from '../../../net/ip.js';
import { parseIp } from '../../../net/cidr.js';
import { NFPROTO } from '../../wire/nfgen.js';
import type { CtMessage } from '../schema/message.js';
import { CTA_FILTER_FLAG } from '../schema/filter.js';
import { protocolNumber, type ConntrackEntry, type ConntrackProtocol } from './entry.js';

/** Which entries to list or delete. Every field given must match; an empty filter matches all. */
export interface ConntrackFilter {
  family?: 4 | 6;
  /** The layer-4 protocol, by name or IPPROTO number. */
  proto?: ConntrackProtocol;
  /** The original direction's destination port: the port the client asked for (a published host port). */
  origDstPort?: number;
  /** Entries that have one of these addresses as the source or destination of either direction (a sandbox's addresses). */
  addresses?: readonly string[];
}

/** A filter the kernel can apply exactly, for a flush: family, protocol and original destination port. */
export interface ConntrackFlushFilter {
  family?: 4 | 6;
  proto: ConntrackProtocol;
  origDstPort?: number;
}

/** A filter checked and in the form matching needs. */
export interface CheckedFilter {
  family: 4 | 6 | undefined;
  protoNum: number | undefined;
  origDstPort: number | undefined;
  /** Canonical address texts; undefined when the filter has none. */
  addresses: ReadonlySet<string> | undefined;
  /** The families an entry can have and still match. */
  families: readonly (4 | 6)[];
}

/** Check `f`: TypeError naming the first bad field. */
export function checkFilter(f: ConntrackFilter): CheckedFilter {
  if (f === null || typeof f !== 'object') throw new TypeError('a conntrack filter is an object: { family?, proto?, origDstPort?, addresses? }');
  if (f.family !== undefined && f.family !== 4 && f.family !== 6) throw new TypeError(`invalid conntrack family ${String(f.family)}: 4 or 6`);
  const protoNum = f.proto === undefined ? undefined : protocolNumber(f.proto, 'conntrack protocol');
  if (f.origDstPort !== undefined && (!Number.isInteger(f.origDstPort) || f.origDstPort < 0 || f.origDstPort > 0xffff)) {
    throw new TypeError(`invalid origDstPort ${String(f.origDstPort)}: 0 to 65535`);
  }
  let addresses: Set<string> | undefined;
  const families = new Set<4 | 6>(f.family === undefined ? [4, 6] : [f.family]);
  if (f.addresses !== undefined) {
    if (!Array.isArray(f.addresses)) throw new TypeError('addresses must be an array of IP addresses');
    addresses = new Set(f.addresses.map((a) => decodeIp(encodeIp(parseIp(a, 'conntrack filter address').address))));
    const of = new Set([...addresses].map((a) => (a.includes(':') ? 6 : 4)));
    for (const family of families) if (!of.has(family)) families.delete(family);
  }
  return { family: f.family, protoNum, origDstPort: f.origDstPort, addresses, families: [...families] };
}

/** Whether `e` is one of the entries `f` selects. */
export function matchesFilter(e: ConntrackEntry, f: CheckedFilter): boolean {
  if (f.family !== undefined && e.family !== f.family) return false;
  if (f.protoNum !== undefined && protocolNumber(e.proto) !== f.protoNum) return false;
  if (f.origDstPort !== undefined && e.orig.dstPort !== f.origDstPort) return false;
  if (f.addresses !== undefined) {
    const { orig, reply } = e;
    if (![orig.src, orig.dst, reply.src, reply.dst].some((a) => f.addresses!.has(a))) return false;
  }
  return true;
}

const nfproto = (family: 4 | 6): number => (family === 4 ? NFPROTO.IPV4 : NFPROTO.IPV6);

/**
 * The request bodies of the dumps that cover `f`: with `kernelFilter` (the kernel applies
 * CTA_FILTER to dumps) and a protocol, one per possible family with the protocol and port as
 * CTA_FILTER; otherwise one per family when the filter allows only one, else one for both.
 * An empty list when no family can match (addresses given, none of the filter's family).
 */
export function dumpRequests(f: CheckedFilter, kernelFilter: boolean): CtMessage[] {
  if (f.families.length === 0) return [];
  if (kernelFilter && f.protoNum !== undefined) return f.families.map((family) => tupleFilter(nfproto(family), f.protoNum!, f.origDstPort));
  if (f.families.length === 1) return [{ family: nfproto(f.families[0]!) }];
  return [{ family: NFPROTO.UNSPEC }];
}

/**
 * A CT_GET dump or CT_DELETE flush body selecting protocol `protoNum` (and original destination
 * port `port`) in `family`. nfgenmsg version 1: a flush reads it as "only this family".
 */
export function tupleFilter(family: number, protoNum: number, port: number | undefined, version = 0): CtMessage {
  const m: CtMessage = {
    family,
    orig: { protoNum },
    filter: { orig: CTA_FILTER_FLAG.CTA_PROTO_NUM | (port === undefined ? 0 : CTA_FILTER_FLAG.CTA_PROTO_DST_PORT) },
  };
  if (port !== undefined) m.orig!.dstPort = port;
  if (version !== 0) m.version = version;
  return m;
}
