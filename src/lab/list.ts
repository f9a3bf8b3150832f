/**
 * Layer: lab.
 *
 * `lab ls`: every lab, from its record (state, file, times) and its sandboxes (how many nodes
 * are up); a lab whose sandboxes carry its label but that has no record (an older nsbox's, or
 * one `gc` will collect) is listed with no state.
 */
import type { Manager } from '../managed/index.js';
import type { LabState } from '../store/index.js';
import { knownLabs } from './down.js';
import { labSandboxes } from './members.js';

export interface LabListing {
  name: string;
  /** undefined: sandboxes labelled with it, and no record. */
  state: LabState | undefined;
  /** Its sandboxes (nodes) now. */
  nodes: number;
  file: string | undefined;
  createdAt: string | undefined;
  updatedAt: string | undefined;
}

export function listLabs(manager: Manager): LabListing[] {
  return knownLabs(manager).map((name) => {
    const rec = manager.labs.get(name);
    return {
      name, state: rec?.state, nodes: labSandboxes(manager, name).length, file: rec?.file,
      createdAt: rec?.createdAt, updatedAt: rec?.updatedAt,
    };
  });
}
