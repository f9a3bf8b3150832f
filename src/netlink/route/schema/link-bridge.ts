/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * bridge: a few IFLA_BR_* settings from IFLA_INFO_DATA. Times are in USER_HZ ticks (1/100 s):
 * `forwardDelay: 1500` is 15 s, as in `ip -d link` output.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readU16, readU32, readU8 } from '../../wire/attr.js';
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

/** Write the contents of IFLA_INFO_DATA for a bridge (STP state first, as iproute2 does). */
export function encodeBridgeData(w: AttrWriter, info: BridgeInfo): void {
  if (info.stpState !== undefined) w.u32(IFLA_BR.STP_STATE, info.stpState);
  if (info.forwardDelay !== undefined) w.u32(IFLA_BR.FORWARD_DELAY, info.forwardDelay);
  if (info.helloTime !== undefined) w.u32(IFLA_BR.HELLO_TIME, info.helloTime);
  if (info.maxAge !== undefined) w.u32(IFLA_BR.MAX_AGE, info.maxAge);
  if (info.ageingTime !== undefined) w.u32(IFLA_BR.AGEING_TIME, info.ageingTime);
  if (info.priority !== undefined) w.u16(IFLA_BR.PRIORITY, info.priority);
  if (info.vlanFiltering !== undefined) w.u8(IFLA_BR.VLAN_FILTERING, info.vlanFiltering ? 1 : 0);
}

/** Decode a bridge's IFLA_INFO_DATA (the fields above; the kernel sends ~40 more, ignored). */
export function decodeBridgeData(data: Uint8Array): BridgeInfo {
  const a = attrMap(data);
  const info: BridgeInfo = { kind: 'bridge' };
  const u32 = (type: number, what: string): number | undefined => {
    const v = a.get(type);
    return v === undefined ? undefined : readU32(v, what);
  };
  const stp = u32(IFLA_BR.STP_STATE, 'IFLA_BR_STP_STATE');
  if (stp !== undefined) info.stpState = stp;
  const fd = u32(IFLA_BR.FORWARD_DELAY, 'IFLA_BR_FORWARD_DELAY');
  if (fd !== undefined) info.forwardDelay = fd;
  const hello = u32(IFLA_BR.HELLO_TIME, 'IFLA_BR_HELLO_TIME');
  if (hello !== undefined) info.helloTime = hello;
  const maxAge = u32(IFLA_BR.MAX_AGE, 'IFLA_BR_MAX_AGE');
  if (maxAge !== undefined) info.maxAge = maxAge;
  const ageing = u32(IFLA_BR.AGEING_TIME, 'IFLA_BR_AGEING_TIME');
  if (ageing !== undefined) info.ageingTime = ageing;
  const prio = a.get(IFLA_BR.PRIORITY);
  if (prio !== undefined) info.priority = readU16(prio, 'IFLA_BR_PRIORITY');
  const vf = a.get(IFLA_BR.VLAN_FILTERING);
  if (vf !== undefined) info.vlanFiltering = readU8(vf, 'IFLA_BR_VLAN_FILTERING') !== 0;
  return info;
}
