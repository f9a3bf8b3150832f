/**
 * Layer: lab.
 *
 * The library's handle on a lab (docs/labs.md, docs/api.md "Labs"): load or build it,
 * validated, and compile it into resources; then, on a state root (a Manager, opened on first
 * use when none is given), `plan`, `up`, `status`, faults (`partition`, `fault`, each returning
 * a handle whose `heal()` undoes it; `heal` for all), `impair`, `node(n).exec`, and `down`. The
 * work is the modules' (apply.ts, down.ts, status.ts, faults.ts, impair-live.ts, node-exec.ts),
 * which the CLI calls too.
 */
import { Manager } from '../managed/index.js';
import { plan as planLab, up as upLab, type UpResult } from './apply.js';
import type { CompiledLab } from './compile.js';
import { compileLab } from './compile.js';
import { down as downLab, type DownResult } from './down.js';
import { applyFault, heal as healAll, healFault, partition as partitionLab, type ApplyFaultResult, type HealAllResult, type HealFaultResult } from './faults.js';
import { impair as impairLab, type ImpairOptions, type ImpairResult } from './impair-live.js';
import { labFromObject, loadLabFile, parseLab } from './load.js';
import type { LabSpec } from './model.js';
import { nodeExec, type NodeExecOptions, type NodeExecResult } from './node-exec.js';
import { status as statusOf, type LabStatus } from './status.js';

export interface LabRunOptions {
  /** The state root to work on (default: a Manager opened on NSBOX_ROOT, else /var/lib/nsbox). */
  manager?: Manager;
  /** With no manager: the state root's directory. */
  root?: string;
}

/** An active fault: what applying it did, and `heal()` to undo it (healing one already healed is success). */
export interface LabFault {
  readonly name: string;
  readonly result: ApplyFaultResult;
  heal(): Promise<HealFaultResult>;
}

/** One node of a running lab. */
export interface LabNode {
  readonly name: string;
  /** The nsbox sandbox: LAB.NODE. */
  readonly sandbox: string;
  /** Run `argv` in the node (its namespace, /etc/netns files and env) and collect its output. */
  exec(argv: readonly string[], options?: NodeExecOptions): Promise<NodeExecResult>;
}

export class Lab {
  readonly spec: LabSpec;
  /** The file it came from, if any. */
  readonly file: string | undefined;
  #manager: Manager | undefined;

  private constructor(spec: LabSpec, file: string | undefined, options: LabRunOptions = {}) {
    this.spec = spec;
    this.file = file;
    this.#manager = options.manager ?? (options.root === undefined ? undefined : Manager.open({ root: options.root }));
  }

  /** Read and validate a lab file; LabFileError lists every problem as FILE:LINE:COL: path: message. */
  static async load(path: string, options?: LabRunOptions): Promise<Lab> {
    return new Lab(await loadLabFile(path), path, options);
  }

  /** Validate the text of a lab file; `file` names it in problems. */
  static parse(text: string, file: string, options?: LabRunOptions): Lab {
    return new Lab(parseLab(text, file), file, options);
  }

  /** Validate a lab given as an object of the file's shape (problems have paths, no positions). */
  static fromObject(value: unknown, options?: LabRunOptions): Lab {
    return new Lab(labFromObject(value), undefined, options);
  }

  /** A lab from a spec already validated (one read back from a lab's record). */
  static fromSpec(spec: LabSpec, file?: string, options?: LabRunOptions): Lab {
    return new Lab(spec, file, options);
  }

  get name(): string {
    return this.spec.lab;
  }

  /** The lab's resources with stable keys, in dependency order (compile.ts). */
  compile(): CompiledLab {
    return compileLab(this.spec);
  }

  /** The state root this handle works on (opened on first use). */
  get manager(): Manager {
    this.#manager ??= Manager.open();
    return this.#manager;
  }

  /** What `up` would do; nothing is written. */
  plan(): Promise<UpResult> {
    return planLab(this, this.manager);
  }

  /** Make what is missing, change what differs, remove what the file no longer has (idempotent, crash-safe). */
  up(): Promise<UpResult> {
    return upLab(this, this.manager);
  }

  /** Remove the lab: its supervisor, nodes, networks and links (a lab already gone is success). */
  down(): Promise<DownResult> {
    return downLab(this.manager, this.name);
  }

  /** What runs, read back from the kernel, with the drift from the file. */
  status(): Promise<LabStatus> {
    return statusOf(this.manager, this.name);
  }

  #handle(result: ApplyFaultResult): LabFault {
    return { name: result.name, result, heal: () => healFault(this.manager, this.name, result.name) };
  }

  /** Cut groups of nodes off each other (or only the first from the second: `oneway`); `forMs`: heals itself after that long. */
  async partition(groups: readonly (readonly string[])[], options: { oneway?: boolean; forMs?: number } = {}): Promise<LabFault> {
    return this.#handle(await partitionLab(this.manager, this.name, groups, options));
  }

  /** Apply the file's fault `name`. */
  async fault(name: string, options: { forMs?: number } = {}): Promise<LabFault> {
    return this.#handle(await applyFault(this.manager, this.name, name, options));
  }

  /** Heal every active fault. */
  heal(): Promise<HealAllResult> {
    return healAll(this.manager, this.name);
  }

  /** Change a link's impairments, merged into what is live (`dir` default both; `clear` first). */
  impair(link: string, options: ImpairOptions): Promise<ImpairResult> {
    return impairLab(this.manager, this.name, link, options);
  }

  /** A node of the lab, to run commands in. */
  node(name: string): LabNode {
    return {
      name, sandbox: `${this.name}.${name}`,
      exec: (argv, options) => nodeExec(this.manager, this.name, name, argv, options),
    };
  }

  /** Close the state root's handles (they open again on next use). */
  close(): void {
    this.#manager?.close();
  }
}
