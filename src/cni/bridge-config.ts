/**
 * Layer: cni (process edge).
 *
 * The reference `bridge` plugin's own fields (containernetworking/plugins, plugins/main/bridge
 * `NetConf`), read with the same meaning, so that a bridge conflist works by changing its
 * `type`. What an nsbox bridge network can honour is accepted; what it cannot is refused with
 * code 2 naming the field and its value, even where the value is the reference's default
 * (isGateway false: an nsbox bridge always holds its gateways). Malformed values are code 7,
 * out-of-range ones too, as the reference refuses them (vlan 5000). BRIDGE_FIELDS is the
 * decision per field; docs/cni.md repeats it (a unit test compares them).
 */
import { checkLinkName } from '../netlink/route/ops/ref.js';
import { invalidField, unsupportedField } from './errors.js';
import { isJsonObject, optArray, optBool, optInt, optString, type JsonObject } from './fields.js';

/** The reference's default bridge name. */
export const DEFAULT_BRIDGE = 'cni0';

/** The bridge fields nsbox honours, read. */
export interface BridgeConfig {
  /** The host bridge (default cni0). */
  bridge: string;
  /** A default route through each family's gateway, added to the result's routes (the bridge always holds the gateways). */
  isDefaultGateway: boolean;
  /** Masquerade traffic from the subnets leaving the host, in nsbox's nf_tables table. */
  ipMasq: boolean;
  /** MTU of the bridge (when nsbox makes it) and both veth ends; undefined for the kernel's default. */
  mtu: number | undefined;
  /** Hairpin on the host veth: a container reaches itself through the bridge (its own published ports). */
  hairpinMode: boolean;
}

export type FieldSupport = 'supported' | 'partly';

/** The decision for every field of the reference's NetConf (docs/cni.md, "Bridge fields"). */
export const BRIDGE_FIELDS: Readonly<Record<string, { support: FieldSupport; nsbox: string }>> = {
  bridge: { support: 'supported', nsbox: 'the host bridge, default `cni0`; made if missing, adopted if it exists (refused if it exists and is not a bridge)' },
  isGateway: { support: 'partly', nsbox: '`true` only (or implied by `isDefaultGateway`): an nsbox bridge always holds its subnets\' gateway addresses and forwards; `false` or absent is refused' },
  isDefaultGateway: { support: 'supported', nsbox: 'a default route per family through its gateway, in the container and the result' },
  forceAddress: { support: 'partly', nsbox: '`false` only: nsbox adds its gateway beside a bridge\'s other addresses and never deletes addresses it did not add' },
  ipMasq: { support: 'supported', nsbox: 'masquerade in nsbox\'s own nf_tables table (docs/firewall.md), per network; no iptables' },
  ipMasqBackend: { support: 'partly', nsbox: 'absent or `nftables` (nsbox\'s own table); `iptables` is refused: nsbox writes no iptables rules' },
  mtu: { support: 'supported', nsbox: 'the bridge (when nsbox makes it) and both veth ends; 0 or absent: the kernel\'s default' },
  hairpinMode: { support: 'supported', nsbox: 'the hairpin flag of the host veth (nsbox\'s own `connect` always sets it); without it a container cannot reach its own published ports through the host' },
  promiscMode: { support: 'partly', nsbox: '`false` only: nsbox does not put bridges in promiscuous mode' },
  vlan: { support: 'partly', nsbox: '0 only (0 to 4094 are valid values): nsbox bridges do not filter VLANs' },
  vlanTrunk: { support: 'partly', nsbox: 'absent or empty only (entries are still checked as the reference does)' },
  preserveDefaultVlan: { support: 'supported', nsbox: 'accepted; it has no effect without VLANs, as in the reference' },
  enabledad: { support: 'partly', nsbox: '`false` only, which is what nsbox does: container IPv6 addresses are added without DAD' },
  macspoofchk: { support: 'partly', nsbox: '`false` only: nsbox has no per-port MAC anti-spoofing rules' },
  disableContainerInterface: { support: 'partly', nsbox: '`false` only: the container interface is always brought up' },
  portIsolation: { support: 'partly', nsbox: '`false` only: nsbox does not isolate bridge ports' },
};

/** Code 2 when `value` is set to anything but what nsbox does (`honoured`). */
function onlyValue<T>(field: string, value: T | undefined, fallback: T, honoured: T, why: string): void {
  const v = value ?? fallback;
  if (v !== honoured) throw unsupportedField(field, v, why);
}

/** The vlanTrunk entries, checked as the reference checks them: `{id}` or `{minID, maxID}`, 1 to 4094, min <= max. */
function checkVlanTrunk(list: unknown[]): void {
  list.forEach((entry, i) => {
    const path = `vlanTrunk[${i}]`;
    if (!isJsonObject(entry)) throw invalidField(path, 'expected {"id": N} or {"minID": A, "maxID": B}');
    const id = optInt(entry, 'id', path, 1, 4094);
    const min = optInt(entry, 'minID', path, 1, 4094);
    const max = optInt(entry, 'maxID', path, 1, 4094);
    if (id === undefined && (min === undefined || max === undefined)) throw invalidField(path, 'give "id", or both "minID" and "maxID"');
    if (min !== undefined && max !== undefined && min > max) throw invalidField(path, `minID ${min} is greater than maxID ${max}`);
  });
}

/** The bridge plugin's fields of a plugin config. */
export function parseBridgeConfig(raw: JsonObject): BridgeConfig {
  const bridge = optString(raw, 'bridge', '') ?? DEFAULT_BRIDGE;
  try {
    checkLinkName(bridge, 'bridge name');
  } catch (err) {
    throw invalidField('bridge', (err as Error).message);
  }
  const isGateway = optBool(raw, 'isGateway', '');
  const isDefaultGateway = optBool(raw, 'isDefaultGateway', '') ?? false;
  if (!(isGateway === true || isDefaultGateway)) {
    throw unsupportedField('isGateway', isGateway ?? false, 'an nsbox bridge always holds its subnets\' gateway addresses (and the host forwards for it): set "isGateway": true');
  }
  onlyValue('forceAddress', optBool(raw, 'forceAddress', ''), false, false, 'nsbox adds its gateway beside the bridge\'s other addresses and never deletes addresses it did not add');
  const ipMasq = optBool(raw, 'ipMasq', '') ?? false;
  const backend = optString(raw, 'ipMasqBackend', '');
  if (backend !== undefined && backend !== 'iptables' && backend !== 'nftables') throw invalidField('ipMasqBackend', `expected "iptables" or "nftables", got ${JSON.stringify(backend)}`);
  if (backend === 'iptables') throw unsupportedField('ipMasqBackend', backend, 'nsbox masquerades in its own nf_tables table and writes no iptables rules: omit ipMasqBackend or use "nftables"');
  const mtu = optInt(raw, 'mtu', '', 0, 65535);
  if (mtu !== undefined && mtu !== 0 && mtu < 68) throw invalidField('mtu', `${mtu} is below 68, the smallest MTU (0 means the kernel's default)`);
  const hairpinMode = optBool(raw, 'hairpinMode', '') ?? false;
  const promiscMode = optBool(raw, 'promiscMode', '') ?? false;
  if (hairpinMode && promiscMode) throw invalidField('promiscMode', 'cannot set hairpin mode and promiscuous mode at the same time (as the reference refuses)');
  onlyValue('promiscMode', promiscMode, false, false, 'nsbox does not put bridges in promiscuous mode');
  const vlan = optInt(raw, 'vlan', '', 0, 4094);
  onlyValue('vlan', vlan, 0, 0, 'nsbox bridges do not filter VLANs');
  const trunk = optArray(raw, 'vlanTrunk', '');
  if (trunk !== undefined) {
    checkVlanTrunk(trunk);
    if (trunk.length > 0) throw unsupportedField('vlanTrunk', trunk, 'nsbox bridges do not filter VLANs');
  }
  optBool(raw, 'preserveDefaultVlan', '');
  onlyValue('enabledad', optBool(raw, 'enabledad', ''), false, false, 'nsbox adds container IPv6 addresses without duplicate address detection');
  onlyValue('macspoofchk', optBool(raw, 'macspoofchk', ''), false, false, 'nsbox has no per-port MAC anti-spoofing rules');
  onlyValue('disableContainerInterface', optBool(raw, 'disableContainerInterface', ''), false, false, 'nsbox always brings the container interface up');
  onlyValue('portIsolation', optBool(raw, 'portIsolation', ''), false, false, 'nsbox does not isolate bridge ports from each other');
  return { bridge, isDefaultGateway, ipMasq, mtu: mtu === 0 ? undefined : mtu, hairpinMode };
}
