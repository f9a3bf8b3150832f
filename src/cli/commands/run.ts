/**
 * Layer: cli.
 *
 * `nsbox run [--name N] [--network NET]… [--ip IP] [--dns IP]… [--keep] [-p SPEC]… -- CMD…`: CMD
 * in a fresh sandbox on networks (nsbox0 by default), removed when CMD exits unless --keep
 * (managed/run.ts).
 */
import { parseIp } from '../../net/cidr.js';
import { checkDnsServers, parsePortSpecs, portMappingText } from '../../managed/index.js';
import { collect, type Register } from '../context.js';
import { portMapping } from './port.js';
import { exitLikeChild } from './exec.js';

interface RunFlags {
  name?: string;
  publish?: string[];
  network?: string[];
  ip?: string;
  dns?: string[];
  keep?: boolean;
}

export const register: Register = (program, run) => {
  program.command('run').argument('<command...>', 'command and arguments, after --')
    .usage('[options] -- <command> [args...]')
    .description('run a command in a fresh sandbox on a network (nsbox0 by default); removed when it exits')
    .option('--name <name>', 'sandbox name (default run-<random>)')
    .option('--network <net>', 'connect to this network (repeatable; default nsbox0)', collect)
    .option('--ip <ip>', 'static address on the first network')
    .option('--dns <ip>', 'DNS server for the sandbox\'s resolv.conf instead of the host\'s (repeatable)', collect)
    .option('--keep', 'keep the sandbox when the command exits')
    .option('-p, --publish <[hostip:]hostport:port[/proto]>', 'publish a port of the sandbox on the host for the command\'s life (repeatable; Docker\'s syntax; PORT alone picks a free host port)', collect)
    .action((argv: string[], f: RunFlags) => run(async (ctx) => {
      if (f.ip !== undefined) parseIp(f.ip, '--ip');
      const dns = checkDnsServers(f.dns, '--dns');
      const publish = parsePortSpecs(f.publish ?? []);
      const outcome = await ctx.manager.run(argv, {
        name: f.name, networks: f.network, ip: f.ip, dns, keep: f.keep, publish,
        beforeSpawn: () => ctx.sayWarnings(),
        // stdout is the command's: the ports (a free one has its number now) go to stderr.
        onPublished: (ports) => { for (const p of ports) process.stderr.write(`nsbox: published ${portMappingText(portMapping(p))}\n`); },
        onRemoved: (r) => { if (r.errors.length > 0) process.stderr.write(`nsbox: cleaning up ${r.name}: ${r.errors.join('; ')}\n`); },
      });
      if (f.keep && !ctx.json) process.stderr.write(`nsbox: kept sandbox ${outcome.name}\n`);
      return exitLikeChild(ctx, outcome);
    }));
};
