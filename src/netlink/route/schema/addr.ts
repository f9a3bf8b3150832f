/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * RTM_NEWADDR / DELADDR / GETADDR bodies: struct ifaddrmsg (family u8, prefixlen u8, flags u8,
 * scope u8, index u32) then IFA_* attributes (<linux/if_addr.h>).
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readU32 } from '../../wire/attr.js';
import { FieldTable, ip, str, u32, u8 } from '../../wire/attr-fields.js';
import { IFA } from './constants.js';

const IFADDRMSG_LEN = 8;
const CACHEINFO_LEN = 16;

/** struct ifa_cacheinfo: lifetimes in seconds (0xffffffff = forever), stamps in 1/100 s since boot. */
export interface AddrCacheinfo {
  /** ifa_prefered */
  preferred: number;
  /** ifa_valid */
  valid: number;
  /** cstamp */
  created: number;
  /** tstamp */
  updated: number;
}

export interface AddrMessage {
  /** ifa_family: AF_INET / AF_INET6 */
  family: number;
  /** ifa_prefixlen */
  prefixLen: number;
  /**
   * Full IFA_F_* flags. Encode, like iproute2: up to 0xff in the u8 ifa_flags; anything larger
   * only in IFA_FLAGS (u32), with ifa_flags 0 (kernels since 3.14 read IFA_FLAGS in preference).
   * Decode prefers IFA_FLAGS over ifa_flags.
   */
  flags?: number;
  /** ifa_scope: RT_SCOPE_* */
  scope?: number;
  /** ifa_index */
  index: number;
  /** IFA_LOCAL: the interface's own address */
  local?: string;
  /** IFA_ADDRESS: the prefix address, or the peer on point-to-point links */
  address?: string;
  label?: string;
  broadcast?: string;
  cacheinfo?: AddrCacheinfo;
  /** IFA_RT_PRIORITY: metric of the prefix route */
  rtPriority?: number;
  /** IFA_PROTO: IFAPROT_* (who added the address) */
  proto?: number;
}

/** The IFA_* attributes iproute2 sends before IFA_FLAGS, and after it (its order for `ip addr add`). */
const BEFORE_FLAGS = new FieldTable<AddrMessage>({
  local: [IFA.LOCAL, 'IFA_LOCAL', ip],
  broadcast: [IFA.BROADCAST, 'IFA_BROADCAST', ip],
  label: [IFA.LABEL, 'IFA_LABEL', str],
});
const AFTER_FLAGS = new FieldTable<AddrMessage>({
  rtPriority: [IFA.RT_PRIORITY, 'IFA_RT_PRIORITY', u32],
  proto: [IFA.PROTO, 'IFA_PROTO', u8],
  address: [IFA.ADDRESS, 'IFA_ADDRESS', ip],
});

/** Write an ifaddrmsg and the attributes of `m` into `w` (iproute2's order: LOCAL, BROADCAST, LABEL, FLAGS, …, ADDRESS). */
export function encodeAddrMessage(w: AttrWriter, m: AddrMessage): void {
  const flags = m.flags ?? 0;
  const at = w.reserve(IFADDRMSG_LEN);
  const dv = w.view();
  dv.setUint8(at, m.family);
  dv.setUint8(at + 1, m.prefixLen);
  dv.setUint8(at + 2, flags > 0xff ? 0 : flags);
  dv.setUint8(at + 3, m.scope ?? 0);
  dv.setUint32(at + 4, m.index >>> 0, true);
  BEFORE_FLAGS.encode(w, m);
  if (flags > 0xff) w.u32(IFA.FLAGS, flags); // the 8 bits of ifa_flags are not enough
  AFTER_FLAGS.encode(w, m);
  if (m.cacheinfo !== undefined) {
    const c = new Uint8Array(CACHEINFO_LEN);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, m.cacheinfo.preferred >>> 0, true);
    cv.setUint32(4, m.cacheinfo.valid >>> 0, true);
    cv.setUint32(8, m.cacheinfo.created >>> 0, true);
    cv.setUint32(12, m.cacheinfo.updated >>> 0, true);
    w.bytes(IFA.CACHEINFO, c);
  }
}

/** Decode an RTM_*ADDR payload. `flags` and `scope` are always filled in. */
export function decodeAddrMessage(payload: Uint8Array): AddrMessage {
  if (payload.length < IFADDRMSG_LEN) throw new DecodeError('ifaddrmsg', 0, `needs ${IFADDRMSG_LEN} bytes, got ${payload.length}`);
  const dv = new DataView(payload.buffer, payload.byteOffset, IFADDRMSG_LEN);
  const m: AddrMessage = {
    family: dv.getUint8(0),
    prefixLen: dv.getUint8(1),
    flags: dv.getUint8(2),
    scope: dv.getUint8(3),
    index: dv.getUint32(4, true),
  };
  const a = attrMap(payload, IFADDRMSG_LEN);
  BEFORE_FLAGS.decode(a, m);
  AFTER_FLAGS.decode(a, m);
  const flags = a.get(IFA.FLAGS);
  if (flags !== undefined) m.flags = readU32(flags, 'IFA_FLAGS');
  const ci = a.get(IFA.CACHEINFO);
  if (ci !== undefined) {
    if (ci.length !== CACHEINFO_LEN) throw new DecodeError('IFA_CACHEINFO', 0, `expected ${CACHEINFO_LEN} bytes, got ${ci.length}`);
    const cv = new DataView(ci.buffer, ci.byteOffset, CACHEINFO_LEN);
    m.cacheinfo = { preferred: cv.getUint32(0, true), valid: cv.getUint32(4, true), created: cv.getUint32(8, true), updated: cv.getUint32(12, true) };
  }
  return m;
}
