/**
 * Layer: cli.
 *
 * `nsbox exec NAME -- CMD…`: CMD inside the sandbox, in place of this process (managed/run.ts,
 * execInPlace): stdio, signals and exit status are the command's own. exitLikeChild passes a
 * child's outcome on for the commands that wait for one (`run`, `lab exec`).
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
      // This process becomes the command (no child to spawn and wait for: ~10 ms of a cold
      // exec): first its warnings said, the store closed (a long-running command holds
      // nothing) and its exit work done. A failure before that is reported as any other.
      ctx.manager.execInPlace(name, argv, {
        beforeReplace: () => {
          ctx.sayWarnings();
          ctx.close();
          process.emit('exit', 0); // what process.exit runs: bin/nsbox.cjs's code cache, the startup trace
        },
      });
    }));
};
