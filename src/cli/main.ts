/**
 * Layer: cli (process edge).
 *
 * argv -> command -> output + exit code. Every command file registers its commands; this
 * module builds the program from them, runs the one asked for, and is the CLI's single
 * funnel for errors: one line on stderr (a JSON object with --json) and the exit code of the
 * error's category (cli/exit.ts). It returns the code; bin/nsbox.cjs sets process.exitCode.
 */
import { Command, CommanderError } from 'commander';
import { NsboxError } from '../errors.js';
import type { GlobalOptions, Register, Runner } from './context.js';
import { EXIT, exitCodeOf } from './exit.js';
import { outputSunk, printError, writeErr, writeOut } from './output.js';
import { packageVersion } from './version.js';
import { filesFor, globalOptions } from './command-table.js';
import { phase } from '../trace.js';
import { withoutPrivileges } from '../privileges.js';

function program(commands: readonly Register[], runner: Runner, writeErr: (s: string) => void): Command {
  const cmd = new Command('nsbox')
    .description('Linux network sandboxes: namespaces with links, addresses, routes and neighbours')
    .option('--root <dir>', 'state directory; also moves the namespace files (env NSBOX_ROOT, default /var/lib/nsbox)')
    .option('--host <name>', "the root's host name: its sandboxes are NAME@HOST in /run/netns and /etc/netns (env NSBOX_HOST; kept in the root)")
    .option('--json', 'machine-readable output (schemas in docs/cli.md)')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr, writeOut }); // help and --version go to stdout through writeOut (or the call's sink)
  for (const register of commands) register(cmd, runner);
  return cmd;
}

/**
 * Call `fn` with process.stdout (or stderr) when it is first used: Node makes the stream on the
 * first read of the property (a getter). Where that is not so, at once.
 */
function whenMade(name: 'stdout' | 'stderr', fn: (stream: NodeJS.WriteStream) => void): void {
  const own = Object.getOwnPropertyDescriptor(process, name);
  const get = own?.get;
  if (own === undefined || get === undefined || own.configurable !== true) {
    fn(process[name]);
    return;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: own.enumerable,
    get() {
      Object.defineProperty(process, name, own);
      const stream = get.call(process) as NodeJS.WriteStream;
      fn(stream);
      return stream;
    },
  });
}

/** Parse argv, run the command, return the exit code. */
export async function main(argv: string[]): Promise<number> {
  phase('cli: bundle loaded');
  // A reader that went away (`nsbox ls | head -1`) must not crash the command half-way through
  // its work: what it still prints is lost, the work and the exit status are not.
  // The handler goes on when the stream is made (a command printing through output.ts's
  // writeOut never makes it, nor loads node:stream for it).
  // (Not for a call the agent runs for a client: its output goes to the reply, and the agent's
  // own stdout is its business.)
  if (!outputSunk()) whenMade('stdout', (stdout) => stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code !== 'EPIPE') throw err; }));
  let exitCode: number = EXIT.OK;
  const dash = argv.indexOf('--');
  let json = (dash < 0 ? argv : argv.slice(0, dash)).includes('--json');
  let commanderOutput = ''; // with --json, commander's own messages are held back
  let cmd: Command | undefined;
  const runner: Runner = async (action) => {
    const opts = cmd!.opts<GlobalOptions>();
    json = opts.json === true;
    // The library is loaded here, not with the bundle: `nsbox version` and `--help` never evaluate it.
    const { Context } = await import('./context.js');
    const ctx = new Context(opts);
    phase('cli: parsed, library loaded');
    try {
      const code = await action(ctx);
      phase('cli: command done');
      if (typeof code === 'number') exitCode = code;
    } catch (err) {
      // a damaged or long-locked state database: said with the file and what to do
      throw ctx.manager.explainStoreError(err) ?? withoutPrivileges(err) ?? err;
    } finally {
      // Said once, the first time nsbox changes the host (e.g. turns on forwarding); with --json
      // stderr carries errors only (the change is in the state database, host_settings).
      ctx.sayWarnings();
      for (const c of ctx.manager.takeHostChanges()) {
        if (c.first && !ctx.json) writeErr(`nsbox: set ${c.key} = ${c.value} on this host (it was ${c.previous}; recorded in the state database)\n`);
      }
      // Another firewall dropping a new network's traffic: said each time a network is made
      // (`nsbox doctor` says it again, and with --json).
      const findings = ctx.manager.takeForwardFindings();
      if (findings.length > 0 && !ctx.json) writeErr((await import('./firewall-text.js')).forwardWarning(findings));
      ctx.close();
    }
  };
  try {
    // Only the asked command's file is loaded (command-table.ts).
    const commands = (await Promise.all(filesFor(argv).map((f) => f.load()))).map((m) => m.register);
    phase('cli: command module loaded');
    cmd = program(commands, runner, (s) => { if (json) commanderOutput += s; else writeErr(s); });
    await cmd.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        writeErr(commanderOutput);
        return EXIT.OK;
      }
      // Without --json commander already printed the message; with it, the error is JSON too.
      if (json) printError(new NsboxError(err.message.replace(/^error: /, ''), 'NSBOX_ERR_USAGE'), true);
      return EXIT.USAGE;
    }
    printError(err, json);
    return exitCodeOf(err);
  }
  return exitCode;
}

/**
 * After `nsbox agent` went away during a `nsbox run` handed to it (run-handoff.ts): remove the
 * call's sandbox if it is a run's and no run holds it, as gc does; nothing else is touched.
 */
export async function reapHandedOff(root: string | undefined, name: string): Promise<void> {
  const { Context } = await import('./context.js');
  const ctx = new Context({ root });
  try {
    await ctx.manager.gcSandboxes([name]);
  } finally {
    ctx.close();
  }
}

/**
 * After a call that found no agent (bin/nsbox.cjs, NSBOX_HANDOFF_TRIED=noagent): start one on
 * demand for its state root, unless turned off (agent/on-demand.ts). `entry` is bin/nsbox.cjs.
 */
export async function startAgentAfter(argv: readonly string[], entry: string): Promise<void> {
  const { mayStartOnDemand, startAgentOnDemand } = await import('../agent/on-demand.js');
  if (!mayStartOnDemand(argv)) return;
  const { stateRootDir } = await import('../managed/index.js');
  startAgentOnDemand(stateRootDir(globalOptions(argv).root), entry);
}
