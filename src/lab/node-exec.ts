/**
 * Layer: lab.
 *
 * A command in a lab's node for the library (`lab.node(n).exec(argv)`): run as `lab exec`
 * runs it (the node's namespace and /etc/netns files, the node's `env` from the lab's record
 * over the caller's), with its output captured instead of passed through.
 */
import { NsboxError } from '../errors.js';
import type { Manager } from '../managed/index.js';
import { labSandboxes } from './members.js';
import { labPrefix } from './naming.js';
import { storedSpec } from './stored-spec.js';

export interface NodeExecOptions {
  /** Over the process's environment and the node's `env`. */
  env?: Record<string, string>;
  cwd?: string;
  /** Written to the command's stdin, which is then closed (default: closed at once). */
  input?: string | Buffer;
}

export interface NodeExecResult {
  /** The exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The node's sandbox and its env from the record; NOT_FOUND naming the lab and node. */
export function nodeOf(manager: Manager, lab: string, node: string): { sandbox: string; env: Record<string, string> } {
  const sandbox = `${labPrefix(lab)}${node}`;
  if (!labSandboxes(manager, lab).some((s) => s.record.name === sandbox)) {
    throw new NsboxError(`lab ${lab} has no node ${JSON.stringify(node)} (see \`nsbox lab status ${lab}\`)`, 'NSBOX_ERR_NOT_FOUND');
  }
  return { sandbox, env: storedSpec(manager, lab)?.nodes.find((n) => n.name === node)?.env ?? {} };
}

export async function nodeExec(manager: Manager, lab: string, node: string, argv: readonly string[], o: NodeExecOptions = {}): Promise<NodeExecResult> {
  const { sandbox, env } = nodeOf(manager, lab, node);
  const child = await manager.spawnIn(sandbox, argv, {
    stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env, ...o.env }, ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => err.push(d));
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(o.input);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}
