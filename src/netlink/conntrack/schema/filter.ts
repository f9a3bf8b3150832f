/**
 * Layer: netlink/conntrack/schema — ctnetlink schema, pure.
 *
 * CTA_FILTER: which fields of CTA_TUPLE_ORIG / CTA_TUPLE_REPLY a dump (Linux 5.9+) or a flush
 * (kernels with "netfilter: ctnetlink: allow advanced filter with CTA_FILTER for flush", 2024;
 * 6.18 has it) compares; every flagged field must be equal (AND). On a CT_DELETE, CTA_FILTER is
 * what makes it a flush: the tuples then only carry the values to compare. The nest holds CTA_FILTER_ORIG_FLAGS and
 * CTA_FILTER_REPLY_FLAGS, u32 in host order (NLA_U32, unlike every other ctnetlink integer). The
 * flag bits are not in the uapi headers: they are CTA_FILTER_F_* of net/netfilter/nf_internals.h,
 * ABI all the same (libnetfilter_conntrack carries the same numbers). A flagged field the tuple
 * lacks is EINVAL; port or ICMP flags without CTA_FILTER_F_CTA_PROTO_NUM are EINVAL; a family
 * other than IPv4 or IPv6 in nfgenmsg is EOPNOTSUPP.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readU32 } from '../../wire/attr.js';
import { CTA_FILTER } from './constants.js';

/** CTA_FILTER_F_* (net/netfilter/nf_internals.h): the tuple fields a filter compares. */
export const CTA_FILTER_FLAG = {
  CTA_IP_SRC: 1 << 0,
  CTA_IP_DST: 1 << 1,
  CTA_TUPLE_ZONE: 1 << 2,
  CTA_PROTO_NUM: 1 << 3,
  CTA_PROTO_SRC_PORT: 1 << 4,
  CTA_PROTO_DST_PORT: 1 << 5,
  CTA_PROTO_ICMP_TYPE: 1 << 6,
  CTA_PROTO_ICMP_CODE: 1 << 7,
  CTA_PROTO_ICMP_ID: 1 << 8,
  CTA_PROTO_ICMPV6_TYPE: 1 << 9,
  CTA_PROTO_ICMPV6_CODE: 1 << 10,
  CTA_PROTO_ICMPV6_ID: 1 << 11,
} as const;

/** The CTA_FILTER nest: the flag words for each direction (absent: that tuple is not compared). */
export interface CtFilterFlags {
  /** CTA_FILTER_ORIG_FLAGS */
  orig?: number;
  /** CTA_FILTER_REPLY_FLAGS */
  reply?: number;
}

/** Write the CTA_FILTER nest. */
export function encodeFilter(w: AttrWriter, type: number, f: CtFilterFlags): void {
  w.nest(type, () => {
    if (f.orig !== undefined) w.u32(CTA_FILTER.ORIG_FLAGS, f.orig);
    if (f.reply !== undefined) w.u32(CTA_FILTER.REPLY_FLAGS, f.reply);
  });
}

/** Decode the value of a CTA_FILTER attribute (requests only: the kernel never sends one). */
export function decodeFilter(value: Uint8Array): CtFilterFlags {
  const a = attrMap(value);
  const f: CtFilterFlags = {};
  const orig = a.get(CTA_FILTER.ORIG_FLAGS);
  if (orig !== undefined) f.orig = readU32(orig, 'CTA_FILTER_ORIG_FLAGS');
  const reply = a.get(CTA_FILTER.REPLY_FLAGS);
  if (reply !== undefined) f.reply = readU32(reply, 'CTA_FILTER_REPLY_FLAGS');
  return f;
}
