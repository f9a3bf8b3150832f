/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * ipvlan (IFLA_IPVLAN_MODE u16, IFLA_IPVLAN_FLAGS u16). A mode number this module does not know
 * decodes as an absent `mode`.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readU16 } from '../../wire/attr.js';
import { enumCodec } from '../../wire/enum-codec.js';
import { IFLA_IPVLAN, IPVLAN_MODE } from './constants.js';

export type IpvlanMode = 'l2' | 'l3' | 'l3s';

export interface IpvlanInfo {
  kind: 'ipvlan';
  mode?: IpvlanMode;
  /** IFLA_IPVLAN_FLAGS: IPVLAN_F_PRIVATE 1, IPVLAN_F_VEPA 2 */
  flags?: number;
}

/** The modes by name (`ip link add … type ipvlan mode NAME`). */
const IPVLAN_MODES = enumCodec<IpvlanMode>({ l2: IPVLAN_MODE.L2, l3: IPVLAN_MODE.L3, l3s: IPVLAN_MODE.L3S });

export function encodeIpvlanData(w: AttrWriter, info: IpvlanInfo): void {
  if (info.mode !== undefined) w.u16(IFLA_IPVLAN.MODE, IPVLAN_MODES.encode(info.mode, 'ipvlan mode'));
  if (info.flags !== undefined) w.u16(IFLA_IPVLAN.FLAGS, info.flags);
}

export function decodeIpvlanData(data: Uint8Array): IpvlanInfo {
  const a = attrMap(data);
  const info: IpvlanInfo = { kind: 'ipvlan' };
  const mode = a.get(IFLA_IPVLAN.MODE);
  if (mode !== undefined) {
    const name = IPVLAN_MODES.decode(readU16(mode, 'IFLA_IPVLAN_MODE'));
    if (name !== undefined) info.mode = name;
  }
  const flags = a.get(IFLA_IPVLAN.FLAGS);
  if (flags !== undefined) info.flags = readU16(flags, 'IFLA_IPVLAN_FLAGS');
  return info;
}
