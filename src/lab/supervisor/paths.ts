/**
 * Layer: lab.
 *
 * Where a lab's supervisor keeps its files, all in ROOT/labs/LAB (Manager.labDir, 0700): the
 * lock it holds for its whole life (one supervisor per lab), its control socket (0600), its
 * own log, the record of the processes it started (so a leftover of a supervisor that was
 * SIGKILLed is found again: leftovers.ts), and the processes' logs, logs/NODE.PROC.log.
 */
import { join } from 'node:path';
import type { Manager } from '../../managed/index.js';

export interface SupervisorPaths {
  dir: string;
  lock: string;
  socket: string;
  /** The supervisor's own stdout and stderr. */
  log: string;
  /** processes.json: the process groups started and not yet seen to end. */
  processes: string;
  logs: string;
}

export function supervisorPaths(manager: Manager, lab: string): SupervisorPaths {
  const dir = manager.labDir(lab);
  return {
    dir, lock: join(dir, 'supervisor.lock'), socket: join(dir, 'supervisor.sock'), log: join(dir, 'supervisor.log'),
    processes: join(dir, 'processes.json'), logs: join(dir, 'logs'),
  };
}

/** The log of a process: logs/NODE.PROC.log (its previous part NODE.PROC.log.1). */
export const processLogPath = (paths: SupervisorPaths, node: string, process: string): string => join(paths.logs, `${node}.${process}.log`);

/** sun_path holds 108 bytes with its NUL. */
export const MAX_SOCKET_PATH = 107;
