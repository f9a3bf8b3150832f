/**
 * Layer: lab.
 *
 * What of the managed layer's objects belong to a lab, found without its file: the sandboxes
 * labelled nsbox.lab=LAB, and the networks named LAB.NET.
 */
import type { Manager, NetworkView, SandboxStatus } from '../managed/index.js';
import { LAB_LABEL, labPrefix } from './naming.js';

export function labSandboxes(manager: Manager, lab: string): SandboxStatus[] {
  return manager.sandboxes().filter((s) => s.record.labels[LAB_LABEL] === lab);
}

export function labNetworks(manager: Manager, lab: string): NetworkView[] {
  return manager.networks().filter((n) => n.name.startsWith(labPrefix(lab)));
}

/** The node's name (NODE of LAB.NODE). */
export const nodeName = (lab: string, sandbox: string): string => (sandbox.startsWith(labPrefix(lab)) ? sandbox.slice(labPrefix(lab).length) : sandbox);
