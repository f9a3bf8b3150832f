/**
 * Layer: lab.
 *
 * How a lab's parts are named and marked among nsbox's objects: its sandboxes carry the label
 * `nsbox.lab=LAB` (and are named LAB.NODE), its networks are named LAB.NET, and the two ends of
 * a link's veth are recorded under source names derived from the lab and the link (the key of
 * each end's row: the pair is born in the nodes under the file's names), so prune and `down`
 * find them again; an older nsbox made the pair in the host under these names.
 */
import { nodeCrypto } from '../builtins.js';

/** The label on every sandbox of a lab: its value is the lab's name. */
export const LAB_LABEL = 'nsbox.lab';

/** The prefix of a lab's networks and sandboxes. */
export const labPrefix = (lab: string): string => `${lab}.`;

/** The source name (row key) of end `a` or `b` of a link's veth (12 bytes: `nl` + 9 hex + the end). */
export function hostVethName(lab: string, link: string, end: 'a' | 'b'): string {
  return `nl${nodeCrypto().createHash('sha256').update(`${lab}/${link}`).digest('hex').slice(0, 9)}${end}`;
}
