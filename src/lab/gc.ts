/**
 * Layer: lab.
 *
 * The lab pass of `nsbox gc`, run after the managed layer's (managed/gc.ts): a lab whose record
 * says `applying` while nobody holds its lock is an `up` that was killed, and one that says
 * `removing` a killed `down`: both are brought down completely (down.ts), record and faults
 * included. Sandboxes labelled `nsbox.lab=LAB` for a LAB that has no record (left by an older
 * nsbox, or a record removed by hand) go too, with the networks LAB.* (a network named LAB.NET
 * alone is not taken: nothing marks it as a lab's). A lab whose lock is held is skipped.
 */
import type { Manager } from '../managed/index.js';
import { downLocked } from './down.js';
import { LAB_LABEL } from './naming.js';

export interface LabGcAction {
  kind: 'lab';
  name: string;
  reason: string;
}

export interface LabGcResult {
  dryRun: boolean;
  removed: LabGcAction[];
  /** Labs skipped because a running `up`/`down` holds their lock. */
  inUse: string[];
  errors: { name: string; error: string }[];
}

/** Why gc takes the lab down, or undefined when it stays. */
function reasonFor(manager: Manager, lab: string): string | undefined {
  const rec = manager.labs.get(lab);
  if (rec?.state === 'applying') return '`lab up` was interrupted';
  if (rec?.state === 'removing') return '`lab down` was interrupted';
  if (rec === undefined && manager.sandboxes().some((s) => s.record.labels[LAB_LABEL] === lab)) return `sandboxes labelled ${LAB_LABEL}=${lab} and no lab record`;
  return undefined;
}

export async function gcLabs(manager: Manager, options: { dryRun?: boolean } = {}): Promise<LabGcResult> {
  const result: LabGcResult = { dryRun: options.dryRun === true, removed: [], inUse: [], errors: [] };
  const candidates = new Set(manager.labs.list().filter((r) => r.state !== 'up').map((r) => r.name));
  for (const s of manager.sandboxes()) {
    const lab = s.record.labels[LAB_LABEL];
    if (lab !== undefined && manager.labs.get(lab) === undefined) candidates.add(lab);
  }
  for (const lab of [...candidates].sort()) {
    const done = await manager.tryLabLocked(lab, async (): Promise<true> => {
      const reason = reasonFor(manager, lab); // again, under the lock: it may have finished meanwhile
      if (reason === undefined) return true;
      result.removed.push({ kind: 'lab', name: lab, reason });
      if (result.dryRun) return true;
      try {
        await downLocked(manager, lab);
      } catch (err) {
        result.errors.push({ name: `lab ${lab}`, error: (err as Error).message });
      }
      return true;
    });
    if (done === undefined) result.inUse.push(`lab ${lab}`);
  }
  return result;
}
