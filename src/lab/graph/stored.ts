/**
 * Layer: lab.
 *
 * The graph of a lab by name (`nsbox lab graph LAB`): the spec its last `up` stored
 * (`manager.labs`, src/store/lab-records.ts: the validated LabSpec as JSON) with its live state
 * over it (which faults are active, from the lab's fault records). Reads the store only: no
 * kernel, no lock (a graph is a picture of one moment).
 */
import { NsboxError } from '../../errors.js';
import type { Manager } from '../../managed/index.js';
import type { LabSpec } from '../model.js';
import { buildGraph, type LabGraph } from './model.js';

/** The stored spec if it has the shape of a LabSpec (a record written by an older nsbox may not). */
function asSpec(value: unknown): LabSpec | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const lists = ['networks', 'nodes', 'links', 'faults'].every((k) => Array.isArray(v[k]));
  return typeof v.lab === 'string' && lists ? (value as LabSpec) : undefined;
}

/** `state`: the Manager (only its lab records are read). */
export function storedGraph(state: Pick<Manager, 'labs'>, lab: string): LabGraph {
  const record = state.labs.get(lab);
  if (record === undefined) {
    throw new NsboxError(`no lab ${JSON.stringify(lab)} in the state (it is not up): give its file with \`nsbox lab graph -f FILE\`, or bring it up with \`nsbox lab up -f FILE\``, 'NSBOX_ERR_NOT_FOUND');
  }
  const spec = asSpec(record.spec);
  if (spec === undefined) {
    throw new NsboxError(`lab ${JSON.stringify(lab)}: its stored spec is not one this nsbox can read: give its file with \`nsbox lab graph -f FILE\``, 'NSBOX_ERR_NOT_FOUND');
  }
  return buildGraph(spec, { activeFaults: state.labs.faults(lab).map((f) => f.name) });
}
