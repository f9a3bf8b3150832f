/**
 * Layer: lab.
 *
 * A signal fault's delivery: to a process the lab supervisor runs in a node. The supervisor
 * and its client (supervisor/client.ts `signalProcess(manager, lab, node, process, signal)`)
 * are not in this version yet, so `signalSupported` is false and a fault with a signal is
 * refused before anything of it is applied. Wiring the client in is this module's change:
 * `deliverSignal` calls it and `signalSupported` becomes true.
 */
import { NsboxError } from '../errors.js';
import type { Manager } from '../managed/index.js';
import type { Signal } from './model.js';

/** Whether signals can be delivered to a lab's processes. */
export const signalSupported = (): boolean => false;

/** The signal that undoes `signal` when its fault heals (a stopped process continues), if any. */
export const healSignal = (signal: Signal): Signal | undefined => (signal === 'STOP' ? 'CONT' : undefined);

export function signalUnsupported(fault: string): NsboxError {
  return new NsboxError(`fault ${fault}: signals to a lab's processes are not supported yet (this version does not run processes); nothing was changed`, 'NSBOX_ERR_NOT_SUPPORTED');
}

/** Send `signal` to `process` of `node` in `lab`. */
export async function deliverSignal(_manager: Manager, lab: string, node: string, process: string, signal: Signal): Promise<void> {
  await Promise.resolve();
  throw signalUnsupported(`SIG${signal} to ${lab}.${node}/${process}`);
}
