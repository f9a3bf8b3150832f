/**
 * Layer: lab.
 *
 * What the supervisor runs: services, each given the lab as its record says (the spec `up`
 * wrote) when the supervisor starts and again on each reload. Processes (process-service.ts)
 * are the first; a delay queue or a timer (the schedule, `--for` heals) is another file that
 * implements this and one line in services.ts.
 */
import type { Manager } from '../../managed/index.js';
import type { LabSpec } from '../model.js';
import type { SupervisorPaths } from './paths.js';

/** The lab as the supervisor sees it: its record's spec and the file it came from. */
export interface SupervisedLab {
  name: string;
  spec: LabSpec;
  /** The lab file's path, when it came from one (processes' default cwd is its directory). */
  file: string | undefined;
}

/** One change a reload made, for `up` to report as a step. */
export interface ServiceChange {
  /** A resource key of compile.ts (e.g. `process:NODE/NAME`). */
  key: string;
  action: 'create' | 'change' | 'remove';
  detail: string;
}

export interface ServiceContext {
  manager: Manager;
  lab: string;
  paths: SupervisorPaths;
  /** A line in the supervisor's log. */
  log: (line: string) => void;
}

export interface SupervisorService {
  readonly name: string;
  /** Start from the lab as it is recorded. */
  start(lab: SupervisedLab): Promise<ServiceChange[]>;
  /** Bring the service to a changed (or the same) lab; unchanged parts keep running. */
  reload(lab: SupervisedLab): Promise<ServiceChange[]>;
  /** Stop everything the service runs; resolves once it has stopped. */
  stop(): Promise<void>;
  /** What the service runs, as JSON (in `status` under the service's name). */
  status(): unknown;
  /** Answer a request of one of the service's own ops; undefined: not one of its ops. */
  handle(request: { op: string } & Record<string, unknown>): Promise<unknown> | undefined;
}

export type ServiceFactory = (ctx: ServiceContext) => SupervisorService;
