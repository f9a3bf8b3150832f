/**
 * Layer: lab.
 *
 * The validated file of a running lab, for what needs its definitions (named faults, the
 * links' own impairments): the spec `up` stored with the lab's record (store/lab-records.ts),
 * or a file given with `-f`, which overrides it (it must be the same lab). And the lab's record
 * itself, which an active fault needs (`lab_faults` refers to `labs`).
 */
import { NsboxError } from '../errors.js';
import type { Manager } from '../managed/index.js';
import { loadLabFile } from './load.js';
import type { LabSpec } from './model.js';
import { specFromStored } from './spec-json.js';

/** The spec stored for `lab`, if there is one of this format. */
export function storedSpec(manager: Manager, lab: string): LabSpec | undefined {
  const rec = manager.labs.get(lab);
  if (rec === undefined || rec.spec === null) return undefined;
  try {
    const spec = specFromStored(rec.spec);
    return spec.lab === lab ? spec : undefined;
  } catch {
    return undefined;
  }
}

/** The file's spec (`file` given) or the stored one; undefined when neither is there. */
export async function labSpecOf(manager: Manager, lab: string, file: string | undefined): Promise<LabSpec | undefined> {
  if (file === undefined) return storedSpec(manager, lab);
  const spec = await loadLabFile(file);
  if (spec.lab !== lab) throw new NsboxError(`${file} is the file of lab ${spec.lab}, not of ${lab}`, 'NSBOX_ERR_USAGE');
  return spec;
}

/** As labSpecOf, but an error saying what to do when there is none. */
export async function requireLabSpec(manager: Manager, lab: string, file: string | undefined): Promise<LabSpec> {
  const spec = await labSpecOf(manager, lab, file);
  if (spec === undefined) throw new NsboxError(`no file is stored for lab ${lab}: give it with -f FILE`, 'NSBOX_ERR_USAGE');
  return spec;
}

/**
 * Make sure the lab has a record for its faults to refer to: a lab brought up by an `up` that
 * did not record labs gets one in state `up` with no spec (the next `up` fills it in).
 */
export function ensureLabRecord(manager: Manager, lab: string): void {
  if (manager.labs.get(lab) !== undefined) return;
  manager.labs.beginApply(lab, null, '', undefined);
  manager.labs.setState(lab, 'up');
}
