/**
 * Layer: cli.
 *
 * `nsbox run [--name N] [--network NET]… [--ip IP] [--keep] -- CMD…`: CMD in a fresh sandbox
 * on networks (nsbox0 by default), removed when CMD exits unless --keep (managed/run.ts).
 */
import { parseIp } from '../../net/cidr.js';
import { collect, type Register } from '../context.js';
import { exitLikeChild } from './exec.js';

interface RunFlags {
  name?: string;
  network?: string[];
  ip?: string;
  keep?: boolean;
}

export const register: Register = (program, run) => {
  program.command('run').argument('<command...>', 'command and arguments, after --')
    .usage('[options] -- <command> [args...]')
    .description('run a command in a fresh sandbox on a network (nsbox0 by default); removed when it exits')
    .option('--name <name>', 'sandbox name (default run-<random>)')
    .option('--network <net>', 'connect to this network (repeatable; default nsbox0)', collect)
    .option('--ip <ip>', 'static address on the first network')
    .option('--keep', 'keep the sandbox when the command exits')
    .action((argv: string[], f: RunFlags) => run(async (ctx) => {
      if (f.ip !== undefined) parseIp(f.ip, '--ip');
      const outcome = await ctx.manager.run(argv, {
        name: f.name, networks: f.network, ip: f.ip, keep: f.keep,
        onRemoved: (r) => { if (r.errors.length > 0) process.stderr.write(`nsbox: cleaning up ${r.name}: ${r.errors.join('; ')}\n`); },
      });
      if (f.keep && !ctx.json) process.stderr.write(`nsbox: kept sandbox ${outcome.name}\n`);
      return exitLikeChild(ctx, outcome);
    }));
};
