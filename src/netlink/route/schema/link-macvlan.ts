/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * macvlan (IFLA_MACVLAN_MODE u32, IFLA_MACVLAN_FLAGS u16). A mode number this module does not know
 * decodes as an absent `mode`.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap } from '../../wire/attr.js';
import { FieldTable, named, u16, u32 } from '../../wire/attr-fields.js';
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

const FIELDS = new FieldTable<MacvlanInfo>({
  mode: [IFLA_MACVLAN.MODE, 'IFLA_MACVLAN_MODE', named(MACVLAN_MODES, u32, 'macvlan mode')],
  flags: [IFLA_MACVLAN.FLAGS, 'IFLA_MACVLAN_FLAGS', u16],
});

export function encodeMacvlanData(w: AttrWriter, info: MacvlanInfo): void {
  FIELDS.encode(w, info);
}

export function decodeMacvlanData(data: Uint8Array): MacvlanInfo {
  const info: MacvlanInfo = { kind: 'macvlan' };
  FIELDS.decode(attrMap(data), info);
  return info;
}
