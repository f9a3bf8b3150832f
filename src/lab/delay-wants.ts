/**
 * Layer: lab (pure).
 *
 * Which directions of a lab's links need the userspace delay engine (delay-queue.ts), and with
 * what: a direction with a delay or a jitter, or with loss on a seeded link (a seed makes loss
 * replayable, which nf_tables' `numgen random` is not, so a seeded link's loss is drawn by the
 * engine instead). The engine runs in the SENDING node, on the sending end's interface, where
 * the fault table's delay rule (postrouting) sends what leaves through it (firewall/fault-table.ts
 * says why not at the receiver).
 */
import type { Direction, Impairment, LabSpec, LinkSpec } from './model.js';

export interface DelayWant {
  link: string;
  dir: Direction;
  /** The sending node, its sandbox and interface (where the engine and its rule are). */
  node: string;
  sandbox: string;
  iface: string;
  delayMs: number;
  jitterMs: number;
  /** Loss drawn by the engine (a seeded link only; 0: none). */
  loss: number;
  /** The link's seed, else the lab's; undefined: a random one (shown in status). */
  seed: number | undefined;
}

export const DIRECTIONS: readonly Direction[] = ['a->b', 'b->a'];

/** `link/dir`: how a direction is named in ops and status. */
export const directionKey = (link: string, dir: Direction): string => `${link}/${dir}`;

/** The link's seed, else the lab's. */
export const seedOf = (spec: LabSpec, link: LinkSpec): number | undefined => link.seed ?? spec.seed;

/** The sending end of a direction. */
export function sender(spec: LabSpec, link: LinkSpec, dir: Direction): { node: string; sandbox: string; iface: string } {
  const end = dir === 'a->b' ? link.a : link.b;
  const sandbox = spec.nodes.find((n) => n.name === end.node)?.sandbox;
  if (sandbox === undefined) throw new Error(`unreachable: link ${link.name} names node ${end.node}, which the spec lacks`);
  return { node: end.node, sandbox, iface: end.iface };
}

/** Whether the engine, not the fault table, draws this impairment's loss. */
export const engineDrawsLoss = (spec: LabSpec, link: LinkSpec): boolean => seedOf(spec, link) !== undefined;

/** The engine's part of one direction's impairment; undefined when it needs no engine. */
export function delayWant(spec: LabSpec, link: LinkSpec, dir: Direction, impairment: Impairment): DelayWant | undefined {
  const delayMs = impairment.delay ?? 0;
  const jitterMs = impairment.jitter ?? 0;
  const loss = engineDrawsLoss(spec, link) ? impairment.loss ?? 0 : 0;
  if (delayMs === 0 && jitterMs === 0 && loss === 0) return undefined;
  return { link: link.name, dir, ...sender(spec, link, dir), delayMs, jitterMs, loss, seed: seedOf(spec, link) };
}

/** Every direction of the file's links that needs the engine, by `link/dir`. */
export function delayWants(spec: LabSpec): Map<string, DelayWant> {
  const out = new Map<string, DelayWant>();
  for (const link of spec.links) {
    for (const dir of DIRECTIONS) {
      const want = delayWant(spec, link, dir, link.impair[dir] ?? {});
      if (want !== undefined) out.set(directionKey(link.name, dir), want);
    }
  }
  return out;
}

/** Whether two wants are the same engine settings. */
export const sameWant = (x: DelayWant, y: DelayWant): boolean =>
  x.sandbox === y.sandbox && x.iface === y.iface && x.delayMs === y.delayMs && x.jitterMs === y.jitterMs && x.loss === y.loss && x.seed === y.seed;
