/**
 * Layer: lab.
 *
 * The supervisor's first service: the lab's processes (docs/labs.md, nodes.NAME.processes).
 * Each node's processes start in the file's order, each once the one before it is ready; nodes
 * start side by side. A reload compares each process's definition (argv, cwd, env, ready,
 * restart, backoff) with the running one's: the same keeps running (same pid), a changed one is
 * stopped and started anew, a new one started, one no longer in the file stopped; a failed one
 * is tried again. The process groups it starts are recorded (leftovers.ts), and a previous
 * supervisor's leftovers are killed before anything starts.
 *
 * Its ops: `signal` {node, process, signal} (to the process group), `restart` {node, process},
 * `await-ready` (answers once every node's processes are ready, or one has failed).
 */
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { NsboxError } from '../../errors.js';
import { killGroups, readGroups, writeGroups, type GroupRecord } from './leftovers.js';
import { processLogPath, type SupervisorPaths } from './paths.js';
import type { ServiceChange, ServiceContext, SupervisedLab, SupervisorService } from './service.js';
import { SupervisedProcess, type ProcessDef, type ProcessStatus } from './supervised-process.js';

export const SIGNALS = ['HUP', 'INT', 'QUIT', 'KILL', 'USR1', 'USR2', 'TERM', 'STOP', 'CONT'] as const;

/** Each node's process definitions, in the file's order; `paths` from supervisorPaths. */
export function definitions(paths: SupervisorPaths, lab: SupervisedLab): Map<string, ProcessDef[]> {
  const byNode = new Map<string, ProcessDef[]>();
  const base = lab.file === undefined ? paths.dir : dirname(resolve(lab.file));
  for (const node of lab.spec.nodes) {
    if (node.processes.length === 0) continue;
    byNode.set(node.name, node.processes.map((spec) => {
      const cwd = spec.cwd === undefined ? base : resolve(base, spec.cwd);
      const digest = createHash('sha256').update(JSON.stringify({ spec, cwd, sandbox: node.sandbox })).digest('hex').slice(0, 16);
      return { node: node.name, sandbox: node.sandbox, spec, cwd, digest, log: processLogPath(paths, node.name, spec.name) };
    }));
  }
  return byNode;
}

class ProcessService implements SupervisorService {
  readonly name = 'processes';
  readonly #ctx: ServiceContext;
  readonly #procs = new Map<string, SupervisedProcess>();
  /** Per node, its processes' keys in the file's order. */
  #order = new Map<string, string[]>();
  #chains = new Map<string, Promise<void>>();
  readonly #groups = new Map<number, GroupRecord>();

  constructor(ctx: ServiceContext) {
    this.#ctx = ctx;
  }

  #saveGroups(): void {
    writeGroups(this.#ctx.paths.processes, [...this.#groups.values()]);
  }

  readonly #hooks = {
    started: (g: GroupRecord): void => { this.#groups.set(g.pid, g); this.#saveGroups(); },
    ended: (pid: number): void => { if (this.#groups.delete(pid)) this.#saveGroups(); },
  };

  async start(lab: SupervisedLab): Promise<ServiceChange[]> {
    const killed = await killGroups(readGroups(this.#ctx.paths.processes));
    if (killed.length > 0) this.#ctx.log(`killed ${killed.length} leftover process(es) of an earlier supervisor: ${killed.join(' ')}`);
    this.#saveGroups();
    return this.reload(lab);
  }

  async reload(lab: SupervisedLab): Promise<ServiceChange[]> {
    const defs = definitions(this.#ctx.paths, lab);
    const wanted = new Map([...defs.values()].flat().map((d) => [`${d.node}/${d.spec.name}`, d]));
    const changes: ServiceChange[] = [];
    for (const [key, p] of this.#procs) {
      if (wanted.has(key)) continue;
      await p.stop();
      p.close();
      this.#procs.delete(key);
      changes.push({ key: `process:${key}`, action: 'remove', detail: `${key} stopped: no longer in the file` });
    }
    for (const [key, def] of wanted) {
      const p = this.#procs.get(key);
      if (p !== undefined && p.def.digest === def.digest) {
        if (p.state === 'failed' || (p.state === 'pending' && p.status().failure !== undefined)) changes.push({ key: `process:${key}`, action: 'change', detail: `${key}: started again (it ${p.state === 'failed' ? 'had failed' : 'had not started'})` });
        p.reset();
        continue;
      }
      if (p !== undefined) {
        await p.stop();
        p.close();
      }
      this.#procs.set(key, new SupervisedProcess(def, this.#ctx, this.#hooks));
      changes.push({ key: `process:${key}`, action: p === undefined ? 'create' : 'change', detail: `${key}: ${p === undefined ? 'started' : 'restarted (its definition changed)'}: ${def.spec.argv.join(' ')}` });
    }
    this.#order = new Map([...defs].map(([node, list]) => [node, list.map((d) => `${d.node}/${d.spec.name}`)]));
    for (const node of this.#order.keys()) {
      const previous = this.#chains.get(node) ?? Promise.resolve();
      this.#chains.set(node, previous.then(() => this.#runNode(node)));
    }
    return changes;
  }

  async #runNode(node: string): Promise<void> {
    let blocker: string | undefined;
    for (const key of this.#order.get(node) ?? []) {
      const p = this.#procs.get(key);
      if (p === undefined) continue;
      if (blocker !== undefined) {
        p.blocked(`not started: ${blocker} before it in node ${node} is not ready`);
        continue;
      }
      await p.ensure();
      if (p.state === 'failed' || p.state === 'pending') blocker = key;
    }
  }

  /** Wait until every node's start sequence has run (reloads meanwhile included). */
  async #settled(): Promise<void> {
    for (;;) {
      const chains = [...this.#chains.values()];
      await Promise.all(chains);
      if ([...this.#chains.values()].every((c, i) => c === chains[i])) return;
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#procs.values()].map(async (p) => { await p.stop(); p.close(); }));
    this.#procs.clear();
    this.#saveGroups();
  }

  status(): ProcessStatus[] {
    return [...this.#order.values()].flat().map((k) => this.#procs.get(k)?.status()).filter((s) => s !== undefined);
  }

  #find(request: Record<string, unknown>): SupervisedProcess {
    const key = `${String(request.node)}/${String(request.process)}`;
    const p = this.#procs.get(key);
    if (p === undefined) throw new NsboxError(`lab ${this.#ctx.lab} has no process ${key}`, 'NSBOX_ERR_NOT_FOUND');
    return p;
  }

  handle(request: { op: string } & Record<string, unknown>): Promise<unknown> | undefined {
    switch (request.op) {
      case 'signal': {
        const signal = String(request.signal).toUpperCase().replace(/^SIG/, '');
        if (!(SIGNALS as readonly string[]).includes(signal)) {
          return Promise.reject(new NsboxError(`signal ${String(request.signal)}: expected one of ${SIGNALS.join(' ')}`, 'NSBOX_ERR_USAGE'));
        }
        return (async () => { const p = this.#find(request); p.signal(signal); return p.status(); })();
      }
      case 'restart':
        return (async () => { const p = this.#find(request); await p.restart(); return p.status(); })();
      case 'await-ready':
        return this.#settled().then(() => this.status());
      default:
        return undefined;
    }
  }
}

export const processService = (ctx: ServiceContext): SupervisorService => new ProcessService(ctx);
