/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * ipvlan (IFLA_IPVLAN_MODE u16, IFLA_IPVLAN_FLAGS u16). A mode number this module does not know
 * decodes as an absent `mode`.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap } from '../../wire/attr.js';
import { FieldTable, named, u16 } from '../../wire/attr-fields.js';
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

const FIELDS = new FieldTable<IpvlanInfo>({
  mode: [IFLA_IPVLAN.MODE, 'IFLA_IPVLAN_MODE', named(IPVLAN_MODES, u16, 'ipvlan mode')],
  flags: [IFLA_IPVLAN.FLAGS, 'IFLA_IPVLAN_FLAGS', u16],
});

export function encodeIpvlanData(w: AttrWriter, info: IpvlanInfo): void {
  FIELDS.encode(w, info);
}

export function decodeIpvlanData(data: Uint8Array): IpvlanInfo {
  const info: IpvlanInfo = { kind: 'ipvlan' };
  FIELDS.decode(attrMap(data), info);
  return info;
}
