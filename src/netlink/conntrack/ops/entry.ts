/**
 * Layer: netlink/conntrack/ops — ctnetlink operations.
 *
 * A conntrack entry as callers see it — family 4 or 6, the protocol and status bits by their
 * kernel names, both tuples — made from the schema's message, and the key that names one entry
 * to the kernel (the original tuple, its zone and, for an entry that was listed, its id).
 */
import { DecodeError } from '../../../errors.js';
import { parseIp } from '../../../net/cidr.js';
import { enumCodec } from '../../wire/enum-codec.js';
import { NFPROTO } from '../../wire/nfgen.js';
import { IPPROTO, IPS, TCP_CONNTRACK } from '../schema/constants.js';
import type { CtMessage } from '../schema/message.js';
import type { CtTuple } from '../schema/tuple.js';

/** The layer-4 protocols conntrack tracks by name (IPPROTO_*, lower case). */
export type ConntrackProtocolName = 'icmp' | 'tcp' | 'udp' | 'dccp' | 'gre' | 'icmpv6' | 'sctp' | 'udplite';

/** A layer-4 protocol: its name, or its IPPROTO number for one without a name here. */
export type ConntrackProtocol = ConntrackProtocolName | number;

/** An entry's status bit, by its kernel name without the IPS_ prefix ('ASSURED', 'DST_NAT', …). */
export type ConntrackStatus = keyof typeof IPS;

/** A TCP entry's state, by its kernel name without the TCP_CONNTRACK_ prefix ('ESTABLISHED', …). */
export type ConntrackTcpState = keyof typeof TCP_CONNTRACK;

/** One direction of a connection. */
export interface ConntrackTuple {
  src: string;
  dst: string;
  /** TCP, UDP, SCTP, DCCP, UDP-Lite (and GRE keys). */
  srcPort?: number;
  dstPort?: number;
  /** ICMP and ICMPv6. */
  icmpId?: number;
  icmpType?: number;
  icmpCode?: number;
  /** A zone that applies to this direction only (CTA_TUPLE_ZONE). */
  zone?: number;
}

/** One conntrack entry (`conntrack -L`). */
export interface ConntrackEntry {
  family: 4 | 6;
  proto: ConntrackProtocol;
  /** The original direction: who opened the connection, to the address it asked for. */
  orig: ConntrackTuple;
  /** The reply direction: after NAT, from where the answers come (a DNAT target is `reply.src`). */
  reply: ConntrackTuple;
  /** The IPS_* bits set, by name, in bit order. */
  status: ConntrackStatus[];
  /** Seconds until it expires. */
  timeout?: number;
  /** The connection mark. */
  mark?: number;
  /** Its zone, when not 0 (CTA_ZONE). */
  zone?: number;
  /** The kernel's id of the entry, stable for its life (`conntrack -L -o id`). */
  id?: number;
  /** Its reference count. */
  use?: number;
  /** TCP only: the connection's state. */
  tcpState?: ConntrackTcpState;
}

/**
 * What names one entry to the kernel: its protocol and original tuple, its zone, and its id
 * when known (the kernel then deletes only that very entry, not a newer one with the same tuple).
 * A ConntrackEntry is one.
 */
export interface ConntrackKey {
  proto: ConntrackProtocol;
  orig: ConntrackTuple;
  zone?: number;
  id?: number;
}

const PROTOCOLS = enumCodec<ConntrackProtocolName>({
  icmp: IPPROTO.ICMP, tcp: IPPROTO.TCP, udp: IPPROTO.UDP, dccp: IPPROTO.DCCP, gre: IPPROTO.GRE, icmpv6: IPPROTO.ICMPV6, sctp: IPPROTO.SCTP, udplite: IPPROTO.UDPLITE,
});
const TCP_STATES = enumCodec<ConntrackTcpState>(TCP_CONNTRACK);
const STATUS_BITS = Object.entries(IPS) as [ConntrackStatus, number][];

/** Protocols whose tuples carry ports (GRE carries its keys in the same attributes). */
const WITH_PORTS: ReadonlySet<number> = new Set([IPPROTO.TCP, IPPROTO.UDP, IPPROTO.DCCP, IPPROTO.GRE, IPPROTO.SCTP, IPPROTO.UDPLITE]);
const ICMPS: ReadonlySet<number> = new Set([IPPROTO.ICMP, IPPROTO.ICMPV6]);

/** The IPPROTO number of `proto`; TypeError for an unknown name or a number outside 0–255. */
export function protocolNumber(proto: ConntrackProtocol, what = 'protocol'): number {
  if (typeof proto === 'number') {
    if (!Number.isInteger(proto) || proto < 0 || proto > 255) throw new TypeError(`invalid ${what} ${proto}: an IPPROTO number is 0 to 255`);
    return proto;
  }
  return PROTOCOLS.encode(proto, what);
}

/** The name of IPPROTO number `n`, or `n` itself when it has none here. */
export function protocolOf(n: number): ConntrackProtocol {
  return PROTOCOLS.decode(n) ?? n;
}

/** The names of the IPS_* bits set in `bits`, in bit order. */
export function statusNames(bits: number): ConntrackStatus[] {
  return STATUS_BITS.filter(([, bit]) => (bits & bit) !== 0).map(([name]) => name);
}

function publicTuple(t: CtTuple | undefined, what: string): ConntrackTuple {
  if (t?.src === undefined || t.dst === undefined) throw new DecodeError(what, 0, 'the entry has no addresses in this direction');
  const out: ConntrackTuple = { src: t.src, dst: t.dst };
  if (t.srcPort !== undefined) out.srcPort = t.srcPort;
  if (t.dstPort !== undefined) out.dstPort = t.dstPort;
  if (t.icmpId !== undefined) out.icmpId = t.icmpId;
  if (t.icmpType !== undefined) out.icmpType = t.icmpType;
  if (t.icmpCode !== undefined) out.icmpCode = t.icmpCode;
  if (t.zone !== undefined) out.zone = t.zone;
  return out;
}

/** The entry an IPCTNL_MSG_CT_NEW message describes; DecodeError when it lacks what every entry has. */
export function entryOf(m: CtMessage): ConntrackEntry {
  const family = m.family === NFPROTO.IPV4 ? 4 : m.family === NFPROTO.IPV6 ? 6 : undefined;
  if (family === undefined) throw new DecodeError('nfgenmsg', 0, `nfgen_family ${m.family} is neither IPv4 nor IPv6`);
  const protoNum = m.orig?.protoNum;
  if (protoNum === undefined) throw new DecodeError('CTA_TUPLE_ORIG', 0, 'no CTA_PROTO_NUM');
  const e: ConntrackEntry = {
    family,
    proto: protocolOf(protoNum),
    orig: publicTuple(m.orig, 'CTA_TUPLE_ORIG'),
    reply: publicTuple(m.reply, 'CTA_TUPLE_REPLY'),
    status: statusNames(m.status ?? 0),
  };
  if (m.timeout !== undefined) e.timeout = m.timeout;
  if (m.mark !== undefined) e.mark = m.mark;
  if (m.zone !== undefined) e.zone = m.zone;
  if (m.id !== undefined) e.id = m.id;
  if (m.use !== undefined) e.use = m.use;
  const state = m.tcpState === undefined ? undefined : TCP_STATES.decode(m.tcpState);
  if (state !== undefined) e.tcpState = state;
  return e;
}

function checkU16(v: unknown, what: string): void {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffff) throw new TypeError(`invalid ${what} ${String(v)}: 0 to 65535`);
}

function checkU8(v: unknown, what: string): void {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xff) throw new TypeError(`invalid ${what} ${String(v)}: 0 to 255`);
}

/**
 * The CT_DELETE (or CT_GET) body naming `key`'s entry: its original tuple as complete as the
 * kernel's parser demands (both addresses; both ports for TCP, UDP, SCTP, DCCP, UDP-Lite and
 * GRE; id, type and code for ICMP), its zone and id. TypeError for anything missing or invalid.
 */
export function keyMessage(key: ConntrackKey): CtMessage {
  if (key === null || typeof key !== 'object' || key.orig === null || typeof key.orig !== 'object') {
    throw new TypeError('a conntrack entry is named by { proto, orig: { src, dst, … } }');
  }
  const { orig } = key;
  const protoNum = protocolNumber(key.proto);
  const src = parseIp(orig.src, 'conntrack source address');
  const dst = parseIp(orig.dst, 'conntrack destination address');
  if (src.family !== dst.family) throw new TypeError(`conntrack tuple ${orig.src} -> ${orig.dst} mixes IPv4 and IPv6`);
  const tuple: CtTuple = { src: src.address, dst: dst.address, protoNum };
  if (WITH_PORTS.has(protoNum)) {
    checkU16(orig.srcPort, 'conntrack source port');
    checkU16(orig.dstPort, 'conntrack destination port');
    tuple.srcPort = orig.srcPort;
    tuple.dstPort = orig.dstPort;
  } else if (ICMPS.has(protoNum)) {
    checkU16(orig.icmpId, 'conntrack ICMP id');
    checkU8(orig.icmpType, 'conntrack ICMP type');
    checkU8(orig.icmpCode, 'conntrack ICMP code');
    tuple.icmpId = orig.icmpId;
    tuple.icmpType = orig.icmpType;
    tuple.icmpCode = orig.icmpCode;
  }
  if (orig.zone !== undefined) {
    checkU16(orig.zone, 'conntrack tuple zone');
    tuple.zone = orig.zone;
  }
  const m: CtMessage = { family: src.family === 4 ? NFPROTO.IPV4 : NFPROTO.IPV6, orig: tuple };
  if (key.zone !== undefined) {
    checkU16(key.zone, 'conntrack zone');
    m.zone = key.zone;
  }
  if (key.id !== undefined) {
    if (!Number.isInteger(key.id) || key.id < 0 || key.id > 0xffffffff) throw new TypeError(`invalid conntrack id ${key.id}: 0 to 4294967295`);
    m.id = key.id;
  }
  return m;
}
