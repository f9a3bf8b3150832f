/**
 * Layer: lab.
 *
 * The supervisor's part of `lab status`: whether it runs (its pid) and, per process, its pid,
 * state (pending, starting, ready, exited, backoff, failed, stopped), restarts and last exit;
 * and its delay engines.
 */
import type { Manager } from '../../managed/index.js';
import { supervisorStatus } from './client.js';
import type { ProcessStatus } from './supervised-process.js';
import type { DelayStatus } from './delay-service.js';

export interface SupervisorView {
  running: boolean;
  pid: number | undefined;
  processes: ProcessStatus[];
  /** Its delay engines (delay-service.ts). */
  delay: DelayStatus[];
}

export async function supervisorView(manager: Manager, lab: string): Promise<SupervisorView> {
  const s = await supervisorStatus(manager, lab).catch(() => undefined);
  return { running: s !== undefined, pid: s?.pid, processes: s?.services.processes ?? [], delay: s?.services.delay ?? [] };
}
