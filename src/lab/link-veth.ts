/**
 * Layer: lab.
 *
 * A link's veth between two nodes, made with what the managed layer already records: the pair
 * is made in the host under names derived from the lab and the link (naming.ts), then each end
 * moves into its node as a recorded interface (`Manager.addInterface`, with the file's name,
 * address and MAC). A failure undoes what was done. Removing the sandboxes returns the ends to
 * the host under those names; `down` deletes them there.
 */
import { Rtnl } from '../netlink/route/ops/index.js';
import { pausePoint, type Manager } from '../managed/index.js';
import type { EndpointSpec, LinkSpec } from './model.js';
import { hostVethName } from './naming.js';


/** Delete host links by name (those not there are fine). */
export async function deleteHostLinks(names: readonly string[]): Promise<string[]> {
  return Rtnl.with({}, async (rtnl) => {
    const deleted: string[] = [];
    for (const name of names) {
      if ((await rtnl.link.find({ name })) === undefined) continue;
      await rtnl.link.del({ name });
      deleted.push(name);
    }
    return deleted;
  });
}

/** What `Manager.addInterface` is given for a link end: its name inside, address and MAC. */
export function endOptions(end: EndpointSpec): { name: string; ipv4?: string; ipv6?: string; mac?: string } {
  const address = end.address === undefined ? {} : end.address.family === 4
    ? { ipv4: `${end.address.address}/${end.address.prefixLen}` } : { ipv6: `${end.address.address}/${end.address.prefixLen}` };
  return { name: end.iface, ...address, ...(end.mac === undefined ? {} : { mac: end.mac }) };
}

/** Make the veth of `link` between the sandboxes `a` and `b`: all or nothing. */
export async function makeLinkVeth(manager: Manager, lab: string, link: Omit<LinkSpec, 'impair' | 'seed'>, sandboxes: { a: string; b: string }): Promise<void> {
  const hostA = hostVethName(lab, link.name, 'a');
  const hostB = hostVethName(lab, link.name, 'b');
  await deleteHostLinks([hostA, hostB]); // a leftover of an interrupted run
  const mtu = (end: EndpointSpec): number | undefined => end.mtu ?? link.mtu;
  await Rtnl.with({}, (rtnl) => rtnl.link.add({
    name: hostA, kind: 'veth', numTxQueues: 1, numRxQueues: 1, ...(mtu(link.a) === undefined ? {} : { mtu: mtu(link.a) }),
    peer: { name: hostB, numTxQueues: 1, numRxQueues: 1, ...(mtu(link.b) === undefined ? {} : { mtu: mtu(link.b) }) },
  }));
  let movedA = false;
  try {
    await manager.addInterface(sandboxes.a, hostA, endOptions(link.a));
    movedA = true;
    await pausePoint('lab-link:one-end'); // a crash test: one end moved, the other still in the host
    await manager.addInterface(sandboxes.b, hostB, endOptions(link.b));
  } catch (err) {
    if (movedA) await manager.removeInterface(sandboxes.a, link.a.iface).catch(() => undefined);
    await deleteHostLinks([hostA, hostB]).catch(() => undefined);
    throw err;
  }
}
