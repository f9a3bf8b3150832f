/**
 * Layer: lab.
 *
 * The one way a running lab's impairments change outside `up`: `applyImpairment` makes one
 * direction of a link carry exactly the impairment given (fault apply and heal, `lab impair`),
 * `readImpairment` reads what is live. Rate is the tbf on the sending end and loss the
 * receiving node's fault table (impair.ts); delay, jitter and a seeded link's loss are the lab
 * supervisor's delay engine at the sending end (supervisor/delay-service.ts, `delay-set`),
 * started for the purpose when the lab has no supervisor yet. A runtime delay lasts until the
 * next `up` brings the link back to its file, as a runtime rate or loss does.
 */
import { NsboxError } from '../errors.js';
import type { Manager } from '../managed/index.js';
import { readFaults, readRates, setLoss, setRate, type Outcome } from './impair.js';
import { directionEnds, linkEnds } from './link-ends.js';
import type { Direction, Impairment, LabSpec, LinkSpec } from './model.js';
import { delayWant, engineDrawsLoss } from './delay-wants.js';
import { storedSpec } from './stored-spec.js';
import { setDelay, startSupervisor, supervisorStatus } from './supervisor/client.js';
import type { DelayStatus } from './supervisor/delay-service.js';

export interface ImpairmentChange {
  rate: Outcome;
  loss: Outcome;
  delay: Outcome;
  /** What of the impairment was not enforced, and why. */
  notes: string[];
}

/**
 * Refuse (NSBOX_ERR_USAGE) an impairment that cannot be enforced as asked: a jitter without a
 * delay, or larger than it. `what` names where it was asked for.
 */
export function checkImpairmentSupported(impairment: Impairment, what: string): void {
  const { delay, jitter } = impairment;
  if (jitter !== undefined && jitter > 0 && !(delay !== undefined && delay >= jitter)) {
    throw new NsboxError(`${what}: jitter ${jitter}ms needs a delay at least as large (${delay ?? 0}ms given); nothing was changed`, 'NSBOX_ERR_USAGE');
  }
}

/** The lab's stored spec and the link's, when the lab has a record (the seed and the delay service need them). */
function specOf(manager: Manager, lab: string, link: string): { spec: LabSpec; link: LinkSpec } | undefined {
  const spec = storedSpec(manager, lab);
  const l = spec?.links.find((x) => x.name === link);
  return spec === undefined || l === undefined ? undefined : { spec, link: l };
}

/** The delay engine of one direction, if the lab's supervisor runs one. */
async function engineOf(manager: Manager, lab: string, link: string, dir: Direction): Promise<DelayStatus | undefined> {
  const st = await supervisorStatus(manager, lab).catch(() => undefined);
  return st?.services.delay?.find((d) => d.link === link && d.dir === dir);
}

/** What is live on one direction of a link: the sender's tbf rate, the loss (the receiver's table, or a seeded link's engine), the engine's delay and jitter. */
export async function readImpairment(manager: Manager, lab: string, link: string, dir: Direction): Promise<Impairment> {
  const { from, to } = directionEnds(linkEnds(manager, lab, link), dir);
  const rate = (await readRates(manager.keyOf(from.sandbox))).get(from.iface);
  const tableLoss = (await readFaults(manager.keyOf(to.sandbox))).loss[to.iface];
  const engine = await engineOf(manager, lab, link, dir);
  const loss = tableLoss ?? (engine !== undefined && engine.loss > 0 ? engine.loss : undefined);
  return {
    ...(rate === undefined ? {} : { rate }),
    ...(loss === undefined ? {} : { loss }),
    ...(engine === undefined || engine.delayMs === 0 ? {} : { delay: engine.delayMs }),
    ...(engine === undefined || engine.jitterMs === 0 ? {} : { jitter: engine.jitterMs }),
  };
}

/** Make one direction of `link` carry exactly `impairment` (a field left out: not impaired). */
export async function applyImpairment(manager: Manager, lab: string, link: string, dir: Direction, impairment: Impairment): Promise<ImpairmentChange> {
  checkImpairmentSupported(impairment, `link ${link} ${dir}`);
  const { from, to } = directionEnds(linkEnds(manager, lab, link), dir);
  const spec = specOf(manager, lab, link);
  const seeded = spec !== undefined && engineDrawsLoss(spec.spec, spec.link);
  const rate = await setRate(manager.keyOf(from.sandbox), from.iface, impairment.rate, false);
  const loss = await setLoss(manager.keyOf(to.sandbox), to.iface, seeded ? undefined : impairment.loss, false);
  const want = spec === undefined ? undefined : delayWant(spec.spec, spec.link, dir, impairment);
  const notes: string[] = [];
  let delay: Outcome = 'unchanged';
  if (spec === undefined) {
    if (impairment.delay !== undefined || impairment.jitter !== undefined) {
      throw new NsboxError(`lab ${lab} has no record of its file, which the delay engine needs: bring it up again with \`nsbox lab up -f FILE\``, 'NSBOX_ERR_NOT_FOUND');
    }
  } else {
    const engine = await engineOf(manager, lab, link, dir);
    const same = engine !== undefined && want !== undefined && engine.delayMs === want.delayMs && engine.jitterMs === want.jitterMs && engine.loss === want.loss;
    if (!same && (want !== undefined || engine !== undefined)) {
      if (want !== undefined) await startSupervisor(manager, lab);
      await setDelay(manager, lab, link, dir, { delayMs: want?.delayMs ?? 0, jitterMs: want?.jitterMs ?? 0, loss: want?.loss ?? 0 });
      delay = want === undefined ? 'removed' : 'set';
    }
  }
  return { rate, loss: seeded && delay !== 'unchanged' ? delay : loss, delay, notes };
}
