/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * IFLA_LINKINFO: the link kind (IFLA_INFO_KIND), its kind-specific IFLA_INFO_DATA, and the kind of
 * the master it is enslaved to (IFLA_INFO_SLAVE_KIND). Each kind's data lives in link-<kind>.ts.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readString } from '../../wire/attr.js';
import { IFLA_INFO } from './constants.js';
import { type BridgeInfo, decodeBridgeData, encodeBridgeData } from './link-bridge.js';
import { type BridgePortInfo, decodeBridgePortData, encodeBridgePortData } from './link-bridge-port.js';
import { type IpvlanInfo, decodeIpvlanData, encodeIpvlanData } from './link-ipvlan.js';
import { type MacvlanInfo, decodeMacvlanData, encodeMacvlanData } from './link-macvlan.js';
import { type VethInfo, decodeVethData, encodeVethData } from './link-veth.js';
import { type VxlanInfo, decodeVxlanData, encodeVxlanData } from './link-vxlan.js';

export type { BridgeInfo } from './link-bridge.js';
export type { BridgePortInfo } from './link-bridge-port.js';
export type { IpvlanInfo, IpvlanMode } from './link-ipvlan.js';
export type { MacvlanInfo, MacvlanMode } from './link-macvlan.js';
export type { VethInfo, VethPeer } from './link-veth.js';
export type { VxlanInfo } from './link-vxlan.js';

export interface DummyInfo {
  kind: 'dummy';
}

/**
 * Any other kind ('wireguard', 'vlan', …): only the name is carried. The `?: undefined` fields let
 * code read a known kind's fields after `info.kind === 'veth'` (which cannot exclude this member).
 */
export interface OtherLinkInfo {
  kind: string;
  data?: undefined;
  peer?: undefined;
  stpState?: undefined;
  forwardDelay?: undefined;
  helloTime?: undefined;
  maxAge?: undefined;
  ageingTime?: undefined;
  priority?: undefined;
  vlanFiltering?: undefined;
  id?: undefined;
  local?: undefined;
  remote?: undefined;
  group?: undefined;
  port?: undefined;
  dev?: undefined;
  learning?: undefined;
  ttl?: undefined;
  mode?: undefined;
  flags?: undefined;
}

export type LinkInfo = VethInfo | BridgeInfo | VxlanInfo | MacvlanInfo | IpvlanInfo | DummyInfo | OtherLinkInfo;

const textEncoder = new TextEncoder();

/** IFLA_INFO_KIND and IFLA_INFO_SLAVE_KIND go without a NUL, as iproute2 sends them (policy NLA_STRING). */
function kindName(w: AttrWriter, type: number, kind: string): void {
  w.bytes(type, textEncoder.encode(kind));
}

function hasData(info: LinkInfo): boolean {
  return Object.entries(info).some(([k, v]) => k !== 'kind' && v !== undefined);
}

/** How each kind with settings writes and reads its IFLA_INFO_DATA (link-<kind>.ts). */
interface DataCodec {
  encode(w: AttrWriter, info: LinkInfo): void;
  decode(data: Uint8Array): LinkInfo;
}

const DATA_CODECS: Readonly<Record<string, DataCodec>> = {
  veth: { encode: (w, info) => encodeVethData(w, info as VethInfo), decode: decodeVethData },
  bridge: { encode: (w, info) => encodeBridgeData(w, info as BridgeInfo), decode: decodeBridgeData },
  vxlan: { encode: (w, info) => encodeVxlanData(w, info as VxlanInfo), decode: decodeVxlanData },
  macvlan: { encode: (w, info) => encodeMacvlanData(w, info as MacvlanInfo), decode: decodeMacvlanData },
  ipvlan: { encode: (w, info) => encodeIpvlanData(w, info as IpvlanInfo), decode: decodeIpvlanData },
};

/** What IFLA_LINKINFO carries about the master a link is enslaved to. */
export interface SlaveInfo {
  slaveKind?: string;
  /** IFLA_INFO_SLAVE_DATA of a bridge port (slave kind "bridge" or "bridge_slave"). */
  bridgePort?: BridgePortInfo;
}

/**
 * A request that changes a bridge port names the kind "bridge_slave" in IFLA_INFO_KIND (as
 * iproute2 does) with the settings in IFLA_INFO_SLAVE_DATA; the kernel reports a port as slave
 * kind "bridge".
 */
const BRIDGE_PORT_KIND = 'bridge_slave';

/** Write IFLA_LINKINFO: kind, then IFLA_INFO_DATA when the kind has settings, then the slave kind and its data. */
export function encodeLinkInfo(w: AttrWriter, type: number, info: LinkInfo | undefined, slave: SlaveInfo): void {
  w.nest(type, () => {
    if (info === undefined && slave.bridgePort !== undefined) kindName(w, IFLA_INFO.KIND, BRIDGE_PORT_KIND);
    if (info !== undefined) {
      kindName(w, IFLA_INFO.KIND, info.kind);
      const codec = Object.hasOwn(DATA_CODECS, info.kind) ? DATA_CODECS[info.kind] : undefined;
      if (codec !== undefined && hasData(info)) w.nest(IFLA_INFO.DATA, () => codec.encode(w, info));
    }
    if (slave.slaveKind !== undefined) kindName(w, IFLA_INFO.SLAVE_KIND, slave.slaveKind);
    const port = slave.bridgePort;
    if (port !== undefined) w.nest(IFLA_INFO.SLAVE_DATA, () => encodeBridgePortData(w, port));
  });
}

/** Decode an IFLA_LINKINFO value. Data of kinds not listed in LinkInfo is dropped. */
export function decodeLinkInfo(value: Uint8Array): { info?: LinkInfo } & SlaveInfo {
  const a = attrMap(value);
  const out: { info?: LinkInfo } & SlaveInfo = {};
  const kindBytes = a.get(IFLA_INFO.KIND);
  const kind = kindBytes === undefined ? undefined : readString(kindBytes, 'IFLA_INFO_KIND');
  if (kind !== undefined && kind !== BRIDGE_PORT_KIND) {
    const data = a.get(IFLA_INFO.DATA);
    const codec = Object.hasOwn(DATA_CODECS, kind) ? DATA_CODECS[kind] : undefined;
    out.info = data !== undefined && codec !== undefined ? codec.decode(data) : { kind };
  }
  const slave = a.get(IFLA_INFO.SLAVE_KIND);
  if (slave !== undefined) out.slaveKind = readString(slave, 'IFLA_INFO_SLAVE_KIND');
  const slaveData = a.get(IFLA_INFO.SLAVE_DATA);
  if (slaveData !== undefined && (kind === BRIDGE_PORT_KIND || out.slaveKind === 'bridge')) out.bridgePort = decodeBridgePortData(slaveData);
  return out;
}
