/**
 * Layer: lab (pure).
 *
 * A validated lab (model.ts LabSpec) as the JSON the lab's record keeps (store/lab-records.ts),
 * and back: `up` stores what it applies, `down`, `gc` and `status` (drift) read it without the
 * file. The spec holds only plain values (addresses and subnets are objects of strings and
 * numbers); a field left undefined is written as null and read back as undefined, so what is
 * read equals what was written. The digest is the sha256 of that JSON: the same file gives the
 * same digest.
 */
import { createHash } from 'node:crypto';
import type { LabSpec } from './model.js';

/** The JSON text of a spec (keys in the spec's own order, undefined as null). */
export function specJson(spec: LabSpec): string {
  return JSON.stringify(spec, (_key, value: unknown) => (value === undefined ? null : value));
}

export function specDigest(spec: LabSpec): string {
  return createHash('sha256').update(specJson(spec)).digest('hex');
}

/** The stored form: the parsed JSON (what `LabRecords.beginApply` takes). */
export const specToStored = (spec: LabSpec): unknown => JSON.parse(specJson(spec)) as unknown;

function revive(value: unknown): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map(revive);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = revive(v);
    return out;
  }
  return value;
}

/** A spec read back from a lab record; throws when the record does not hold one of this format. */
export function specFromStored(value: unknown): LabSpec {
  const spec = revive(value) as Partial<LabSpec> | undefined;
  if (spec === undefined || typeof spec !== 'object' || spec.version !== 1 || typeof spec.lab !== 'string'
    || !Array.isArray(spec.networks) || !Array.isArray(spec.nodes) || !Array.isArray(spec.links) || !Array.isArray(spec.faults) || !Array.isArray(spec.schedule)) {
    throw new TypeError('the lab record does not hold a lab of format version 1');
  }
  return spec as LabSpec;
}
