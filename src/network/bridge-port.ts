/**
 * Layer: network.
 *
 * A sandbox's link as a port of a host bridge, shared by the drivers whose sandboxes sit on a
 * bridge (bridge, overlay): a veth whose sandbox end is born inside the namespace and whose
 * host end, named after the sandbox and the network, is the port.
 */
import type { Rtnl } from '../netlink/route/ops/index.js';
import type { NetworkRecord } from '../store/index.js';
import type { DriverContext, LinkRequest } from './driver.js';
import { deleteLink } from './link-deletion.js';
import { hostVethName, vethTag } from './names.js';

/** Make the veth, its host end a port of bridge `bridgeIndex`; the host end's name. */
export async function addBridgePort(host: Rtnl, bridgeIndex: number, network: NetworkRecord, link: LinkRequest): Promise<string> {
  const hostIf = hostVethName(link.owner, network.name);
  // The host end never makes IPv6 link-local addresses: no DAD, MLD or router
  // solicitations flooding the bridge, whose cost grows with the number of ports.
  await host.link.add({
    name: hostIf, kind: 'veth', mtu: network.config.mtu, master: bridgeIndex, up: true, addrGenMode: 'none', alias: vethTag(link.owner), numTxQueues: 1, numRxQueues: 1,
    peer: { name: link.ifname, netnsFd: link.netnsFd, mtu: network.config.mtu, address: link.mac },
  });
  return hostIf;
}

/** The host end of a sandbox's port. Deleting the sandbox's end deletes it too; detach makes sure (that end may not have been found). */
export function bridgePortHostLinks(network: NetworkRecord, owner: string): string[] {
  return [hostVethName(owner, network.name)];
}

/** Delete the host end of a sandbox's port; already gone succeeds. */
export async function removeBridgePort(network: NetworkRecord, owner: string, ctx: DriverContext): Promise<void> {
  for (const name of bridgePortHostLinks(network, owner)) await deleteLink(ctx.host(), name);
}
