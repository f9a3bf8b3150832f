/**
 * Layer: lab.
 *
 * `lab exec LAB NODE -- CMD…`: a command in a node, as `nsbox exec` runs it (Manager.exec: the
 * node's namespace and /etc/netns files, stdio and signals passed through), with the node's
 * `env` from the lab's record over the caller's environment.
 */
import { NsboxError } from '../errors.js';
import type { ChildOutcome, Manager } from '../managed/index.js';
import type { LabSpec } from './model.js';
import { labSandboxes } from './members.js';
import { labPrefix } from './naming.js';

export async function labExec(manager: Manager, lab: string, node: string, argv: readonly string[], o: { beforeSpawn?: () => void } = {}): Promise<ChildOutcome> {
  const sandbox = `${labPrefix(lab)}${node}`;
  if (!labSandboxes(manager, lab).some((s) => s.record.name === sandbox)) {
    throw new NsboxError(`lab ${lab} has no node ${JSON.stringify(node)} (see \`nsbox lab status ${lab}\`)`, 'NSBOX_ERR_NOT_FOUND');
  }
  const spec = manager.labs.get(lab)?.spec as LabSpec | undefined;
  const env = spec?.nodes.find((n) => n.name === node)?.env ?? {};
  return manager.exec(sandbox, argv, { env: { ...process.env, ...env }, ...(o.beforeSpawn ? { beforeSpawn: o.beforeSpawn } : {}) });
}
