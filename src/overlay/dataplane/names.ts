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

/** The ifalias that marks a device nsbox made for this overlay network: only such devices are changed or removed. */
export function overlayTag(network: string, vni: number): string {
  return `nsbox-overlay:${network}/${vni}`.slice(0, 255);
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
