/**
 * Layer: netlink/wire — pure codec, no I/O.
 *
 * The 16-byte `struct nlmsghdr` and its flags (<linux/netlink.h>). Every field is in host byte
 * order, which is little-endian on every target nsbox supports.
 */
import { DecodeError } from '../../errors.js';

/** sizeof(struct nlmsghdr). */
export const NLMSG_HDRLEN = 16;
/** NLMSG_ALIGNTO: messages and attributes start on 4-byte boundaries. */
export const NLMSG_ALIGNTO = 4;

/** NLMSG_ALIGN(n): round `n` up to a multiple of 4. */
export function nlmsgAlign(n: number): number {
  return (n + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);
}

/** Control message types (NLMSG_*), the same in every family. */
export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;

/** NLMSG_MIN_TYPE: types below it are control messages; a family's own types start here. */
export const NLMSG_MIN_TYPE = 0x10;

/**
 * nlmsg_flags (NLM_F_*). Bits 0x100–0x800 mean different things for GET requests (ROOT, MATCH,
 * ATOMIC), NEW requests (REPLACE, EXCL, CREATE, APPEND) and NLMSG_ERROR replies (CAPPED, ACK_TLVS).
 */
export const NLM_F = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  ECHO: 0x8,
  DUMP_INTR: 0x10,
  DUMP_FILTERED: 0x20,
  ROOT: 0x100,
  MATCH: 0x200,
  ATOMIC: 0x400,
  DUMP: 0x300,
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  CAPPED: 0x100,
  ACK_TLVS: 0x200,
} as const;

/** struct nlmsghdr. `length` is nlmsg_len (header included), `pid` is nlmsg_pid. */
export interface NlHeader {
  length: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

/** Write `h` as 16 bytes at `offset` of `into` (which must have room for them). */
export function encodeHeader(h: NlHeader, into: DataView, offset: number): void {
  into.setUint32(offset, h.length >>> 0, true);
  into.setUint16(offset + 4, h.type, true);
  into.setUint16(offset + 6, h.flags, true);
  into.setUint32(offset + 8, h.seq >>> 0, true);
  into.setUint32(offset + 12, h.pid >>> 0, true);
}

/** Read a struct nlmsghdr at `offset`; throws DecodeError when fewer than 16 bytes remain. */
export function decodeHeader(buf: Uint8Array, offset: number): NlHeader {
  if (!Number.isInteger(offset) || offset < 0 || offset + NLMSG_HDRLEN > buf.length) {
    throw new DecodeError('nlmsghdr', offset, `needs ${NLMSG_HDRLEN} bytes, ${Math.max(0, buf.length - offset)} left`);
  }
  const dv = new DataView(buf.buffer, buf.byteOffset + offset, NLMSG_HDRLEN);
  return {
    length: dv.getUint32(0, true),
    type: dv.getUint16(4, true),
    flags: dv.getUint16(6, true),
    seq: dv.getUint32(8, true),
    pid: dv.getUint32(12, true),
  };
}
