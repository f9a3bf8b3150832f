/**
 * Layer: managed.
 *
 * gc's overlay pass: the overlay devices (nsvx-, nsob-) this root tagged (overlayTag's owner is
 * the root's scope) for a network it has no record of any more, or a record of another VNI, are
 * removed with the routes of nsbox's protocol through them (they go with the vxlan); devices of
 * another root, of no root, or of a live network are never touched. Then the allowlist table
 * `inet nsbox_overlay`: the set and rule of every VNI that no overlay vxlan left in the
 * namespace (any root's) and no overlay record of this root uses, and the table once nothing is
 * left in it and no overlay device remains. Each network's check runs under its lock (a create
 * of the same name waits, or gc skips it).
 */
import { hostNetlink } from '../sandbox/index.js';
import { overlayOwner } from '../network/index.js';
import { listOverlayDevices, openOverlayNft, overlayRoutesOn, sweepAllowlist, type OverlayDeviceSeen } from '../overlay/dataplane/index.js';
import type { GcResult } from './gc.js';
import type { StateRoot } from './root.js';

function liveVni(root: StateRoot, network: string): number | undefined {
  const rec = root.networks.get(network);
  return rec?.driver === 'overlay' ? rec.config.overlay?.vni : undefined;
}

export async function collectOverlay(root: StateRoot, result: GcResult): Promise<void> {
  const rtnl = hostNetlink();
  const owner = overlayOwner();
  let devices: OverlayDeviceSeen[];
  try {
    devices = await listOverlayDevices(rtnl);
  } catch (err) {
    result.errors.push({ name: 'overlay devices', error: (err as Error).message });
    return;
  }
  const removedIdx = new Set<number>();
  const byNetwork = new Map<string, OverlayDeviceSeen[]>();
  for (const d of devices) if (d.owner === owner) byNetwork.set(d.network, [...(byNetwork.get(d.network) ?? []), d]);
  for (const [network, mine] of byNetwork) {
    if (liveVni(root, network) !== undefined && mine.every((d) => d.vni === liveVni(root, network))) continue;
    await root.tryLocked(`_net.${network}`, async () => {
      const vni = liveVni(root, network); // made meanwhile?
      for (const d of mine.filter((x) => x.vni !== vni)) {
        const routes = d.kind === 'vxlan' ? await overlayRoutesOn(rtnl, d.index).catch(() => []) : [];
        const why = vni === undefined ? `its overlay network ${network} no longer exists` : `overlay network ${network} is VNI ${vni} now, not ${d.vni}`;
        result.removed.push({ kind: 'overlay', name: `${d.name} (${d.kind})`, reason: routes.length === 0 ? why : `${why}; its routes ${routes.join(', ')} go with it` });
        if (result.dryRun) {
          removedIdx.add(d.index);
          continue;
        }
        try {
          await rtnl.link.del({ index: d.index });
          removedIdx.add(d.index);
        } catch (err) {
          if ((err as { code?: string }).code === 'ENODEV') removedIdx.add(d.index);
          else result.errors.push({ name: d.name, error: (err as Error).message });
        }
      }
    });
  }
  // the allowlist: VNIs still used by a vxlan of any root, or recorded here, stay
  const left = devices.filter((d) => !removedIdx.has(d.index));
  const live = new Set<number>(left.flatMap((d) => (d.kind === 'vxlan' ? [d.id ?? d.vni] : [])));
  for (const n of root.networks.list()) if (n.driver === 'overlay' && n.config.overlay !== undefined) live.add(n.config.overlay.vni);
  const nft = openOverlayNft({});
  try {
    for (const what of await sweepAllowlist(nft, live, left.length > 0, result.dryRun)) {
      result.removed.push({ kind: 'overlay', name: what === 'table' ? 'inet nsbox_overlay' : `inet nsbox_overlay ${what}`, reason: what === 'table' ? 'no overlay network is left on this host' : 'no overlay network of this host uses its VNI' });
    }
  } catch (err) {
    result.errors.push({ name: 'inet nsbox_overlay', error: (err as Error).message });
  } finally {
    nft.close();
  }
}
