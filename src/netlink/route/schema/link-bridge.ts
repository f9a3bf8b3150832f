/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * bridge: a few IFLA_BR_* settings from IFLA_INFO_DATA. Times are in USER_HZ ticks (1/100 s):
 * `forwardDelay: 1500` is 15 s, as in `ip -d link` output.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap } from '../../wire/attr.js';
import { FieldTable, bool8, u16, u32 } from '../../wire/attr-fields.js';
import { IFLA_BR } from './constants.js';

export interface BridgeInfo {
  kind: 'bridge';
  /** IFLA_BR_STP_STATE: 0 off, 1 kernel STP */
  stpState?: number;
  forwardDelay?: number;
  helloTime?: number;
  maxAge?: number;
  ageingTime?: number;
  /** IFLA_BR_PRIORITY: STP bridge priority */
  priority?: number;
  vlanFiltering?: boolean;
}

/** IFLA_BR_* (STP state first, as iproute2 sends them); the kernel reports ~40 more, ignored. */
const FIELDS = new FieldTable<BridgeInfo>({
  stpState: [IFLA_BR.STP_STATE, 'IFLA_BR_STP_STATE', u32],
  forwardDelay: [IFLA_BR.FORWARD_DELAY, 'IFLA_BR_FORWARD_DELAY', u32],
  helloTime: [IFLA_BR.HELLO_TIME, 'IFLA_BR_HELLO_TIME', u32],
  maxAge: [IFLA_BR.MAX_AGE, 'IFLA_BR_MAX_AGE', u32],
  ageingTime: [IFLA_BR.AGEING_TIME, 'IFLA_BR_AGEING_TIME', u32],
  priority: [IFLA_BR.PRIORITY, 'IFLA_BR_PRIORITY', u16],
  vlanFiltering: [IFLA_BR.VLAN_FILTERING, 'IFLA_BR_VLAN_FILTERING', bool8],
});

/** Write the contents of IFLA_INFO_DATA for a bridge. */
export function encodeBridgeData(w: AttrWriter, info: BridgeInfo): void {
  FIELDS.encode(w, info);
}

/** Decode a bridge's IFLA_INFO_DATA. */
export function decodeBridgeData(data: Uint8Array): BridgeInfo {
  const info: BridgeInfo = { kind: 'bridge' };
  FIELDS.decode(attrMap(data), info);
  return info;
}
