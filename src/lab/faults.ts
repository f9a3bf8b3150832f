/**
 * Layer: lab.
 *
 * Partitions of a running lab, on its nodes' fault tables (impair.ts, firewall/fault-table.ts):
 * every node of one group drops, on arrival, what comes from any address of the other group's
 * nodes (read live from their namespaces), and the other way round unless one-way (then only
 * traffic from the first group to the second is dropped). Healing unblocks every address on
 * every node of the lab; the links' loss stays.
 */
import { NsboxError } from '../errors.js';
import type { Manager } from '../managed/index.js';
import { blockIn, unblockAllIn } from './impair.js';
import { labSandboxes } from './members.js';
import { labPrefix } from './naming.js';

/** A node's addresses, loopback left out. */
async function addressesOf(manager: Manager, sandbox: string): Promise<string[]> {
  const view = await manager.kernelView(sandbox);
  const lo = new Set(view.links.filter((l) => l.name === 'lo').map((l) => l.index));
  return view.addresses.filter((a) => !lo.has(a.index)).map((a) => a.address.slice(0, a.address.indexOf('/')));
}

export interface PartitionResult {
  /** Per sandbox: the source addresses it now drops. */
  blocked: Record<string, string[]>;
}

export async function partition(manager: Manager, lab: string, groups: readonly (readonly string[])[], options: { oneway?: boolean } = {}): Promise<PartitionResult> {
  if (groups.length < 2 || groups.some((g) => g.length === 0)) throw new NsboxError('a partition needs at least two non-empty groups of nodes', 'NSBOX_ERR_USAGE');
  if (options.oneway && groups.length !== 2) throw new NsboxError('a one-way partition has exactly two groups', 'NSBOX_ERR_USAGE');
  const members = new Set(labSandboxes(manager, lab).map((s) => s.record.name));
  if (members.size === 0) throw new NsboxError(`no lab named ${lab} is up (see \`nsbox ls\`)`, 'NSBOX_ERR_NOT_FOUND');
  const seen = new Set<string>();
  for (const node of groups.flat()) {
    if (!members.has(`${labPrefix(lab)}${node}`)) throw new NsboxError(`lab ${lab} has no node ${node}`, 'NSBOX_ERR_NOT_FOUND');
    if (seen.has(node)) throw new NsboxError(`node ${node} is in two groups`, 'NSBOX_ERR_USAGE');
    seen.add(node);
  }
  const sandboxes = groups.map((g) => g.map((n) => `${labPrefix(lab)}${n}`));
  const addresses = new Map<string, string[]>();
  for (const s of sandboxes.flat()) addresses.set(s, await addressesOf(manager, s));
  const blocked: Record<string, string[]> = {};
  for (const [i, receivers] of sandboxes.entries()) {
    const senders = sandboxes.filter((_, j) => j !== i && (!options.oneway || j < i)).flat();
    const sources = senders.flatMap((s) => addresses.get(s)!);
    for (const r of receivers) {
      if (sources.length === 0) continue;
      await blockIn(manager.keyOf(r), sources);
      blocked[r] = sources;
    }
  }
  return { blocked };
}

/** Every partition of the lab healed; per sandbox, the addresses it no longer drops. */
export async function heal(manager: Manager, lab: string): Promise<Record<string, string[]>> {
  const members = labSandboxes(manager, lab);
  if (members.length === 0) throw new NsboxError(`no lab named ${lab} is up (see \`nsbox ls\`)`, 'NSBOX_ERR_NOT_FOUND');
  const out: Record<string, string[]> = {};
  for (const s of members) out[s.record.name] = await unblockAllIn(manager.keyOf(s.record.name));
  return out;
}
