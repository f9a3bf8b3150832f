/**
 * Layer: lab.
 *
 * The supervisor in `up` and `down`. After `up` has applied the network and recorded the lab
 * (its spec, which the supervisor reads: apply.ts), `processesUp`, when the lab has processes, delay engines
 * (delay-wants.ts) or a schedule, or a supervisor already runs it, starts the supervisor (or has the running one reload), then waits
 * until every process is ready: a process that is not fails `up` with its name, why, and the
 * last lines of its log. Processes whose definition did not change keep running (same pid), so
 * a second `up` of the same file takes no step. `processesDown` stops the supervisor (its
 * processes first), kills what a dead one left, and removes the lab's directory.
 */
import { rmSync } from 'node:fs';
import { NsboxError } from '../../errors.js';
import type { Manager } from '../../managed/index.js';
import type { Lab } from '../lab.js';
import { awaitReady, reloadSupervisor, startSupervisor, stopSupervisor, supervisorStatus } from './client.js';
import { tailLines } from './log-file.js';
import { supervisorPaths } from './paths.js';
import { definitions } from './process-service.js';
import { delayWants, sameWant } from '../delay-wants.js';
import type { LabSpec } from '../model.js';
import { describeDelay, type DelayStatus } from './delay-service.js';
import type { ServiceChange } from './service.js';
import type { ProcessStatus } from './supervised-process.js';

/** Lines of a failed process's log quoted in `up`'s error. */
const QUOTED_LINES = 10;

/** Whether the lab needs its supervisor: processes to run, delay engines, a schedule. */
export function needsSupervisor(spec: LabSpec): boolean {
  return spec.nodes.some((n) => n.processes.length > 0) || delayWants(spec).size > 0 || spec.schedule.length > 0;
}

/** What a reload would change of the delay engines (a reload brings them back to the file). */
function plannedDelayChanges(spec: LabSpec, running: DelayStatus[]): ServiceChange[] {
  const wants = delayWants(spec);
  const changes: ServiceChange[] = [];
  for (const r of running) {
    const key = `${r.link}/${r.dir}`;
    const want = wants.get(key);
    if (want === undefined) changes.push({ key: `impair:${key}`, action: 'remove', detail: `delay engine on ${r.sandbox} ${r.iface} stopped` });
    else if (!sameWant(want, { ...r, seed: want.seed ?? r.seed })) changes.push({ key: `impair:${key}`, action: 'change', detail: describeDelay(want) });
  }
  for (const [key, w] of wants) {
    if (!running.some((r) => `${r.link}/${r.dir}` === key)) changes.push({ key: `impair:${key}`, action: 'create', detail: describeDelay(w) });
  }
  return changes;
}

/** What a reload would change, from the running supervisor's view (dry run). */
function plannedChanges(manager: Manager, lab: Lab, running: ProcessStatus[]): ServiceChange[] {
  const defs = [...definitions(supervisorPaths(manager, lab.name), { name: lab.name, spec: lab.spec, file: lab.file }).values()].flat();
  const changes: ServiceChange[] = [];
  for (const d of defs) {
    const key = `${d.node}/${d.spec.name}`;
    const r = running.find((p) => `${p.node}/${p.process}` === key);
    if (r === undefined) changes.push({ key: `process:${key}`, action: 'create', detail: `${key}: start ${d.spec.argv.join(' ')}` });
    else if (r.digest !== d.digest) changes.push({ key: `process:${key}`, action: 'change', detail: `${key}: restart (its definition changed)` });
    else if (r.state === 'failed' || (r.state === 'pending' && r.failure !== undefined)) changes.push({ key: `process:${key}`, action: 'change', detail: `${key}: start again (it ${r.state === 'failed' ? 'had failed' : 'had not started'})` });
  }
  for (const r of running) {
    if (!defs.some((d) => d.node === r.node && d.spec.name === r.process)) changes.push({ key: `process:${r.node}/${r.process}`, action: 'remove', detail: `${r.node}/${r.process}: stop` });
  }
  return changes;
}

function notReady(manager: Manager, lab: string, processes: ProcessStatus[]): NsboxError | undefined {
  const bad = processes.filter((p) => p.state === 'failed' || p.state === 'pending');
  if (bad.length === 0) return undefined;
  const parts = bad.map((p) => {
    const lines = p.state === 'failed' ? tailLines(p.log, QUOTED_LINES) : [];
    return `process ${p.node}/${p.process} of lab ${lab} ${p.state === 'failed' ? 'failed' : 'did not start'}: ${p.failure ?? p.state}${lines.length === 0 ? '' : `; the last lines of ${p.log}:\n${lines.map((l) => `  ${l}`).join('\n')}`}`;
  });
  return new NsboxError(`${parts.join('\n')}\n(the rest of the lab is up; fix the file and run \`nsbox lab up\` again, or \`nsbox lab logs ${lab} NODE/PROC\`)`, 'NSBOX_ERR_LAB_PROCESS');
}

/** Start, or reload, the lab's supervisor and wait for its processes; the changes as `up` steps. */
export async function processesUp(manager: Manager, lab: Lab, dryRun: boolean): Promise<ServiceChange[]> {
  const needed = needsSupervisor(lab.spec);
  const running = await supervisorStatus(manager, lab.name);
  if (dryRun) {
    if (!needed && running === undefined) return [];
    return [...plannedDelayChanges(lab.spec, running?.services.delay ?? []), ...plannedChanges(manager, lab, running?.services.processes ?? [])];
  }
  if (!needed && running === undefined) return [];
  let changes: ServiceChange[];
  if (running === undefined) {
    await startSupervisor(manager, lab.name);
    // A new supervisor starts from the record: it re-reads it anyway, and whatever it started is new.
    changes = await reloadSupervisor(manager, lab.name);
    const status = await supervisorStatus(manager, lab.name);
    const listed = new Set(changes.map((c) => c.key));
    for (const d of status?.services.delay ?? []) {
      const key = `impair:${d.link}/${d.dir}`;
      if (!listed.has(key)) changes.push({ key, action: 'create', detail: describeDelay(d) });
    }
    for (const p of status?.services.processes ?? []) {
      const key = `process:${p.node}/${p.process}`;
      if (!listed.has(key)) changes.push({ key, action: 'create', detail: `${p.node}/${p.process}: started` });
    }
  } else {
    changes = await reloadSupervisor(manager, lab.name);
  }
  const err = notReady(manager, lab.name, await awaitReady(manager, lab.name));
  if (err !== undefined) throw err;
  return changes;
}

/** Stop the supervisor and its processes, kill a dead one's leftovers, remove ROOT/labs/LAB. */
export async function processesDown(manager: Manager, lab: string): Promise<{ supervisor: boolean; leftovers: number[] }> {
  const { wasRunning, leftovers } = await stopSupervisor(manager, lab);
  return { supervisor: wasRunning, leftovers };
}

/** After `down`: the lab's directory (socket, lock, logs) and its record go. */
export function forgetLab(manager: Manager, lab: string): void {
  rmSync(supervisorPaths(manager, lab).dir, { recursive: true, force: true });
  manager.labs.remove(lab);
}
