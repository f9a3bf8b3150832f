/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * Traffic-control handles and parents (tcmsg.tcm_handle / tcm_parent): a u32 of major (upper 16
 * bits) and minor (lower 16), both written in HEX as tc writes them: "1:" is 0x00010000, "1:10"
 * is 0x00010010. Names for the special values: "root" (TC_H_ROOT), "ingress" and "clsact"
 * (TC_H_INGRESS = TC_H_CLSACT, the parent of those qdiscs), "none" (TC_H_UNSPEC). Formatting
 * follows tc's print_tc_classid (tc -j prints these strings).
 */
import { TC_H } from './constants.js';

/** A handle as the caller gives it: tc's text ("1:", "1:10", "root", "ingress") or the u32. */
export type TcHandle = string | number;

const NAMED: Readonly<Record<string, number>> = { root: TC_H.ROOT, ingress: TC_H.INGRESS, clsact: TC_H.CLSACT, none: TC_H.UNSPEC };

/** TC_H_MAKE(maj << 16, min). */
export function tcHandle(major: number, minor: number): number {
  return (((major & 0xffff) << 16) | (minor & 0xffff)) >>> 0;
}

export function tcMajor(handle: number): number {
  return handle >>> 16;
}

export function tcMinor(handle: number): number {
  return handle & TC_H.MIN_MASK;
}

/** "1:10" / "1:" / ":10" / "root" / "ingress" / "clsact" / "none", or a u32, to the u32. TypeError otherwise. */
export function parseTcHandle(h: TcHandle, what = 'handle'): number {
  if (typeof h === 'number') {
    if (!Number.isInteger(h) || h < 0 || h > 0xffffffff) throw new TypeError(`invalid ${what} ${h}: a u32`);
    return h;
  }
  if (typeof h !== 'string') throw new TypeError(`invalid ${what}: a string such as "1:10" or a number`);
  const text = h.trim().toLowerCase();
  const named = Object.hasOwn(NAMED, text) ? NAMED[text] : undefined;
  if (named !== undefined) return named;
  const m = /^([0-9a-f]{0,4}):([0-9a-f]{0,4})$/.exec(text);
  const [, major = '', minor = ''] = m ?? [];
  if (m === null || (major === '' && minor === '')) {
    throw new TypeError(`invalid ${what} ${JSON.stringify(h)}: "MAJ:", "MAJ:MIN" (hex, up to ffff each), root, ingress, clsact or none`);
  }
  return tcHandle(major === '' ? 0 : parseInt(major, 16), minor === '' ? 0 : parseInt(minor, 16));
}

/** The u32 as tc prints it: "root", "none", "1:", "1:10", ":10", "ffff:fff1" (ingress prints as its number, as tc does). */
export function formatTcHandle(h: number): string {
  if (h === TC_H.ROOT) return 'root';
  if (h === TC_H.UNSPEC) return 'none';
  const major = tcMajor(h);
  const minor = tcMinor(h);
  if (major === 0) return `:${minor.toString(16)}`;
  if (minor === 0) return `${major.toString(16)}:`;
  return `${major.toString(16)}:${minor.toString(16)}`;
}
