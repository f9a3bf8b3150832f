/**
 * Layer: lab.
 *
 * `down`: remove everything of a lab, found without its file (members.ts): first its
 * supervisor and processes (supervisor/lifecycle.ts), then its sandboxes
 * (Manager.removeSandboxes: their namespaces, with the impairments and fault tables in them),
 * (its links' veth pairs die with them), then its networks, then any host end of a link's veth
 * left by an older nsbox, whose links were made in the host and came back to it with their
 * sandboxes (link-veth.ts), or of a link of the spec it was last applied with (such an `up`
 * killed while a veth was still in the host), then its directory ROOT/labs/LAB. Under the
 * lab's lock, its record marked `removing` first (a killed `down` is finished by the next one or
 * by `gc`) and removed last, with its faults. Nothing else is touched; a lab already gone is
 * success.
 */
import { NsboxError } from '../errors.js';
import { pausePoint, type Manager } from '../managed/index.js';
import { deleteHostLinks } from './link-veth.js';
import { labNetworks, labSandboxes } from './members.js';
import { LAB_LABEL, hostVethName } from './naming.js';
import { LINK_END } from './prune.js';
import { specFromStored } from './spec-json.js';
import { forgetLab, processesDown } from './supervisor/lifecycle.js';

export interface DownResult {
  lab: string;
  sandboxes: string[];
  networks: string[];
  hostLinks: string[];
  /** Whether the lab had a record (now removed). */
  record: boolean;
  /** Whether a supervisor was running (it was stopped first). */
  supervisor: boolean;
}

/** The host names of the veth ends of every link of the lab's recorded spec. */
function recordedHostEnds(manager: Manager, lab: string): string[] {
  const rec = manager.labs.get(lab);
  if (rec === undefined) return [];
  try {
    return specFromStored(rec.spec).links.flatMap((l) => [hostVethName(lab, l.name, 'a'), hostVethName(lab, l.name, 'b')]);
  } catch {
    return [];
  }
}

/** `down` for a caller that holds the lab's lock (gc). */
export async function downLocked(manager: Manager, lab: string): Promise<DownResult> {
  const record = manager.labs.setState(lab, 'removing');
  await pausePoint('lab-down:recorded');
  const { supervisor } = await processesDown(manager, lab);
  const sandboxes = labSandboxes(manager, lab);
  // Link ends moved in from the host (not made by a network) go back to it under these names.
  const hostEnds = sandboxes.flatMap((s) => s.record.config.interfaces.filter((i) => i.network === undefined).map((i) => i.srcName));
  const names = sandboxes.map((s) => s.record.name);
  const outcomes = await manager.removeSandboxes(names);
  const errors = outcomes.flatMap((o) => o.errors.map((e) => `${o.name}: ${e}`));
  await pausePoint('lab-down:sandboxes');
  const networks = (await manager.removeNetworks(labNetworks(manager, lab).map((n) => n.name))).filter((n) => n.removed).map((n) => n.name);
  const hostLinks = await deleteHostLinks([...new Set([...hostEnds.filter((n) => LINK_END.test(n)), ...recordedHostEnds(manager, lab)])]);
  if (errors.length > 0) throw new NsboxError(`lab ${lab}: removing its sandboxes left problems (run \`nsbox gc\`):\n${errors.join('\n')}`, 'NSBOX_ERR_INTERNAL');
  forgetLab(manager, lab); // its directory, its record and active faults: what they did died with the namespaces
  return { lab, sandboxes: names, networks, hostLinks, record, supervisor };
}

export async function down(manager: Manager, lab: string): Promise<DownResult> {
  return manager.labLocked(lab, () => downLocked(manager, lab));
}

/** Every lab: those with a record, and those whose sandboxes are labelled with a lab that has none. */
export function knownLabs(manager: Manager): string[] {
  const names = new Set(manager.labs.list().map((r) => r.name));
  for (const s of manager.sandboxes()) {
    const lab = s.record.labels[LAB_LABEL];
    if (lab !== undefined) names.add(lab);
  }
  return [...names].sort();
}

/** `down --all`: every lab, one after the other; a failure of one does not stop the others. */
export async function downAll(manager: Manager): Promise<{ results: DownResult[]; errors: { lab: string; error: string }[] }> {
  const results: DownResult[] = [];
  const errors: { lab: string; error: string }[] = [];
  for (const lab of knownLabs(manager)) {
    try {
      results.push(await down(manager, lab));
    } catch (err) {
      errors.push({ lab, error: (err as Error).message });
    }
  }
  return { results, errors };
}
