/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * A bridge port's settings: IFLA_INFO_SLAVE_DATA of a link enslaved to a bridge (slave kind
 * "bridge"; iproute2 sends "bridge_slave" for `ip link set DEV type bridge_slave …`), IFLA_BRPORT_*
 * attributes (<linux/if_link.h>). Only the settings nsbox uses are carried; the kernel reports
 * ~40 more, ignored.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap } from '../../wire/attr.js';
import { FieldTable, bool8, u8 } from '../../wire/attr-fields.js';
import { IFLA_BRPORT } from './constants.js';

export interface BridgePortInfo {
  /** IFLA_BRPORT_STATE: BR_STATE_* (read only here) */
  state?: number;
  /** IFLA_BRPORT_MODE: hairpin, frames may leave through the port they came in on */
  hairpin?: boolean;
  /** IFLA_BRPORT_LEARNING */
  learning?: boolean;
}

const FIELDS = new FieldTable<BridgePortInfo>({
  state: [IFLA_BRPORT.STATE, 'IFLA_BRPORT_STATE', u8],
  hairpin: [IFLA_BRPORT.MODE, 'IFLA_BRPORT_MODE', bool8],
  learning: [IFLA_BRPORT.LEARNING, 'IFLA_BRPORT_LEARNING', bool8],
});

export function encodeBridgePortData(w: AttrWriter, info: BridgePortInfo): void {
  FIELDS.encode(w, info);
}

export function decodeBridgePortData(data: Uint8Array): BridgePortInfo {
  const info: BridgePortInfo = {};
  FIELDS.decode(attrMap(data), info);
  return info;
}
