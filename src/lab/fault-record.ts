/**
 * Layer: lab (pure).
 *
 * What an active fault of a lab is, as stored in the `lab_faults` table (store/lab-records.ts):
 * the fault's definition (a named fault of the file, or an ad-hoc one such as `partition-1`)
 * and every action its applier took, with what healing needs to undo exactly that: the source
 * addresses blocked at each receiver, the link ends set down with the routes and addresses the
 * kernel drops on down, the impairment sets with the link's own impairments from the file, the
 * signals sent. Several active faults may touch the same thing (two partitions blocking one
 * address, two faults downing one link end, two impairment sets on one link): healing one
 * undoes only what no other active fault still needs (`stillBlocked`, `stillDown`,
 * `impairmentAfterHeal`), so what the remaining faults hold is recomputed from their records.
 */
import type { Direction, FaultSpec, Impairment, Signal } from './model.js';

/** A route as the kernel had it on an interface before the interface went down. */
export interface SavedRoute {
  destination: string;
  family: 4 | 6;
  gateway: string | undefined;
  metric: number | undefined;
  protocol: number | undefined;
  scope: number | undefined;
  prefsrc: string | undefined;
}

export type FaultAction =
  /** The receiver `sandbox` drops what comes from `addresses` (its fault table's blocked sets). */
  | { kind: 'block'; sandbox: string; addresses: string[] }
  /** The end `iface` of `link` in `sandbox` set down; what the kernel removes on down, to put back. */
  | { kind: 'link-down'; link: string; sandbox: string; iface: string; routes: SavedRoute[]; addresses: string[] }
  /** `impairment` merged over what was live on `link` in direction `dir`; `base` is the link's own (the file's). */
  | { kind: 'impair'; link: string; dir: Direction; impairment: Impairment; base: Impairment; before: Impairment }
  /** `signal` sent to a process of a node; `healWith` is sent on heal (CONT after STOP). */
  | { kind: 'signal'; node: string; process: string; signal: Signal; healWith: Signal | undefined };

export interface ActiveFault {
  /** The fault's definition: the file's, or made for an ad-hoc command (`lab partition`). */
  fault: FaultSpec;
  source: 'file' | 'adhoc';
  /** In the order they were taken (healing undoes them in reverse). */
  actions: FaultAction[];
}

/** A stored record's spec read back (a shape check: it was written by this module). */
export function parseActiveFault(value: unknown, name: string): ActiveFault {
  const v = value as Partial<ActiveFault> | null;
  if (v === null || typeof v !== 'object' || typeof v.fault !== 'object' || !Array.isArray(v.actions)) {
    throw new TypeError(`the record of active fault ${name} is not one this nsbox wrote`);
  }
  const f = v.fault;
  return {
    source: v.source === 'file' ? 'file' : 'adhoc',
    actions: v.actions,
    fault: { name: f.name ?? name, partition: f.partition, linkDown: f.linkDown, impair: f.impair ?? [], signal: f.signal },
  };
}

/** The kinds of what a fault does, in a fixed order: partition, link-down, impair, signal. */
export function faultKinds(f: FaultSpec): string[] {
  return [
    ...(f.partition === undefined ? [] : ['partition']),
    ...(f.linkDown === undefined ? [] : ['link-down']),
    ...(f.impair.length === 0 ? [] : ['impair']),
    ...(f.signal === undefined ? [] : ['signal']),
  ];
}

/** A rate as the file writes it, in the largest SI unit that keeps it whole (`10mbit`, `1500kbit`). */
export function rateText(bits: number): string {
  for (const [unit, n] of [['gbit', 1e9], ['mbit', 1e6], ['kbit', 1e3]] as const) if (bits % n === 0) return `${bits / n}${unit}`;
  return `${bits}bit`;
}

const impairmentText = (i: Impairment): string => [
  i.rate === undefined ? undefined : `rate ${rateText(i.rate)}`,
  i.loss === undefined ? undefined : `loss ${+(i.loss * 100).toFixed(4)}%`,
  i.delay === undefined ? undefined : `delay ${i.delay}ms`,
  i.jitter === undefined ? undefined : `jitter ${i.jitter}ms`,
].filter((x) => x !== undefined).join(' ');

/** One line saying what a fault does, e.g. `n1 | r1,n2 (one-way)`, `link wan down (side a)`. */
export function describeFault(f: FaultSpec): string {
  const parts: string[] = [];
  if (f.partition !== undefined) parts.push(`${f.partition.groups.map((g) => g.join(',')).join(' | ')}${f.partition.oneway ? ' (one-way)' : ''}`);
  if (f.linkDown !== undefined) parts.push(`link ${f.linkDown.link} down${f.linkDown.side === 'both' ? '' : ` (side ${f.linkDown.side})`}`);
  for (const { link, impair } of f.impair) {
    for (const dir of ['a->b', 'b->a'] as const) if (impair[dir] !== undefined) parts.push(`${link} ${dir}: ${impairmentText(impair[dir])}`);
  }
  if (f.signal !== undefined) parts.push(`SIG${f.signal.signal} to ${f.signal.node}/${f.signal.process}`);
  return parts.join('; ');
}

/** Whether another active fault still blocks `address` at `sandbox`. */
export function stillBlocked(remaining: readonly ActiveFault[], sandbox: string, address: string): boolean {
  return remaining.some((f) => f.actions.some((a) => a.kind === 'block' && a.sandbox === sandbox && a.addresses.includes(address)));
}

/** Whether another active fault still holds the link end `iface` of `sandbox` down. */
export function stillDown(remaining: readonly ActiveFault[], sandbox: string, iface: string): boolean {
  return remaining.some((f) => f.actions.some((a) => a.kind === 'link-down' && a.sandbox === sandbox && a.iface === iface));
}

/** `over`'s fields over `under`'s (a field `over` leaves out stays as `under` has it). */
export function mergeImpairment(under: Impairment, over: Impairment): Impairment {
  const out: Impairment = { ...under };
  for (const k of ['rate', 'loss', 'delay', 'jitter'] as const) if (over[k] !== undefined) out[k] = over[k];
  return out;
}

/**
 * What a link's direction should be once a fault is healed: the link's own (`base`, the
 * file's) with every remaining active fault's impairment set of that link and direction over
 * it, in the order they were applied.
 */
export function impairmentAfterHeal(base: Impairment, remaining: readonly ActiveFault[], link: string, dir: Direction): Impairment {
  let out = { ...base };
  for (const f of remaining) {
    for (const a of f.actions) if (a.kind === 'impair' && a.link === link && a.dir === dir) out = mergeImpairment(out, a.impairment);
  }
  return out;
}

/** The first `partition-N` (N from 1) that is neither active nor a fault of the file. */
export function nextAdhocName(prefix: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  for (let n = 1; ; n++) if (!used.has(`${prefix}-${n}`)) return `${prefix}-${n}`;
}

/** Whether a fault with this heal time is due at `now` (ISO times). */
export const isDue = (healAt: string | undefined, now: Date): boolean => healAt !== undefined && Date.parse(healAt) <= now.getTime();
