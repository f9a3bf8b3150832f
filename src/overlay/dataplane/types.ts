/**
 * Layer: overlay/dataplane — the multi-host overlay's kernel side (docs/overlay.md, "Data plane").
 *
 * What the control plane hands the data plane: a network's spec, this host's place in it, and
 * the remote hosts and (L2) endpoints as it knows them; what ensureOverlayDevices made. Plain
 * data: no etcd, no store.
 */
import type { Rtnl } from '../../netlink/route/ops/index.js';

export interface OverlayNetworkSpec {
  name: string;
  /** VXLAN network identifier, 1 to 16777215. */
  vni: number;
  /** The network's IPv4 subnet (CIDR). */
  subnet: string;
  /** The prefix length of each host's block (L3), e.g. 24 for /24 blocks of a /16. */
  blockPrefixLength: number;
  mode: 'l3' | 'l2';
  /** Upper bound of the overlay MTU; the underlay's MTU − 50 when that is smaller. */
  mtu?: number;
  /** The VXLAN UDP port (4789 is IANA's, 8472 Linux's legacy one). */
  port: number;
}

export interface OverlayLocal {
  hostId: string;
  /** This host's underlay IPv4: an address held by one of its links. */
  underlay: string;
  /** This host's block (CIDR inside the subnet). */
  block: string;
  /** The state root whose devices these are (names.ts overlayTag); absent: no root's. */
  owner?: string;
}

export interface OverlayPeer {
  hostId: string;
  underlay: string;
  vtepMac: string;
  /** The peer's blocks; in L3 mode its VTEP address is the network address of the first. */
  blocks: string[];
}

/** A sandbox on another host (L2 mode). */
export interface OverlayRemoteEndpoint {
  ip: string;
  mac: string;
  hostId: string;
  underlay: string;
}

export interface OverlayDesired {
  network: OverlayNetworkSpec;
  local: OverlayLocal;
  peers: OverlayPeer[];
  /** L2 mode: the remote endpoints (those of this host are skipped). Ignored in L3 mode. */
  endpoints: OverlayRemoteEndpoint[];
}

export interface OverlayDevices {
  vxlan: string;
  bridge: string;
  vtepMac: string;
  /** The overlay MTU: the vxlan's and the bridge's; sandboxes attached take it too. */
  mtu: number;
  /** The underlay link holding local.underlay. */
  underlayDev: string;
}

/**
 * Where the data plane works: by default the calling process's network namespace (the host's;
 * under `nsenter --net=…` that namespace). `rtnl`: an open rtnetlink handle of the host (a
 * network driver's `ctx.host()`), used and left open; `netns`: a namespace path or fd instead
 * (tests). nf_tables and the sysctls are opened in the same namespace.
 */
export interface OverlayHost {
  rtnl?: Rtnl;
  netns?: string | number;
}

/** What a reconcile changed. */
export interface ReconcileCounts {
  added: number;
  replaced: number;
  removed: number;
}

/** One difference between desired and kernel: `want` absent = should not be there, `have` absent = missing. */
export interface OverlayDrift {
  key: string;
  want?: string;
  have?: string;
}
