/**
 * Layer: agent (process edge).
 *
 * The "cni" kind: a CNI call (its environment and stdin) answered in-process by runCni
 * (cni/main.ts) over ONE long-lived Manager and ManagedBackend, exactly as the nsbox-cni
 * process would answer it, without Node's start or SQLite's open per call. A call that names
 * another state root (NSBOX_ROOT in its environment) is declined: the shim then runs it
 * in-process on that root. Warnings the managed layer notes are drained after every call and
 * logged, so nothing accumulates over the agent's life.
 */
import { runCni } from '../cni/main.js';
import { ManagedBackend } from '../cni/managed-backend.js';
import type { Manager } from '../managed/index.js';
import { STATUS, type AgentReply, type AgentRequest } from './protocol.js';
import { declined, otherRoot, type AgentService } from './service.js';

export class CniService implements AgentService {
  readonly #manager: Manager;
  readonly #backend: ManagedBackend;
  readonly #log: (line: string) => void;

  constructor(manager: Manager, log: (line: string) => void) {
    this.#manager = manager;
    this.#backend = new ManagedBackend(manager);
    this.#log = log;
  }

  async handle(request: AgentRequest): Promise<AgentReply> {
    const elsewhere = otherRoot(this.#manager.root, request.env);
    if (elsewhere !== undefined) return declined(elsewhere);
    const outcome = await runCni(request.env, request.stdin, this.#backend);
    for (const w of this.#manager.takeWarnings()) this.#log(`warning: ${w}`);
    for (const c of this.#manager.takeHostChanges()) if (c.first) this.#log(`set ${c.key} = ${c.value} on this host (it was ${c.previous})`);
    this.#manager.takeForwardFindings();
    return { status: STATUS.served, exitCode: outcome.exitCode, stdout: outcome.stdout, stderr: '' };
  }

  describe(request: AgentRequest): string {
    const { CNI_COMMAND: command = '-', CNI_CONTAINERID: container, CNI_IFNAME: ifname } = request.env;
    return [command, container, ifname].filter((s) => s !== undefined && s !== '').join(' ');
  }

  close(): void {
    this.#manager.close();
  }
}
