/**
 * Layer: agent (process edge).
 *
 * The "cli" kind: `nsbox ls`, `inspect`, `create` and `rm` run by the agent for a client
 * (native/handoff-client.c), which then starts no Node at all: the agent has Node, the CLI and
 * the store up already (docs/benchmarks.md, "Cold start"). The agent runs the CLI's own `main`
 * on the arguments, its output caught for the reply (cli/output.ts's sinks), so what the
 * client prints and its exit code are the CLI's own.
 *
 *   request: kind "cli", stdin the arguments after `--root DIR` joined by NUL, env NSBOX_ROOT
 *            (the call's root, absolute) and NSBOX_CLIENT_NS ("mnt:INODE net:INODE", the
 *            client's namespaces)
 *   reply:   served: the command's stdout, stderr and exit code; or declined, and the client
 *            runs the CLI itself
 *
 * Declined: another root; a client in another mount or network namespace (a sandbox the agent
 * made would live in the agent's, not where the client looks); arguments that are not one of
 * those commands; the agent stopping. A call's Manager is its own (as a CLI process's), so
 * calls run side by side as processes would.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { STATUS, type AgentReply, type AgentRequest } from './protocol.js';
import { declined, otherRoot, type AgentService } from './service.js';

/** The commands a client may hand over, each with its aliases. */
export const CLI_COMMANDS: ReadonlySet<string> = new Set(['ls', 'list', 'inspect', 'create', 'rm', 'remove']);

/** Runs the CLI on `argv` with its output going to `out` and `err`; resolves to the exit code. */
export type CliRunner = (argv: string[], out: (text: string) => void, err: (text: string) => void) => Promise<number>;

/** "mnt:INODE net:INODE" of this process, as the client computes its own. */
function ownNamespaces(): string {
  return ['mnt', 'net'].map((ns) => `${ns}:${statSync(`/proc/self/ns/${ns}`).ino}`).join(' ');
}

/** The command word of `argv` (after --json), or undefined. */
function commandOf(argv: readonly string[]): string | undefined {
  let i = 0;
  while (argv[i] === '--json') i++;
  return argv[i];
}

export class CliService implements AgentService {
  readonly #root: string;
  readonly #run: CliRunner;
  readonly #namespaces: string;

  constructor(root: string, run: CliRunner) {
    this.#root = resolve(root);
    this.#run = run;
    this.#namespaces = ownNamespaces();
  }

  async handle(request: AgentRequest): Promise<AgentReply> {
    const elsewhere = otherRoot(this.#root, request.env);
    if (elsewhere !== undefined) return declined(elsewhere);
    if (request.env.NSBOX_CLIENT_NS !== this.#namespaces) return declined('the client is in another mount or network namespace than the agent');
    const argv = request.stdin === '' ? [] : request.stdin.split('\0');
    const command = commandOf(argv);
    if (command === undefined || !CLI_COMMANDS.has(command) || argv.some((a) => a === '--help' || a === '-h' || a === '--root' || a === '--host')) {
      return declined(`not a command the agent runs: ${argv.join(' ')}`);
    }
    let stdout = '';
    let stderr = '';
    try {
      const exitCode = await this.#run(['--root', this.#root, ...argv], (t) => { stdout += t; }, (t) => { stderr += t; });
      return { status: STATUS.served, exitCode, stdout, stderr };
    } catch (err) {
      // main() reports every error itself; this is a bug's last resort, said like one
      return { status: STATUS.served, exitCode: 1, stdout, stderr: `${stderr}nsbox: ${(err as Error).message}\n` };
    }
  }

  describe(request: AgentRequest): string {
    return request.stdin.split('\0').slice(0, 4).join(' ');
  }

  close(): void {
    // Each call's Manager is closed by the CLI's main.
  }
}
