/**
 * Layer: lab.
 *
 * A link's veth between two nodes: a pair born in both nodes' namespaces through the managed
 * layer (`Manager.addVethPair`: recorded in both sandboxes, no end ever in the host), its rows
 * keyed by names derived from the lab and the link (naming.ts). Removing either sandbox deletes
 * it with the namespace. Labs made before pairs were born in place (each end moved in from the
 * host) give their ends back to the host when their sandboxes go: `down` deletes them there
 * (deleteHostLinks).
 */
import { Rtnl } from '../netlink/route/ops/index.js';
import type { Manager } from '../managed/index.js';
import type { EndpointSpec, LinkSpec } from './model.js';
import { hostVethName } from './naming.js';


/** Delete host links by name (those not there are fine). */
export async function deleteHostLinks(names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  return Rtnl.with({}, async (rtnl) => {
    const deleted: string[] = [];
    // Many names (a lab's every link end): one dump of the host's links instead of a request each.
    const there = names.length > 16 ? new Set((await rtnl.link.list()).map((l) => l.name)) : undefined;
    for (const name of names) {
      if (there !== undefined ? !there.has(name) : (await rtnl.link.find({ name })) === undefined) continue;
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

/**
 * Make the veth of `link` between the sandboxes `a` and `b`: born in both nodes with the file's
 * names, MTUs and MACs (Manager.addVethPair), then addressed and up; all or nothing. The ends'
 * rows are keyed by the link's hash names (hostVethName), so the prune finds them again.
 */
export async function makeLinkVeth(manager: Manager, lab: string, link: Omit<LinkSpec, 'impair' | 'seed'>, sandboxes: { a: string; b: string }): Promise<void> {
  const end = (which: 'a' | 'b') => {
    const e = link[which];
    const { name, ...address } = endOptions(e);
    const mtu = e.mtu ?? link.mtu;
    return { sandbox: sandboxes[which], name, key: hostVethName(lab, link.name, which), ...address, ...(mtu === undefined ? {} : { mtu }) };
  };
  await manager.addVethPair(end('a'), end('b'));
}
