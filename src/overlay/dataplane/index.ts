/**
 * Layer: overlay/dataplane — the multi-host overlay's data plane (docs/overlay.md, "Data plane").
 *
 * What the control plane (the agent's overlay loop, the `overlay` network driver) calls to bring
 * one host's kernel to a desired state it computed from etcd: the devices of a network, the
 * per-peer (L3) or per-endpoint (L2) entries on its vxlan, and the allowlist of VXLAN sources.
 * No etcd and no store here: the callers hand in plain data (types.ts). Every function works in
 * the host namespace (the caller's, or OverlayHost's) and is idempotent.
 */
import { withHost } from './host.js';
import { ensureDevices, removeDevices } from './devices.js';
import { observe, reconcile } from './reconcile.js';
import { applyDelta } from './delta.js';
import type { OverlayDesired, OverlayDevices, OverlayDrift, OverlayHost, OverlayLocal, OverlayNetworkSpec, ReconcileCounts } from './types.js';

export type {
  OverlayNetworkSpec, OverlayLocal, OverlayPeer, OverlayRemoteEndpoint, OverlayDesired, OverlayDevices, OverlayHost, ReconcileCounts, OverlayDrift,
} from './types.js';
export { overlayDeviceNames, overlayTag, parseOverlayTag, vtepMacFor } from './names.js';
export { OVERLAY_TABLE } from './allowlist.js';

/**
 * Make (idempotently) this host's devices for a network: the vxlan (nolearning, the spec's port,
 * dev = the underlay link holding local.underlay, MTU = the underlay's − 50 or spec.mtu when
 * smaller, the VTEP MAC derived from host id and VNI) and the bridge sandboxes attach to (L3: the
 * block's gateway with the block's prefix, forwarding on for the two devices; L2: the vxlan as its
 * port and the block's gateway with the subnet's prefix). The VNI is guarded by the allowlist
 * from then on (VXLAN of it from sources not allowed is dropped). Bad input: ConfigError naming
 * the field; a device of the name nsbox did not make: NSBOX_ERR_CONFLICT.
 */
export async function ensureOverlayDevices(spec: OverlayNetworkSpec, local: OverlayLocal, host?: OverlayHost): Promise<OverlayDevices> {
  return withHost(host, async (h) => {
    const { vxlan, bridge, vtepMac, mtu, underlayDev } = await ensureDevices(h, spec, local);
    return { vxlan, bridge, vtepMac, mtu, underlayDev };
  });
}

/**
 * Bring the kernel to `desired` (the devices too, as ensureOverlayDevices): L3 per peer a
 * permanent neighbour VTEP address → VTEP MAC, an FDB entry VTEP MAC → underlay and a route per
 * block onlink via the VTEP address (proto 110); L2 per remote endpoint an FDB entry MAC →
 * underlay and a neighbour IP → MAC; the allowlist of the peers' underlay addresses. All written
 * with replace, what is ours and not desired removed; one dump per kind, batched writes.
 * `added`/`replaced`/`removed` count entries and allowlist elements: all 0 when nothing differed.
 */
export async function reconcileOverlay(desired: OverlayDesired, host?: OverlayHost): Promise<ReconcileCounts> {
  return withHost(host, (h) => reconcile(h, desired));
}

/**
 * Write only what differs between `prev` (the state last brought about) and `next`: no dump,
 * no device check (delta.ts). Undefined when the network's spec or local part changed or its
 * vxlan is not there: then reconcileOverlay(next) is the way. The agent's path for watch events.
 */
export async function applyOverlayDelta(prev: OverlayDesired, next: OverlayDesired, host?: OverlayHost): Promise<ReconcileCounts | undefined> {
  return withHost(host, (h) => applyDelta(h, prev, next));
}

/**
 * The differences between `desired` and the kernel, changing nothing: keys `device NAME` (missing, or its MTU),
 * `route CIDR`, `neigh IP`, `fdb MAC`, `allow IP`, `guard udp/PORT vni N`; `want` absent = there
 * and not desired, `have` absent = missing.
 */
export async function observeOverlay(desired: OverlayDesired, host?: OverlayHost): Promise<OverlayDrift[]> {
  return withHost(host, (h) => observe(h, desired));
}

/** Remove this host's devices of a network (their entries go with the vxlan) and its allowlist elements. Already gone succeeds. */
export async function removeOverlayDevices(spec: OverlayNetworkSpec, host?: OverlayHost): Promise<void> {
  return withHost(host, (h) => removeDevices(h, spec));
}

export { listOverlayDevices, overlayRoutesOn, readAllowlistTable, sweepAllowlist, type OverlayDeviceSeen, type AllowlistSeen } from './leftovers.js';
export { openNft as openOverlayNft } from './allowlist.js';
