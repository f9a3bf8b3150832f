/**
 * Layer: cli.
 *
 * The lab commands about processes (docs/labs.md "Processes"): `nsbox lab exec LAB NODE --
 * CMD…` (exit status passed through), `nsbox lab logs LAB NODE[/PROC] [--follow] [--tail N]`,
 * and the hidden `nsbox lab supervise LAB` that `lab up` starts detached (the lab's
 * supervisor: src/lab/supervisor/). Also how `lab status` prints the supervisor's part.
 */
import { checkLabName } from '../../managed/index.js';
import { InvalidArgumentError, type Command } from 'commander';
import { followLogs, labExec, logSources, supervise, tailLines, type LabStatus } from '../../lab/index.js';
import type { Runner } from '../context.js';
import { EXIT } from '../exit.js';
import { printTable } from '../output.js';
import { exitLikeChild } from './exec.js';

/** `lab status`'s lines about the supervisor and its processes. */
export function printSupervisor(s: LabStatus['supervisor']): void {
  if (!s.running && s.processes.length === 0) {
    process.stdout.write('supervisor: not running\n');
    return;
  }
  process.stdout.write(`supervisor: pid ${s.pid ?? '-'}\n`);
  const steps = s.timers?.schedule ?? [];
  if (steps.length > 0) {
    const next = steps.find((x) => x.state === 'pending');
    const failed = steps.filter((x) => x.state === 'failed');
    process.stdout.write(`schedule: ${steps.length - steps.filter((x) => x.state === 'pending').length} of ${steps.length} step(s) run${next === undefined ? '' : `, next: ${next.action} ${next.fault} at ${next.at}`}${failed.length === 0 ? '' : `, ${failed.length} failed`}\n`);
    for (const f of failed) process.stdout.write(`  ${f.action} ${f.fault} at ${f.at}: ${f.error ?? 'failed'}\n`);
  }
  if (s.processes.length === 0) return;
  const exit = (p: (typeof s.processes)[number]): string => (p.lastExit === undefined ? '-' : p.lastExit.signal ?? `code ${p.lastExit.code ?? '?'}`);
  printTable(['NODE', 'PROCESS', 'PID', 'STATE', 'RESTARTS', 'LAST EXIT'], s.processes.map((p) => [p.node, p.process, p.pid === undefined ? '-' : String(p.pid), p.state, String(p.restarts), exit(p)]));
  for (const p of s.processes) if (p.failure !== undefined) process.stdout.write(`${p.node}/${p.process}: ${p.failure}\n`);
}

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a number of lines, got ${JSON.stringify(v)}`);
  return n;
};

export function registerLabProcess(lab: Command, run: Runner): void {
  lab.command('supervise', { hidden: true }).description("run a lab's supervisor (started by `lab up`)")
    .argument('<lab>', 'the lab name', checkLabName)
    .action((name: string) => run(async ({ manager }) => {
      await supervise(manager, name);
    }));

  lab.command('exec').description("run a command in a lab's node with the node's env; stdio, signals and exit status pass through")
    .argument('<lab>', 'the lab name', checkLabName)
    .argument('<node>', 'the node')
    .argument('<command...>', 'command and arguments, after --')
    .usage('<lab> <node> -- <command> [args...]')
    .action((name: string, node: string, argv: string[]) => run(async (ctx) => {
      const outcome = await labExec(ctx.manager, name, node, argv, { beforeSpawn: () => ctx.close() });
      return exitLikeChild(ctx, outcome);
    }));

  lab.command('logs').description("a lab's process logs: NODE/PROC, or every process of NODE")
    .argument('<lab>', 'the lab name', checkLabName)
    .argument('<target>', 'NODE or NODE/PROC')
    .option('-f, --follow', 'keep printing what is written (until interrupted)')
    .option('-n, --tail <lines>', 'only the last N lines', positiveInt)
    .action((name: string, target: string, o: { follow?: boolean; tail?: number }) => run(async (ctx) => {
      const sources = logSources(ctx.manager, name, target);
      ctx.close();
      const prefix = (s: (typeof sources)[number]): string => (sources.length > 1 ? `${s.process} | ` : '');
      for (const s of sources) {
        for (const line of tailLines(s.path, o.tail ?? Number.MAX_SAFE_INTEGER)) process.stdout.write(`${prefix(s)}${line}\n`);
      }
      if (o.follow !== true) return EXIT.OK;
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const partial = new Map<string, string>();
      await followLogs(sources, (s, text) => {
        const lines = `${partial.get(s.path) ?? ''}${text}`.split('\n');
        partial.set(s.path, lines.pop() ?? '');
        for (const line of lines) process.stdout.write(`${prefix(s)}${line}\n`);
      }, stop.signal);
      return EXIT.OK;
    }));
}
