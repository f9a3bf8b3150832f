/**
 * Layer: cli.
 *
 * `nsbox exec NAME -- CMD…`: run CMD inside the sandbox with stdio inherited, signals
 * forwarded and its exit status passed through. The child is forked from inside a netns
 * window; no `ip`, `nsenter` or shell runs in between.
 */
import { constants } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { CliError, EXIT, SandboxError } from '../../errors.js';
import { Sandbox } from '../../sandbox/index.js';
import type { Context } from '../context.js';
import { goneError } from './sandbox.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGTSTP'];

/**
 * Wait for `child`, forwarding our signals to it. Pass the spawn's promise, not the child:
 * forwarding starts at once, so a signal that arrives while the child is being started is
 * held and delivered to it, instead of killing nsbox and orphaning the child. Resolves with
 * the exit code to use; when the child died of a signal, returns 128 + its number (the
 * caller re-raises it).
 */
export function superviseChild(spawned: ChildProcess | Promise<ChildProcess>, command: string): Promise<{ code: number; signal?: NodeJS.Signals }> {
  let child: ChildProcess | undefined;
  const held: NodeJS.Signals[] = [];
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED) {
    const h = (): void => { if (child) child.kill(sig); else held.push(sig); };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  const stopForwarding = (): void => { for (const [sig, h] of handlers) process.off(sig, h); };
  return Promise.resolve(spawned).then((c) => new Promise((resolve) => {
    child = c;
    const done = (result: { code: number; signal?: NodeJS.Signals }): void => {
      stopForwarding();
      resolve(result);
    };
    c.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code === 'ENOENT' ? 127 : err.code === 'EACCES' ? 126 : EXIT.EXEC_FAILED;
      process.stderr.write(`nsbox: cannot run ${command}: ${err.code === 'ENOENT' ? 'command not found' : err.message}\n`);
      done({ code });
    });
    c.once('exit', (code, signal) => {
      if (signal) done({ code: 128 + (constants.signals[signal] ?? 0), signal });
      else done({ code: code ?? EXIT.FAILURE });
    });
    for (const sig of held.splice(0)) c.kill(sig);
  }), (err: unknown) => {
    stopForwarding();
    throw err;
  });
}

/** Spawn `argv` inside the namespace at `key` with inherited stdio. */
export async function spawnIn(key: string, name: string, argv: string[], env?: NodeJS.ProcessEnv): Promise<ChildProcess> {
  let sandbox: Sandbox;
  try {
    sandbox = await Sandbox.create(key, { isRestore: true });
  } catch (err) {
    if (err instanceof SandboxError && /failed get network namespace/.test(err.message)) throw goneError(name, err);
    throw err;
  }
  try {
    return sandbox.spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env: env ?? process.env });
  } finally {
    sandbox.close();
  }
}

/**
 * The exit code for the child's outcome; if it died of a signal, first die of the same one
 * (our forwarding handler removed), so a shell sees the signal and not a plain exit code.
 */
export function exitLikeChild(result: { code: number; signal?: NodeJS.Signals }): number {
  if (result.signal) {
    process.removeAllListeners(result.signal);
    process.kill(process.pid, result.signal);
  }
  return result.code;
}

export async function execCommand(ctx: Context, name: string, argv: string[]): Promise<number> {
  if (argv.length === 0) throw new CliError('nothing to run: nsbox exec NAME -- CMD [ARGS…]', 'NSBOX_ERR_USAGE', EXIT.USAGE);
  const rec = ctx.record(name);
  ctx.close();
  return exitLikeChild(await superviseChild(spawnIn(rec.key, name, argv), argv[0]!));
}
