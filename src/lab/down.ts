/**
 * Layer: lab.
 *
 * `down`: remove everything of a lab, found without its file (members.ts): first its
 * supervisor and processes (supervisor/lifecycle.ts), then its sandboxes
 * (Manager.removeSandboxes: their namespaces, with the impairments and fault tables in them),
 * then its networks, then the host ends of its links' veths, which removing a sandbox returns
 * to the host (link-veth.ts), then its directory ROOT/labs/LAB and its record. Nothing else is
 * touched; a lab already gone is success.
 */
import { NsboxError } from '../errors.js';
import type { Manager } from '../managed/index.js';
import { deleteHostLinks } from './link-veth.js';
import { labNetworks, labSandboxes } from './members.js';
import { forgetLab, processesDown } from './supervisor/lifecycle.js';

export interface DownResult {
  lab: string;
  sandboxes: string[];
  networks: string[];
  hostLinks: string[];
  /** Whether a supervisor was running (it was stopped first). */
  supervisor: boolean;
}

export async function down(manager: Manager, lab: string): Promise<DownResult> {
  const { supervisor } = await processesDown(manager, lab);
  const sandboxes = labSandboxes(manager, lab);
  // Link ends moved in from the host (not made by a network) go back to it under these names.
  const hostEnds = sandboxes.flatMap((s) => s.record.config.interfaces.filter((i) => i.network === undefined).map((i) => i.srcName));
  const names = sandboxes.map((s) => s.record.name);
  const outcomes = await manager.removeSandboxes(names);
  const errors = outcomes.flatMap((o) => o.errors.map((e) => `${o.name}: ${e}`));
  const networks = (await manager.removeNetworks(labNetworks(manager, lab).map((n) => n.name))).filter((n) => n.removed).map((n) => n.name);
  const hostLinks = await deleteHostLinks(hostEnds.filter((n) => /^nl[0-9a-f]{9}[ab]$/.test(n)));
  if (errors.length === 0) manager.labs.remove(lab); // its record and active faults: what they did died with the namespaces
  if (errors.length > 0) throw new NsboxError(`lab ${lab}: removing its sandboxes left problems (run \`nsbox gc\`):\n${errors.join('\n')}`, 'NSBOX_ERR_INTERNAL');
  forgetLab(manager, lab);
  return { lab, sandboxes: names, networks, hostLinks, supervisor };
}
