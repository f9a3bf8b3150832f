/**
 * Layer: lab.
 *
 * What a partition blocks (firewall/fault-table.ts, dropped at the receiver): every node of
 * one group drops what comes from any address of the other groups' nodes (read live from their
 * namespaces, loopback left out), and the other way round unless one-way (then only traffic
 * from the first group to the second is dropped). Nothing is changed here: the fault applier
 * (faults.ts) records the blocks, then makes them.
 */
import { NsboxError } from '../errors.js';
import type { Manager } from '../managed/index.js';
import type { FaultAction } from './fault-record.js';
import { labSandboxes } from './members.js';
import { labPrefix } from './naming.js';

/** A node's addresses, loopback left out. */
async function addressesOf(manager: Manager, sandbox: string): Promise<string[]> {
  const view = await manager.kernelView(sandbox);
  const lo = new Set(view.links.filter((l) => l.name === 'lo').map((l) => l.index));
  return view.addresses.filter((a) => !lo.has(a.index)).map((a) => a.address.slice(0, a.address.indexOf('/')));
}

/** Check the groups against the lab's nodes (a usage or not-found error naming the problem). */
export function checkGroups(manager: Manager, lab: string, groups: readonly (readonly string[])[], oneway: boolean): void {
  if (groups.length < 2 || groups.some((g) => g.length === 0)) throw new NsboxError('a partition needs at least two non-empty groups of nodes', 'NSBOX_ERR_USAGE');
  if (oneway && groups.length !== 2) throw new NsboxError('a one-way partition has exactly two groups', 'NSBOX_ERR_USAGE');
  const members = new Set(labSandboxes(manager, lab).filter((s) => s.state === 'ready').map((s) => s.record.name));
  if (members.size === 0) throw new NsboxError(`no lab named ${lab} is up (see \`nsbox ls\`)`, 'NSBOX_ERR_NOT_FOUND');
  const seen = new Set<string>();
  for (const node of groups.flat()) {
    if (!members.has(`${labPrefix(lab)}${node}`)) throw new NsboxError(`lab ${lab} has no node ${node}`, 'NSBOX_ERR_NOT_FOUND');
    if (seen.has(node)) throw new NsboxError(`node ${node} is in two groups`, 'NSBOX_ERR_USAGE');
    seen.add(node);
  }
}

/** The blocks of a partition, per receiving sandbox (none for a receiver with nothing to drop). */
export async function partitionBlocks(manager: Manager, lab: string, groups: readonly (readonly string[])[], oneway: boolean): Promise<FaultAction[]> {
  checkGroups(manager, lab, groups, oneway);
  const sandboxes = groups.map((g) => g.map((n) => `${labPrefix(lab)}${n}`));
  const addresses = new Map<string, string[]>();
  for (const s of sandboxes.flat()) addresses.set(s, await addressesOf(manager, s));
  const out: FaultAction[] = [];
  for (const [i, receivers] of sandboxes.entries()) {
    const senders = sandboxes.filter((_, j) => j !== i && (!oneway || j < i)).flat();
    const sources = senders.flatMap((s) => addresses.get(s)!);
    if (sources.length === 0) continue;
    for (const r of receivers) out.push({ kind: 'block', sandbox: r, addresses: sources });
  }
  return out;
}
