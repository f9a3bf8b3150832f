/**
 * Layer: lab.
 *
 * The faults of a lab as `lab fault list` and `lab status` show them: every fault of its file
 * (active or not) and every active ad-hoc one, each with its kind, what it does, since when it
 * is active and when it heals itself; a fault past its heal time that nothing healed yet (no
 * timer ran) is `overdue`.
 */
import type { Manager } from '../managed/index.js';
import { describeFault, faultKinds, isDue } from './fault-record.js';
import { activeFaults } from './faults.js';
import type { LabSpec } from './model.js';

export interface FaultStatus {
  name: string;
  /** `partition`, `link-down`, `impair`, `signal`, joined with `+` for a fault that does several. */
  kind: string;
  detail: string;
  /** `file`: a named fault of the lab's file; `adhoc`: made by a command (`lab partition`). */
  source: 'file' | 'adhoc';
  active: boolean;
  /** When it was applied (ISO time), while active. */
  since: string | undefined;
  /** When it heals itself (ISO time), if it was applied for a duration. */
  healAt: string | undefined;
  /** Active past its heal time. */
  overdue: boolean;
}

/** The active faults, in the order they were applied. */
export function activeFaultStatus(manager: Manager, lab: string, now: Date = new Date()): FaultStatus[] {
  return activeFaults(manager, lab).map((f) => ({
    name: f.record.name, kind: faultKinds(f.fault).join('+'), detail: describeFault(f.fault), source: f.source, active: true,
    since: f.record.appliedAt, healAt: f.record.healAt, overdue: isDue(f.record.healAt, now),
  }));
}

/** The file's faults in its order (`spec` undefined: the file is not known), then the active ones it does not define. */
export function listFaults(manager: Manager, lab: string, spec: LabSpec | undefined, now: Date = new Date()): FaultStatus[] {
  const active = new Map(activeFaultStatus(manager, lab, now).map((f) => [f.name, f]));
  const fromFile = (spec?.faults ?? []).map((f): FaultStatus => active.get(f.name) ?? {
    name: f.name, kind: faultKinds(f).join('+'), detail: describeFault(f), source: 'file', active: false, since: undefined, healAt: undefined, overdue: false,
  });
  const named = new Set(fromFile.map((f) => f.name));
  return [...fromFile, ...[...active.values()].filter((f) => !named.has(f.name))];
}
