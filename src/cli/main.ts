/**
 * Layer: cli (process edge).
 *
 * argv -> command -> output + exit code. The only module that calls process.exit. Errors
 * become one line on stderr (a JSON object with --json) and a documented exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import { CliError, EXIT } from '../errors.js';
import { Context, type GlobalOptions } from './context.js';
import { exitCodeOf, printError, printJson } from './output.js';
import { packageVersion } from './version.js';
import { createCommand, inspectCommand, lsCommand, rmCommand } from './commands/sandbox.js';
import { execCommand } from './commands/exec.js';
import { ifaceAddCommand, ifaceRmCommand, type IfaceAddFlags } from './commands/iface.js';
import { gwCommand, neighCommand, routeCommand } from './commands/config.js';
import { gcCommand } from './commands/gc.js';
import { restoreCommand } from './commands/restore.js';
import {
  connectCommand, disconnectCommand, networkCreateCommand, networkInspectCommand, networkLsCommand, networkRmCommand, type NetworkCreateFlags,
} from './commands/network.js';
import { runCommand, type RunFlags } from './commands/run.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function build(run: (fn: (ctx: Context) => Promise<number | void>) => Promise<void>, writeErr: (s: string) => void): Command {
  const program = new Command('nsbox')
    .description('Linux network sandboxes: namespaces with links, addresses, routes and neighbours')
    .option('--root <dir>', 'state directory; also moves the namespace files (env NSBOX_ROOT, default /var/lib/nsbox)')
    .option('--json', 'machine-readable output (schemas in docs/cli.md)')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr });

  program.command('create').argument('<name>', 'sandbox name (letters, digits, _ . -)')
    .description('create a sandbox: a network namespace with lo up, visible to `ip netns`')
    .option('--label <key=value>', 'attach a label (repeatable)', collect)
    .action((name: string, o: { label?: string[] }) => run((ctx) => createCommand(ctx, name, o)));

  program.command('ls').alias('list').description('list sandboxes')
    .action(() => run((ctx) => lsCommand(ctx)));

  program.command('inspect').argument('<name>').description('show a sandbox: its record and what the kernel holds')
    .action((name: string) => run((ctx) => inspectCommand(ctx, name)));

  program.command('exec').argument('<name>').argument('<command...>', 'command and arguments, after --')
    .description('run a command inside a sandbox; stdio, signals and exit status pass through')
    .usage('<name> -- <command> [args...]')
    .action((name: string, argv: string[]) => run((ctx) => execCommand(ctx, name, argv)));

  program.command('rm').alias('remove').argument('[names...]').description('remove sandboxes (interfaces go back to the host)')
    .option('--all', 'remove every sandbox')
    .action((names: string[], o: { all?: boolean }) => run((ctx) => rmCommand(ctx, names, o)));

  const iface = program.command('iface').description('move interfaces into and out of a sandbox');
  iface.command('add').argument('<name>', 'sandbox')
    .description('move a host link into the sandbox (or create a bridge there) and configure it')
    .requiredOption('--src <hostif>', 'the host link (or, with --bridge, the bridge to create)')
    .addOption(new Option('--prefix <p>', 'name it <p> + the lowest free index (default eth)').conflicts('name'))
    .option('--name <n>', 'name it <n> inside the sandbox')
    .option('--ip <cidr>', 'IPv4 address, e.g. 10.0.0.2/24')
    .option('--ip6 <cidr>', 'IPv6 address (without it IPv6 is disabled on the link)')
    .option('--mac <mac>', 'hardware address')
    .option('--master <src>', 'enslave to a bridge added with --bridge (its --src)')
    .option('--bridge', 'create a bridge named --src inside the sandbox')
    .option('--route <cidr>', 'a connected route through this interface (repeatable)', collect)
    .option('--sysctl <k=v>', 'a per-interface sysctl, e.g. net.ipv4.conf.IFNAME.forwarding=1 (repeatable)', collect)
    .action((name: string, o: IfaceAddFlags) => run((ctx) => ifaceAddCommand(ctx, name, o)));
  iface.command('rm').argument('<name>', 'sandbox').argument('<if>', 'interface (its name inside, or its --src)')
    .description('move an interface back to the host under its source name (a bridge is deleted)')
    .action((name: string, ifname: string) => run((ctx) => ifaceRmCommand(ctx, name, ifname)));

  const route = program.command('route').description('static routes through a next hop');
  for (const action of ['add', 'rm'] as const) {
    route.command(action).argument('<name>', 'sandbox')
      .description(action === 'add' ? 'add a route' : 'remove a route')
      .requiredOption('--dst <cidr>', 'destination').requiredOption('--via <ip>', 'next hop')
      .action((name: string, o: { dst: string; via: string }) => run((ctx) => routeCommand(ctx, action, name, o)));
  }

  const gw = program.command('gw').description('the default gateway');
  gw.command('set').argument('<name>', 'sandbox').argument('<ip>', 'IPv4 or IPv6 gateway').description('set (or replace) the gateway of that family')
    .action((name: string, ip: string) => run((ctx) => gwCommand(ctx, 'set', name, ip)));
  gw.command('unset').argument('<name>', 'sandbox').argument('[ip]', 'which family to unset (default both)').description('remove the gateway')
    .action((name: string, ip: string | undefined) => run((ctx) => gwCommand(ctx, 'unset', name, ip)));

  const neigh = program.command('neigh').description('permanent neighbour (ARP/NDP) entries');
  for (const action of ['add', 'rm'] as const) {
    neigh.command(action).argument('<name>', 'sandbox').argument('<ip>').argument('<mac>')
      .description(action === 'add' ? 'add an entry' : 'remove an entry')
      .option('--dev <if>', 'interface (needed when the sandbox has several)')
      .action((name: string, ip: string, mac: string, o: { dev?: string }) => run((ctx) => neighCommand(ctx, action, name, ip, mac, o)));
  }

  const network = program.command('network').description('bridge and macvlan networks with address management');
  network.command('create').argument('<name>')
    .description('create a network (a bridge with the gateway address, or macvlan on --parent)')
    .addOption(new Option('--driver <driver>', 'bridge or macvlan').default('bridge').choices(['bridge', 'macvlan']))
    .option('--subnet <cidr>', 'an IPv4 and/or (with --ipv6) an IPv6 subnet (repeatable; default: a free /16 in 10.88.0.0/8)', collect)
    .option('--gateway <ip>', 'IPv4 gateway (default: the first address of the subnet)')
    .option('--ipv6', 'give sandboxes IPv6 addresses from the IPv6 --subnet')
    .option('--bridge-name <br>', 'bridge to create or use (default nsbr-<name>)')
    .option('--parent <if>', 'macvlan: the host interface')
    .option('--mode <mode>', 'macvlan mode: bridge, private, vepa, passthru, source')
    .option('--mtu <n>', 'MTU of the bridge and the sandbox links (default 1500)')
    .option('--internal', 'no default route in the sandboxes')
    .action((name: string, o: NetworkCreateFlags) => run((ctx) => networkCreateCommand(ctx, name, o)));
  network.command('ls').alias('list').description('list networks').action(() => run((ctx) => networkLsCommand(ctx)));
  network.command('inspect').argument('<name>').description('show a network and its leases')
    .action((name: string) => run((ctx) => networkInspectCommand(ctx, name)));
  network.command('rm').alias('remove').argument('<names...>').description('remove networks no sandbox is connected to')
    .action((names: string[]) => run((ctx) => networkRmCommand(ctx, names)));

  program.command('connect').argument('<network>').argument('<name>', 'sandbox')
    .description('give a sandbox an interface on a network, with an address from its subnet')
    .option('--ip <ip>', 'a static IPv4 address in the subnet')
    .option('--ip6 <ip>', 'a static IPv6 address in the IPv6 subnet')
    .action((net: string, name: string, o: { ip?: string; ip6?: string }) => run((ctx) => connectCommand(ctx, net, name, o)));
  program.command('disconnect').argument('<network>').argument('<name>', 'sandbox')
    .description('remove the sandbox\'s interface on a network and release its addresses')
    .action((net: string, name: string) => run((ctx) => disconnectCommand(ctx, net, name)));

  program.command('run').argument('<command...>', 'command and arguments, after --')
    .usage('[options] -- <command> [args...]')
    .description('run a command in a fresh sandbox on a network (nsbox0 by default); removed when it exits')
    .option('--name <name>', 'sandbox name (default run-<random>)')
    .option('--network <net>', 'connect to this network (repeatable; default nsbox0)', collect)
    .option('--ip <ip>', 'static address on the first network')
    .option('--keep', 'keep the sandbox when the command exits')
    .action((argv: string[], o: RunFlags) => run((ctx) => runCommand(ctx, argv, o)));

  program.command('gc').description('remove leaks: interrupted work, orphaned namespaces, records whose namespace is gone')
    .option('--dry-run', 'only report')
    .action((o: { dryRun?: boolean }) => run((ctx) => gcCommand(ctx, o)));

  program.command('restore').description('re-adopt sandboxes after a restart; --recreate rebuilds the ones lost to a reboot')
    .option('--recreate', 'rebuild sandboxes whose namespace is gone from their records')
    .action((o: { recreate?: boolean }) => run((ctx) => restoreCommand(ctx, o)));

  program.command('version').description('print the version')
    .action(() => run(async (ctx) => {
      if (ctx.json) printJson({ version: packageVersion(), node: process.version });
      else process.stdout.write(`nsbox ${packageVersion()}\n`);
    }));
  return program;
}

/** Parse argv, run the command, return the exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.OK;
  const dash = argv.indexOf('--');
  let json = (dash < 0 ? argv : argv.slice(0, dash)).includes('--json');
  let commanderOutput = ''; // with --json, commander's own messages are held back
  let program: Command | undefined;
  const run = async (fn: (ctx: Context) => Promise<number | void>): Promise<void> => {
    const opts = program!.opts<GlobalOptions>();
    json = opts.json === true;
    const ctx = new Context(opts);
    try {
      const code = await fn(ctx);
      if (typeof code === 'number') exitCode = code;
    } finally {
      ctx.close();
    }
  };
  try {
    program = build(run, (s) => { if (json) commanderOutput += s; else process.stderr.write(s); });
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        process.stderr.write(commanderOutput);
        return EXIT.OK;
      }
      // Without --json commander already printed the message; with it, the error is JSON too.
      if (json) printError(new CliError(err.message.replace(/^error: /, ''), 'NSBOX_ERR_USAGE', EXIT.USAGE), true);
      return EXIT.USAGE;
    }
    printError(err, json);
    return exitCodeOf(err);
  }
  return exitCode;
}
