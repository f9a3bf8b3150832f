/**
 * Layer: lab.
 *
 * A signal fault's delivery: to a process the lab's supervisor runs in a node, through its
 * client (supervisor/client.ts `signalProcess`), which signals the process's group. A lab with
 * no supervisor (no processes) has nothing to signal: the supervisor's client says so.
 */
import type { Manager } from '../managed/index.js';
import type { Signal } from './model.js';
import { signalProcess } from './supervisor/client.js';

/** The signal that undoes `signal` when its fault heals (a stopped process continues), if any. */
export const healSignal = (signal: Signal): Signal | undefined => (signal === 'STOP' ? 'CONT' : undefined);

/** Send `signal` to `process` of `node` in `lab`. */
export async function deliverSignal(manager: Manager, lab: string, node: string, process: string, signal: Signal): Promise<void> {
  await signalProcess(manager, lab, node, process, signal);
}
