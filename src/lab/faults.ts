/**
 * Layer: lab.
 *
 * Faults of a running lab, applied and healed under the lab's lock (Manager.labLocked): the
 * file's named faults (`lab fault apply|heal`), ad-hoc partitions (`lab partition`, named
 * `partition-N`), healing all of them (`lab heal`), those whose time has come (`healDue`, for
 * a fault applied `--for` a duration) and the file's schedule (`runScheduleStep`); the lab
 * supervisor's timer service calls the last two.
 *
 * Applying a fault first plans every action and reads what healing will need (addresses to
 * block, the routes and addresses on a link end before it goes down, the live impairments)
 * without changing anything, so a bad name, an unknown node or link, or what this version does
 * not support (signals, delay) changes nothing; then records the fault with its actions in
 * the store (`lab_faults`), then takes them. A failure part way heals what the record says
 * and forgets it; a crash part way leaves the record, and healing it (idempotent) undoes what
 * was done. Healing undoes a fault's actions in reverse, leaving what another active fault
 * still needs (fault-record.ts), and forgets the record; healing a fault that is not active
 * succeeds and says so.
 */
import { NsboxError } from '../errors.js';
import type { Manager } from '../managed/index.js';
import type { LabFaultRecord } from '../store/index.js';
import { describeFault, faultKinds, impairmentAfterHeal, isDue, mergeImpairment, nextAdhocName, parseActiveFault, stillBlocked, stillDown, type ActiveFault, type FaultAction } from './fault-record.js';
import { deliverSignal, healSignal } from './fault-signal.js';
import { supervisorStatus, watchHeals } from './supervisor/client.js';
import { blockIn, unblockAllIn, unblockIn } from './impair.js';
import { linkEnds } from './link-ends.js';
import { forgetFailedNeighbours, restoreEnd, setEnd, snapshotEnd, waitOperational } from './link-down.js';
import { applyImpairment, checkImpairmentSupported, readImpairment } from './link-impairment.js';
import { labSandboxes } from './members.js';
import type { Direction, FaultSpec, LabSpec, ScheduleStep } from './model.js';
import { labPrefix } from './naming.js';
import { partitionBlocks } from './partition.js';
import { ensureLabRecord, requireLabSpec, storedSpec } from './stored-spec.js';

export interface ApplyFaultResult {
  lab: string;
  name: string;
  /** False when the fault was active already (nothing was done). */
  applied: boolean;
  kind: string;
  detail: string;
  /** When it heals itself (ISO time), if applied for a duration. */
  healAt: string | undefined;
  actions: FaultAction[];
  /** What was not enforced (a link's own delay kept from its file). */
  notes: string[];
}

export interface HealFaultResult {
  lab: string;
  name: string;
  /** False when it was not active (nothing to do). */
  healed: boolean;
  /** What healing put back, one line each (`lab.r1 eth1 up`, `lab.n2 route 10.10.0.0/24 via 10.30.0.1`). */
  restored: string[];
}

export interface PartitionResult extends ApplyFaultResult {
  /** Per receiving sandbox: the source addresses it now drops. */
  blocked: Record<string, string[]>;
}

export interface HealAllResult {
  lab: string;
  healed: HealFaultResult[];
  /** Blocked addresses no active fault accounted for (left by a crash or an older nsbox), unblocked once none is active. */
  swept: Record<string, string[]>;
}

export interface FaultOptions {
  /** Heal it by itself after this many ms (recorded as healAt; the supervisor's timer or `healDue` heals it). */
  forMs?: number;
}

/** The lab's active faults as recorded, in the order they were applied. */
export function activeFaults(manager: Manager, lab: string): (ActiveFault & { record: LabFaultRecord })[] {
  return manager.labs.faults(lab).map((record) => ({ ...parseActiveFault(record.spec, record.name), record }));
}

function requireUp(manager: Manager, lab: string): void {
  if (!labSandboxes(manager, lab).some((s) => s.state === 'ready')) throw new NsboxError(`no lab named ${lab} is up (see \`nsbox ls\`)`, 'NSBOX_ERR_NOT_FOUND');
}

function findFault(spec: LabSpec, name: string): FaultSpec {
  const f = spec.faults.find((x) => x.name === name);
  if (f === undefined) {
    const names = spec.faults.map((x) => x.name);
    throw new NsboxError(`lab ${spec.lab} has no fault named ${name} (${names.length === 0 ? 'its file defines none' : `its faults: ${names.join(', ')}`})`, 'NSBOX_ERR_NOT_FOUND');
  }
  return f;
}

/** Every action of `fault`, with what healing needs, read from the kernel; nothing is changed. */
async function plan(manager: Manager, lab: string, fault: FaultSpec, spec: LabSpec | undefined): Promise<FaultAction[]> {
  // What cannot be done at all is refused before anything is read.
  if (fault.signal !== undefined) {
    const { node, process } = fault.signal;
    const running = (await supervisorStatus(manager, lab).catch(() => undefined))?.services.processes ?? [];
    if (!running.some((p) => p.node === node && p.process === process && p.pid !== undefined)) {
      throw new NsboxError(`fault ${fault.name}: process ${node}/${process} of lab ${lab} is not running (see \`nsbox lab status ${lab}\`); nothing was changed`, 'NSBOX_ERR_NOT_FOUND');
    }
  }
  for (const { link, impair } of fault.impair) {
    for (const dir of ['a->b', 'b->a'] as const) checkImpairmentSupported(impair[dir] ?? {}, `fault ${fault.name} (link ${link} ${dir})`);
  }
  const actions: FaultAction[] = [];
  if (fault.partition !== undefined) actions.push(...await partitionBlocks(manager, lab, fault.partition.groups, fault.partition.oneway));
  if (fault.linkDown !== undefined) {
    const ends = linkEnds(manager, lab, fault.linkDown.link);
    const sides = fault.linkDown.side === 'both' ? [ends.a, ends.b] : [ends[fault.linkDown.side]];
    for (const end of sides) {
      const saved = await snapshotEnd(manager.keyOf(end.sandbox), end.iface);
      actions.push({ kind: 'link-down', link: ends.link, sandbox: end.sandbox, iface: end.iface, ...saved });
    }
  }
  for (const { link, impair } of fault.impair) {
    linkEnds(manager, lab, link);
    const own = spec?.links.find((l) => l.name === link)?.impair ?? {};
    for (const dir of ['a->b', 'b->a'] as Direction[]) {
      const impairment = impair[dir];
      if (impairment === undefined) continue;
      actions.push({ kind: 'impair', link, dir, impairment, base: own[dir] ?? {}, before: await readImpairment(manager, lab, link, dir) });
    }
  }
  if (fault.signal !== undefined) {
    const { node, process, signal } = fault.signal;
    if (!labSandboxes(manager, lab).some((s) => s.record.name === `${labPrefix(lab)}${node}`)) throw new NsboxError(`lab ${lab} has no node ${node}`, 'NSBOX_ERR_NOT_FOUND');
    actions.push({ kind: 'signal', node, process, signal, healWith: healSignal(signal) });
  }
  return actions;
}

async function take(manager: Manager, lab: string, a: FaultAction, notes: string[]): Promise<void> {
  switch (a.kind) {
    case 'block': await blockIn(manager.keyOf(a.sandbox), a.addresses); break;
    case 'link-down': await setEnd(manager.keyOf(a.sandbox), a.iface, false); break;
    case 'impair': notes.push(...(await applyImpairment(manager, lab, a.link, a.dir, mergeImpairment(a.before, a.impairment))).notes); break;
    case 'signal': await deliverSignal(manager, lab, a.node, a.process, a.signal); break;
  }
}

/** Whether the sandbox is still there to undo anything in (a lab brought down took its faults with it). */
const present = (manager: Manager, sandbox: string): boolean => manager.sandboxes().some((s) => s.record.name === sandbox && s.state === 'ready');

/** Undo one action, leaving what `remaining` faults still need; lines saying what was put back. */
async function undo(manager: Manager, lab: string, a: FaultAction, remaining: readonly ActiveFault[]): Promise<string[]> {
  switch (a.kind) {
    case 'block': {
      if (!present(manager, a.sandbox)) return [];
      const free = a.addresses.filter((x) => !stillBlocked(remaining, a.sandbox, x));
      await unblockIn(manager.keyOf(a.sandbox), free);
      return free.length === 0 ? [] : [`${a.sandbox} no longer drops ${free.join(' ')}`];
    }
    case 'link-down': {
      if (!present(manager, a.sandbox) || stillDown(remaining, a.sandbox, a.iface)) return [];
      const added = await restoreEnd(manager.keyOf(a.sandbox), a.iface, a);
      return [`${a.sandbox} ${a.iface} up`, ...added.addresses.map((x) => `${a.sandbox} ${a.iface} address ${x}`), ...added.routes.map((r) => `${a.sandbox} route ${r}`)];
    }
    case 'impair': {
      try {
        linkEnds(manager, lab, a.link);
      } catch {
        return []; // the link is gone with its lab
      }
      const want = impairmentAfterHeal(a.base, remaining, a.link, a.dir);
      const change = await applyImpairment(manager, lab, a.link, a.dir, want);
      return change.rate === 'unchanged' && change.loss === 'unchanged' ? [] : [`${a.link} ${a.dir}: rate ${want.rate ?? 'none'}, loss ${want.loss ?? 0}`];
    }
    case 'signal': {
      if (a.healWith === undefined || !present(manager, `${labPrefix(lab)}${a.node}`)) return [];
      await deliverSignal(manager, lab, a.node, a.process, a.healWith);
      return [`SIG${a.healWith} to ${a.node}/${a.process}`];
    }
  }
}

/**
 * Wait until both ends of each link this fault set down pass traffic again (the end set up,
 * and its peer, which lost its carrier), and drop the neighbour entries that failed while it
 * was cut, so that a heal returns with the link usable; a link
 * another fault still holds down is not waited for.
 */
async function waitForEnds(manager: Manager, lab: string, actions: readonly FaultAction[], remaining: readonly ActiveFault[]): Promise<void> {
  const links = new Set(actions.flatMap((a) => (a.kind === 'link-down' ? [a.link] : [])));
  for (const link of links) {
    let ends;
    try {
      ends = linkEnds(manager, lab, link);
    } catch {
      continue; // gone with its lab
    }
    if ([ends.a, ends.b].some((e) => stillDown(remaining, e.sandbox, e.iface) || !present(manager, e.sandbox))) continue;
    for (const e of [ends.a, ends.b]) await waitOperational(manager.keyOf(e.sandbox), e.iface);
    for (const e of [ends.a, ends.b]) await forgetFailedNeighbours(manager.keyOf(e.sandbox), e.iface);
  }
}

/** Heal one active fault (its record kept when a step fails, so healing again retries). */
async function healRecord(manager: Manager, lab: string, name: string): Promise<HealFaultResult> {
  const all = activeFaults(manager, lab);
  const target = all.find((f) => f.record.name === name);
  if (target === undefined) return { lab, name, healed: false, restored: [] };
  const remaining = all.filter((f) => f !== target);
  const restored: string[] = [];
  const errors: string[] = [];
  for (const a of [...target.actions].reverse()) {
    try {
      restored.push(...await undo(manager, lab, a, remaining));
    } catch (err) {
      errors.push(`${a.kind}: ${(err as Error).message}`);
    }
  }
  await waitForEnds(manager, lab, target.actions, remaining);
  if (errors.length > 0) throw new NsboxError(`healing fault ${name} of lab ${lab} left problems (it stays active; heal it again):\n${errors.join('\n')}`, 'NSBOX_ERR_TEARDOWN');
  manager.labs.removeFault(lab, name);
  return { lab, name, healed: true, restored };
}

async function applyUnlocked(manager: Manager, lab: string, fault: FaultSpec, source: ActiveFault['source'], spec: LabSpec | undefined, options: FaultOptions): Promise<ApplyFaultResult> {
  const kind = faultKinds(fault).join('+');
  const detail = describeFault(fault);
  const existing = manager.labs.faults(lab).find((f) => f.name === fault.name);
  if (existing !== undefined) {
    const active = parseActiveFault(existing.spec, existing.name);
    return { lab, name: fault.name, applied: false, kind, detail, healAt: existing.healAt, actions: active.actions, notes: [] };
  }
  requireUp(manager, lab);
  const actions = await plan(manager, lab, fault, spec);
  const healAt = options.forMs === undefined ? undefined : new Date(Date.now() + options.forMs).toISOString();
  const record: ActiveFault = { fault, source, actions };
  ensureLabRecord(manager, lab);
  manager.labs.putFault(lab, fault.name, record, healAt);
  const notes: string[] = [];
  try {
    for (const a of actions) await take(manager, lab, a, notes);
  } catch (err) {
    // Undo what was done; if that fails too, the record stays for `lab heal` to finish.
    await healRecord(manager, lab, fault.name).catch(() => undefined);
    throw err;
  }
  return { lab, name: fault.name, applied: true, kind, detail, healAt, actions, notes };
}

const checkFor = (forMs: number | undefined): void => {
  if (forMs !== undefined && !(forMs > 0 && Number.isFinite(forMs))) throw new NsboxError(`--for must be a duration of more than 0 (e.g. 30s), got ${forMs} ms`, 'NSBOX_ERR_USAGE');
};

/**
 * Apply the file's fault `name` (the stored file's, or `file`'s). Applying an active fault
 * again does nothing (`applied: false`).
 */
export async function applyFault(manager: Manager, lab: string, name: string, options: FaultOptions & { file?: string } = {}): Promise<ApplyFaultResult> {
  checkFor(options.forMs);
  const spec = await requireLabSpec(manager, lab, options.file);
  const fault = findFault(spec, name);
  return timed(manager, lab, await manager.labLocked(lab, () => applyUnlocked(manager, lab, fault, 'file', spec, options)));
}

/** A fault applied for a duration: the lab's supervisor (started if need be) heals it in time. */
async function timed<R extends ApplyFaultResult>(manager: Manager, lab: string, result: R): Promise<R> {
  if (result.healAt === undefined || !result.applied) return result;
  try {
    await watchHeals(manager, lab);
  } catch (err) {
    result.notes.push(`it will not heal by itself at ${result.healAt}: the lab's supervisor could not be started (${(err as Error).message}); heal it with \`nsbox lab fault heal ${lab} ${result.name}\``);
  }
  return result;
}

/** An ad-hoc partition (`lab partition`), recorded as the active fault `partition-N`. */
export async function partition(manager: Manager, lab: string, groups: readonly (readonly string[])[], options: FaultOptions & { oneway?: boolean } = {}): Promise<PartitionResult> {
  checkFor(options.forMs);
  return timed(manager, lab, await manager.labLocked(lab, async () => {
    const taken = [...manager.labs.faults(lab).map((f) => f.name), ...(storedSpec(manager, lab)?.faults.map((f) => f.name) ?? [])];
    const fault: FaultSpec = { name: nextAdhocName('partition', taken), partition: { groups: groups.map((g) => [...g]), oneway: options.oneway === true }, linkDown: undefined, impair: [], signal: undefined };
    const result = await applyUnlocked(manager, lab, fault, 'adhoc', undefined, options);
    const blocked: Record<string, string[]> = {};
    for (const a of result.actions) if (a.kind === 'block') blocked[a.sandbox] = a.addresses;
    return { ...result, blocked };
  }));
}

/** Heal the active fault `name`; one that is not active is success (`healed: false`). */
export async function healFault(manager: Manager, lab: string, name: string): Promise<HealFaultResult> {
  return manager.labLocked(lab, () => healRecord(manager, lab, name));
}

/** Heal each of `names` in turn, every one tried; the first failure is thrown after the others ran. */
async function healEach(manager: Manager, lab: string, names: readonly string[]): Promise<HealFaultResult[]> {
  const healed: HealFaultResult[] = [];
  const errors: unknown[] = [];
  for (const name of names) {
    try {
      healed.push(await healRecord(manager, lab, name));
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
  return healed;
}

/**
 * Heal every active fault of the lab (the last applied first); then, with none left, unblock
 * whatever blocked address remains on its nodes (nothing accounts for it).
 */
export async function heal(manager: Manager, lab: string): Promise<HealAllResult> {
  return manager.labLocked(lab, async () => {
    const healed = await healEach(manager, lab, activeFaults(manager, lab).reverse().map((f) => f.record.name));
    const swept: Record<string, string[]> = {};
    for (const s of labSandboxes(manager, lab)) {
      if (s.state !== 'ready') continue;
      const addresses = await unblockAllIn(manager.keyOf(s.record.name));
      if (addresses.length > 0) swept[s.record.name] = addresses;
    }
    return { lab, healed, swept };
  });
}

/** Heal every active fault whose heal time has come by `now`. */
export async function healDue(manager: Manager, lab: string, now: Date = new Date()): Promise<HealFaultResult[]> {
  return manager.labLocked(lab, () => healEach(manager, lab, manager.labs.faults(lab).filter((f) => isDue(f.healAt, now)).map((f) => f.name)));
}

/** The soonest heal time of the lab's active faults (for a timer), if any. */
export function nextHealAt(manager: Manager, lab: string): Date | undefined {
  const times = manager.labs.faults(lab).flatMap((f) => (f.healAt === undefined ? [] : [Date.parse(f.healAt)]));
  return times.length === 0 ? undefined : new Date(Math.min(...times));
}

/**
 * One step of the file's schedule (docs/labs.md "schedule[]"): apply a fault that is not
 * active, or heal one that is; anything else is an error, and changes nothing.
 */
export async function runScheduleStep(manager: Manager, lab: string, step: ScheduleStep, options: { file?: string } = {}): Promise<ApplyFaultResult | HealFaultResult> {
  const spec = await requireLabSpec(manager, lab, options.file);
  const fault = findFault(spec, step.fault);
  const at = `schedule step at ${step.atMs} ms`;
  return manager.labLocked(lab, async () => {
    const active = manager.labs.faults(lab).some((f) => f.name === step.fault);
    if (step.action === 'apply') {
      if (active) throw new NsboxError(`${at}: fault ${step.fault} is already active`, 'NSBOX_ERR_EXISTS');
      return applyUnlocked(manager, lab, fault, 'file', spec, {});
    }
    if (!active) throw new NsboxError(`${at}: fault ${step.fault} is not active, so it cannot be healed`, 'NSBOX_ERR_NOT_FOUND');
    return healRecord(manager, lab, step.fault);
  });
}

