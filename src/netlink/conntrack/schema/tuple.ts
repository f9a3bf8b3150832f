/**
 * Layer: netlink/conntrack/schema — ctnetlink schema, pure.
 *
 * A conntrack tuple: the nest under CTA_TUPLE_ORIG / CTA_TUPLE_REPLY (and CTA_TUPLE_MASTER), in
 * the kernel's order (ctnetlink_dump_tuples): CTA_TUPLE_IP {CTA_IP_V4_SRC, CTA_IP_V4_DST} (or
 * V6_*, by the addresses' family), CTA_TUPLE_PROTO {CTA_PROTO_NUM u8, then the layer-4 keys:
 * SRC_PORT and DST_PORT be16 for TCP, UDP, SCTP, DCCP, UDP-Lite and GRE; ICMP_ID be16, ICMP_TYPE
 * and ICMP_CODE u8 for ICMP, the ICMPV6_* ones for ICMPv6}, then CTA_TUPLE_ZONE be16 when the
 * entry's zone applies to this direction only.
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readIp } from '../../wire/attr.js';
import { FieldTable, be16, u8 } from '../../wire/attr-fields.js';
import { CTA_IP, CTA_PROTO, CTA_TUPLE, IPPROTO } from './constants.js';

export interface CtTuple {
  /** CTA_IP_V4_SRC / CTA_IP_V6_SRC */
  src?: string;
  /** CTA_IP_V4_DST / CTA_IP_V6_DST */
  dst?: string;
  /** CTA_PROTO_NUM: IPPROTO_* */
  protoNum?: number;
  /** CTA_PROTO_SRC_PORT */
  srcPort?: number;
  /** CTA_PROTO_DST_PORT */
  dstPort?: number;
  /** CTA_PROTO_ICMP_ID / CTA_PROTO_ICMPV6_ID */
  icmpId?: number;
  /** CTA_PROTO_ICMP_TYPE / CTA_PROTO_ICMPV6_TYPE */
  icmpType?: number;
  /** CTA_PROTO_ICMP_CODE / CTA_PROTO_ICMPV6_CODE */
  icmpCode?: number;
  /** CTA_TUPLE_ZONE: a zone that applies to this direction only */
  zone?: number;
}

type ProtoFields = Pick<CtTuple, 'protoNum' | 'srcPort' | 'dstPort' | 'icmpId' | 'icmpType' | 'icmpCode'>;

/** CTA_TUPLE_PROTO for every protocol but ICMPv6, in the kernel's order. */
const PROTO_FIELDS = new FieldTable<ProtoFields>({
  protoNum: [CTA_PROTO.NUM, 'CTA_PROTO_NUM', u8],
  srcPort: [CTA_PROTO.SRC_PORT, 'CTA_PROTO_SRC_PORT', be16],
  dstPort: [CTA_PROTO.DST_PORT, 'CTA_PROTO_DST_PORT', be16],
  icmpId: [CTA_PROTO.ICMP_ID, 'CTA_PROTO_ICMP_ID', be16],
  icmpType: [CTA_PROTO.ICMP_TYPE, 'CTA_PROTO_ICMP_TYPE', u8],
  icmpCode: [CTA_PROTO.ICMP_CODE, 'CTA_PROTO_ICMP_CODE', u8],
});

/** CTA_TUPLE_PROTO for ICMPv6, whose keys have attributes of their own. */
const ICMPV6_FIELDS = new FieldTable<ProtoFields>({
  protoNum: [CTA_PROTO.NUM, 'CTA_PROTO_NUM', u8],
  icmpId: [CTA_PROTO.ICMPV6_ID, 'CTA_PROTO_ICMPV6_ID', be16],
  icmpType: [CTA_PROTO.ICMPV6_TYPE, 'CTA_PROTO_ICMPV6_TYPE', u8],
  icmpCode: [CTA_PROTO.ICMPV6_CODE, 'CTA_PROTO_ICMPV6_CODE', u8],
});

/** True when the tuple's addresses are IPv6 (by their text: the attributes follow the family). */
function isV6(address: string): boolean {
  return address.includes(':');
}

/**
 * Write `t` as the nested attribute `type` (CTA_TUPLE_ORIG, CTA_TUPLE_REPLY). Fields left out
 * are not written, so a filter tuple carries only what its CTA_FILTER flags ask for.
 */
export function encodeTuple(w: AttrWriter, type: number, t: CtTuple): void {
  w.nest(type, () => {
    if (t.src !== undefined || t.dst !== undefined) {
      w.nest(CTA_TUPLE.IP, () => {
        if (t.src !== undefined) w.ip(isV6(t.src) ? CTA_IP.V6_SRC : CTA_IP.V4_SRC, t.src);
        if (t.dst !== undefined) w.ip(isV6(t.dst) ? CTA_IP.V6_DST : CTA_IP.V4_DST, t.dst);
      });
    }
    const proto: ProtoFields = { protoNum: t.protoNum, srcPort: t.srcPort, dstPort: t.dstPort, icmpId: t.icmpId, icmpType: t.icmpType, icmpCode: t.icmpCode };
    if (Object.values(proto).some((v) => v !== undefined)) {
      w.nest(CTA_TUPLE.PROTO, () => (t.protoNum === IPPROTO.ICMPV6 ? ICMPV6_FIELDS : PROTO_FIELDS).encode(w, proto));
    }
    if (t.zone !== undefined) w.be16(CTA_TUPLE.ZONE, t.zone);
  });
}

/** Read one address attribute of CTA_TUPLE_IP, checking it has its family's size. */
function readAddress(v: Uint8Array, size: number, what: string): string {
  if (v.length !== size) throw new DecodeError(what, 0, `expected a ${size}-byte address, got ${v.length} bytes`);
  return readIp(v, what);
}

/** Decode the value of a tuple attribute (the nest's contents). */
export function decodeTuple(value: Uint8Array, what: string): CtTuple {
  const a = attrMap(value);
  const t: CtTuple = {};
  const ipNest = a.get(CTA_TUPLE.IP);
  if (ipNest !== undefined) {
    const ip = attrMap(ipNest);
    for (const [type, size, key, name] of [
      [CTA_IP.V4_SRC, 4, 'src', 'CTA_IP_V4_SRC'], [CTA_IP.V4_DST, 4, 'dst', 'CTA_IP_V4_DST'],
      [CTA_IP.V6_SRC, 16, 'src', 'CTA_IP_V6_SRC'], [CTA_IP.V6_DST, 16, 'dst', 'CTA_IP_V6_DST'],
    ] as const) {
      const v = ip.get(type);
      if (v !== undefined) t[key] = readAddress(v, size, `${what} ${name}`);
    }
  }
  const protoNest = a.get(CTA_TUPLE.PROTO);
  if (protoNest !== undefined) {
    const proto = attrMap(protoNest);
    PROTO_FIELDS.decode(proto, t);
    ICMPV6_FIELDS.decode(proto, t);
  }
  const zone = a.get(CTA_TUPLE.ZONE);
  if (zone !== undefined) t.zone = be16.read(zone, `${what} CTA_TUPLE_ZONE`);
  return t;
}
