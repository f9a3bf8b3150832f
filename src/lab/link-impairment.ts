/**
 * Layer: lab.
 *
 * The one way a running lab's impairments change outside `up`: `applyImpairment` makes one
 * direction of a link carry exactly the impairment given (fault apply and heal, `lab impair`),
 * `readImpairment` reads what is live. Rate is the tbf on the sending end, loss the receiving
 * node's fault table (impair.ts). Delay and jitter have no mechanism here yet (the userspace
 * NFQUEUE path is to come): asking for them is refused by `checkImpairmentSupported` before
 * anything changes, and a link's own delay from its file is left as `up` leaves it (a note).
 * When delay lands, this module is what changes.
 */
import { NsboxError } from '../errors.js';
import type { Manager } from '../managed/index.js';
import { readFaults, readRates, setLoss, setRate, type Outcome } from './impair.js';
import { directionEnds, linkEnds } from './link-ends.js';
import type { Direction, Impairment } from './model.js';

export interface ImpairmentChange {
  rate: Outcome;
  loss: Outcome;
  /** What of the impairment was not enforced, and why. */
  notes: string[];
}

/**
 * Refuse (NSBOX_ERR_NOT_SUPPORTED) what this version cannot enforce in an impairment that a
 * command or a fault asks for: delay and jitter. `what` names where it was asked for.
 */
export function checkImpairmentSupported(impairment: Impairment, what: string): void {
  const asked = (['delay', 'jitter'] as const).filter((k) => impairment[k] !== undefined);
  if (asked.length > 0) {
    throw new NsboxError(`${what}: ${asked.join(' and ')} ${asked.length > 1 ? 'are' : 'is'} not supported yet (this version enforces rate and loss); nothing was changed`, 'NSBOX_ERR_NOT_SUPPORTED');
  }
}

/** What is live on one direction of a link: the sender's tbf rate and the receiver's loss. */
export async function readImpairment(manager: Manager, lab: string, link: string, dir: Direction): Promise<Impairment> {
  const { from, to } = directionEnds(linkEnds(manager, lab, link), dir);
  const rate = (await readRates(manager.keyOf(from.sandbox))).get(from.iface);
  const loss = (await readFaults(manager.keyOf(to.sandbox))).loss[to.iface];
  return { ...(rate === undefined ? {} : { rate }), ...(loss === undefined ? {} : { loss }) };
}

/** Make one direction of `link` carry exactly `impairment` (a field left out: not impaired). */
export async function applyImpairment(manager: Manager, lab: string, link: string, dir: Direction, impairment: Impairment): Promise<ImpairmentChange> {
  const { from, to } = directionEnds(linkEnds(manager, lab, link), dir);
  const rate = await setRate(manager.keyOf(from.sandbox), from.iface, impairment.rate, false);
  const loss = await setLoss(manager.keyOf(to.sandbox), to.iface, impairment.loss, false);
  const notes = impairment.delay === undefined && impairment.jitter === undefined ? []
    : [`${link} ${dir}: delay${impairment.jitter === undefined ? '' : '/jitter'} not applied: this version enforces rate and loss only`];
  return { rate, loss, notes };
}
