/**
 * Layer: lab.
 *
 * `lab exec LAB NODE -- CMD…`: a command in a node, as `nsbox exec` runs it (Manager.exec: the
 * node's namespace and /etc/netns files, stdio and signals passed through), with the node's
 * `env` from the lab's record over the caller's environment.
 */
import type { ChildOutcome, Manager } from '../managed/index.js';
import { nodeOf } from './node-exec.js';

export async function labExec(manager: Manager, lab: string, node: string, argv: readonly string[], o: { beforeSpawn?: () => void } = {}): Promise<ChildOutcome> {
  const { sandbox, env } = nodeOf(manager, lab, node);
  return manager.exec(sandbox, argv, { env: { ...process.env, ...env }, ...(o.beforeSpawn ? { beforeSpawn: o.beforeSpawn } : {}) });
}
