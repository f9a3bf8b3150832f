/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * struct ifinfomsg (<linux/rtnetlink.h>), the 16-byte header of RTM_*LINK messages and of a veth
 * peer: family u8, pad u8, type u16 (ARPHRD_*), index s32, flags u32 (IFF_*), change u32.
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';

export const IFINFOMSG_LEN = 16;

export interface Ifinfomsg {
  /** ifi_family */
  family: number;
  /** ifi_type: ARPHRD_* */
  type: number;
  /** ifi_index */
  index: number;
  /** ifi_flags: IFF_* */
  flags: number;
  /** ifi_change: which IFF_* bits to change (0 = none, 0xffffffff = all) */
  change: number;
}

/** Append an ifinfomsg; missing fields are 0. */
export function encodeIfinfomsg(w: AttrWriter, h: Partial<Ifinfomsg>): void {
  const at = w.reserve(IFINFOMSG_LEN);
  const dv = w.view();
  dv.setUint8(at, h.family ?? 0);
  dv.setUint16(at + 2, h.type ?? 0, true);
  dv.setInt32(at + 4, h.index ?? 0, true);
  dv.setUint32(at + 8, (h.flags ?? 0) >>> 0, true);
  dv.setUint32(at + 12, (h.change ?? 0) >>> 0, true);
}

/** Read the ifinfomsg at the start of `buf`; DecodeError when it is shorter than 16 bytes. */
export function decodeIfinfomsg(buf: Uint8Array, what = 'ifinfomsg'): Ifinfomsg {
  if (buf.length < IFINFOMSG_LEN) throw new DecodeError(what, 0, `needs ${IFINFOMSG_LEN} bytes, got ${buf.length}`);
  const dv = new DataView(buf.buffer, buf.byteOffset, IFINFOMSG_LEN);
  return {
    family: dv.getUint8(0),
    type: dv.getUint16(2, true),
    index: dv.getInt32(4, true),
    flags: dv.getUint32(8, true),
    change: dv.getUint32(12, true),
  };
}
