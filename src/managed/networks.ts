/**
 * Layer: managed.
 *
 * Networks of a state root, as their users see them: who is connected (sandbox names, not
 * keys), and removal that refuses while sandboxes are connected and succeeds for a network
 * that is already gone.
 */
import { NsboxError } from '../errors.js';
import { checkName } from '../network/index.js';
import type { Lease, NetworkInfo } from '../network/index.js';
import type { StateRoot } from './root.js';

/** A lease with the sandbox that holds it. */
export interface NamedLease extends Lease {
  sandbox: string;
}

/** A network and its leases. */
export interface NetworkView extends NetworkInfo {
  leases: NamedLease[];
}

export function viewOf(root: StateRoot, n: NetworkInfo): NetworkView {
  return { ...n, leases: root.networks.leasesIn(n.name).map((l) => ({ ...l, sandbox: root.nameOf(l.owner) })) };
}

/** The network, or a not-found error naming what to do. */
export function networkView(root: StateRoot, name: string): NetworkView {
  const n = root.networks.get(name);
  if (n === undefined) throw new NsboxError(`no network named ${JSON.stringify(name)} (see \`nsbox network ls\`)`, 'NSBOX_ERR_NOT_FOUND');
  return viewOf(root, n);
}

/** Remove networks no sandbox is connected to; `removed: false` for one that was already gone. */
export async function removeNetworks(root: StateRoot, names: readonly string[]): Promise<{ name: string; removed: boolean }[]> {
  const out: { name: string; removed: boolean }[] = [];
  for (const name of names) checkName('network', name); // an invalid name is refused, not "already gone"
  for (const name of names) {
    if (root.networks.get(name) === undefined) {
      out.push({ name, removed: false });
      continue;
    }
    const users = [...new Set(root.networks.leasesIn(name).map((l) => root.nameOf(l.owner)))];
    if (users.length > 0) {
      throw new NsboxError(`network ${name} is in use by ${users.join(', ')}; disconnect them first (nsbox disconnect ${name} SANDBOX)`, 'NSBOX_ERR_IN_USE');
    }
    try {
      await root.networks.remove(name);
    } catch (err) {
      // another process removed it meanwhile: already gone is success
      if (err instanceof NsboxError && err.code === 'NSBOX_ERR_NOT_FOUND') {
        out.push({ name, removed: false });
        continue;
      }
      throw err;
    }
    out.push({ name, removed: true });
  }
  return out;
}
