/**
 * Layer: lab.
 *
 * Which mechanism enforces each impairment `lab status` shows on an interface: rate is a tbf
 * on the sending interface; loss is nf_tables' `numgen` in the receiving node's fault table, or,
 * on a seeded link, the delay engine's replayable draw at the sender; delay and jitter are the
 * delay engine (NFQUEUE at the sender, in the lab's supervisor). A delay rule in the kernel with no engine bound to its
 * queue (the supervisor is gone) passes packets undelayed (the rule's `bypass`): said as such.
 */
import type { DelayStatus } from './supervisor/delay-service.js';

export interface DelayView {
  delayMs: number;
  jitterMs: number;
  /** The engine's loss (a seeded link's), 0 to 1. */
  loss: number;
  seed: number;
  queue: number;
  /** Packets held now, released after their delay, dropped by the engine. */
  held: number;
  released: number;
  dropped: number;
}

export interface Mechanisms {
  rate?: 'tbf (sender)';
  loss?: 'nf_tables numgen (sender)' | 'nfqueue engine, seeded (sender)';
  delay?: 'nfqueue engine (sender)' | 'not enforced: a delay rule with no engine (the supervisor is not running), packets pass undelayed';
}

export interface InterfaceImpairments {
  delay: DelayView | undefined;
  mechanisms: Mechanisms;
}

/** The impairments' mechanisms of interface `ifname` of `sandbox`, from the kernel's view and the supervisor's engines. */
export function interfaceImpairments(
  sandbox: string, ifname: string,
  kernel: { rate: number | undefined; loss: number | undefined; delayQueue: number | undefined },
  engines: readonly DelayStatus[],
): InterfaceImpairments {
  const engine = engines.find((e) => e.sandbox === sandbox && e.iface === ifname);
  const mechanisms: Mechanisms = {};
  if (kernel.rate !== undefined) mechanisms.rate = 'tbf (sender)';
  if (kernel.loss !== undefined && kernel.loss > 0) mechanisms.loss = 'nf_tables numgen (sender)';
  else if (engine !== undefined && engine.loss > 0) mechanisms.loss = 'nfqueue engine, seeded (sender)';
  if (engine !== undefined && (engine.delayMs > 0 || engine.jitterMs > 0)) mechanisms.delay = 'nfqueue engine (sender)';
  else if (engine === undefined && kernel.delayQueue !== undefined) {
    mechanisms.delay = 'not enforced: a delay rule with no engine (the supervisor is not running), packets pass undelayed';
  }
  const delay = engine === undefined ? undefined : {
    delayMs: engine.delayMs, jitterMs: engine.jitterMs, loss: engine.loss, seed: engine.seed, queue: engine.queue,
    held: engine.stats.held, released: engine.stats.released, dropped: engine.stats.dropped,
  };
  return { delay, mechanisms };
}
