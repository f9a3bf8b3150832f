/**
 * Layer: cli.
 *
 * `nsbox exec NAME -- CMD…`: CMD inside the sandbox with stdio inherited, signals forwarded
 * and its exit status passed through (managed/run.ts); if CMD died of a signal, nsbox dies of
 * the same one.
 */
import type { ChildOutcome } from '../../managed/index.js';
import type { Context, Register } from '../context.js';

/**
 * The exit code for the child's outcome; if it died of a signal, first die of the same one
 * (our forwarding handler removed), so a shell sees the signal and not a plain exit code.
 */
export function exitLikeChild(ctx: Context, outcome: ChildOutcome): number {
  if (outcome.signal) {
    ctx.close(); // the process may end by the signal right away
    process.removeAllListeners(outcome.signal);
    process.kill(process.pid, outcome.signal);
  }
  return outcome.code;
}

export const register: Register = (program, run) => {
  program.command('exec').argument('<name>').argument('<command...>', 'command and arguments, after --')
    .description('run a command inside a sandbox; stdio, signals and exit status pass through')
    .usage('<name> -- <command> [args...]')
    .action((name: string, argv: string[]) => run(async (ctx) => {
      // The store is closed before the child starts: a long-running command holds nothing.
      const outcome = await ctx.manager.exec(name, argv, { beforeSpawn: () => ctx.close() });
      return exitLikeChild(ctx, outcome);
    }));
};
