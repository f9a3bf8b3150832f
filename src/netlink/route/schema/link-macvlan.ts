/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * macvlan (IFLA_MACVLAN_MODE u32, IFLA_MACVLAN_FLAGS u16). A mode number this module does not know
 * decodes as an absent `mode`.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readU16, readU32 } from '../../wire/attr.js';
import { enumCodec } from '../../wire/enum-codec.js';
import { IFLA_MACVLAN, MACVLAN_MODE } from './constants.js';

export type MacvlanMode = 'private' | 'vepa' | 'bridge' | 'passthru' | 'source';

export interface MacvlanInfo {
  kind: 'macvlan';
  mode?: MacvlanMode;
  /** IFLA_MACVLAN_FLAGS: MACVLAN_FLAG_NOPROMISC 1, MACVLAN_FLAG_NODST 2 */
  flags?: number;
}

/** The modes by name (`ip link add … type macvlan mode NAME`). */
export const MACVLAN_MODES = enumCodec<MacvlanMode>({
  private: MACVLAN_MODE.PRIVATE,
  vepa: MACVLAN_MODE.VEPA,
  bridge: MACVLAN_MODE.BRIDGE,
  passthru: MACVLAN_MODE.PASSTHRU,
  source: MACVLAN_MODE.SOURCE,
});

export function encodeMacvlanData(w: AttrWriter, info: MacvlanInfo): void {
  if (info.mode !== undefined) w.u32(IFLA_MACVLAN.MODE, MACVLAN_MODES.encode(info.mode, 'macvlan mode'));
  if (info.flags !== undefined) w.u16(IFLA_MACVLAN.FLAGS, info.flags);
}

export function decodeMacvlanData(data: Uint8Array): MacvlanInfo {
  const a = attrMap(data);
  const info: MacvlanInfo = { kind: 'macvlan' };
  const mode = a.get(IFLA_MACVLAN.MODE);
  if (mode !== undefined) {
    const name = MACVLAN_MODES.decode(readU32(mode, 'IFLA_MACVLAN_MODE'));
    if (name !== undefined) info.mode = name;
  }
  const flags = a.get(IFLA_MACVLAN.FLAGS);
  if (flags !== undefined) info.flags = readU16(flags, 'IFLA_MACVLAN_FLAGS');
  return info;
}
