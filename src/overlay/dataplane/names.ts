/**
 * Layer: overlay/dataplane — names, pure.
 *
 * Device names and the VTEP MAC of an overlay network on a host. Names follow the bridge
 * driver's rule (src/network/names.ts): `nsvx-NAME` (the vxlan) and `nsob-NAME` (its bridge)
 * when they fit IFNAMSIZ and hold no '.', else the prefix and 10 hex digits of a hash of the name.
 * The VTEP MAC is a hash of host id and VNI (locally administered, unicast), so an agent that
 * restarts, or a device made again, keeps the MAC its peers hold.
 */
import { nodeCrypto } from '../../builtins.js';

function sha(text: string): Buffer {
  return nodeCrypto().createHash('sha256').update(text).digest();
}

function deviceName(prefix: string, network: string): string {
  const plain = `${prefix}${network}`;
  return plain.length <= 15 && !plain.includes('.') ? plain : `${prefix}${sha(network).toString('hex').slice(0, 10)}`;
}

export function overlayDeviceNames(network: string): { vxlan: string; bridge: string } {
  return { vxlan: deviceName('nsvx-', network), bridge: deviceName('nsob-', network) };
}

/**
 * The ifalias that marks a device nsbox made for this overlay network: only such devices are
 * changed or removed. `owner` (a state root's scope, its namespace directory as for bridges:
 * network/names.ts bridgeTag) follows a space, so `nsbox gc` of one root tells its leftovers
 * from another root's devices in the same namespace; callers without a root (the data plane's
 * tests and benches) leave it out.
 */
export function overlayTag(network: string, vni: number, owner?: string): string {
  return `nsbox-overlay:${network}/${vni}${owner === undefined ? '' : ` ${owner}`}`.slice(0, 255);
}

/** An overlay tag read back: network, VNI and owner ('' when none); undefined for any other alias. */
export function parseOverlayTag(alias: string | undefined): { network: string; vni: number; owner: string } | undefined {
  const m = alias === undefined ? null : /^nsbox-overlay:([^/ ]+)\/(\d+)(?: (.*))?$/.exec(alias);
  return m === null ? undefined : { network: m[1]!, vni: Number(m[2]), owner: m[3] ?? '' };
}

/** Whether a device's ifalias says nsbox made it for the overlay network `network` (with this VNI or an earlier one). */
export function isOverlayTag(alias: string | undefined, network: string): boolean {
  return alias !== undefined && alias.startsWith(`nsbox-overlay:${network}/`);
}

/** The VTEP MAC of `hostId` on VNI `vni`: stable, locally administered (0x02), unicast. */
export function vtepMacFor(hostId: string, vni: number): string {
  const b = sha(`nsbox-vtep\0${hostId}\0${vni}`).subarray(0, 6);
  b[0] = (b[0]! & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
