/**
 * Layer: cli.
 *
 * `nsbox iface add|rm`: move a host link into a sandbox (or make a bridge there) and back.
 */
import { Option } from 'commander';
import { checkLinkName } from '../../netlink/route/ops/index.js';
import { collect, type Register } from '../context.js';
import { printJson } from '../output.js';

interface IfaceAddFlags {
  src: string;
  prefix?: string;
  name?: string;
  ip?: string;
  ip6?: string;
  mac?: string;
  master?: string;
  bridge?: boolean;
  route?: string[];
  sysctl?: string[];
}

export const register: Register = (program, run) => {
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
    .action((name: string, f: IfaceAddFlags) => run(async ({ manager, json }) => {
      checkLinkName(f.src, '--src interface name');
      const row = await manager.addInterface(name, f.src, {
        name: f.name, prefix: f.prefix, ipv4: f.ip, ipv6: f.ip6, mac: f.mac, master: f.master, bridge: f.bridge, routes: f.route, sysctls: f.sysctl,
      });
      if (json) printJson(row);
      else process.stdout.write(`${row.dstName}\n`);
    }));

  iface.command('rm').argument('<name>', 'sandbox').argument('<if>', 'interface (its name inside, or its --src)')
    .description('move an interface back to the host under its source name (a bridge is deleted)')
    .action((name: string, ifname: string) => run(async ({ manager, json }) => {
      const row = await manager.removeInterface(name, ifname);
      if (json) printJson({ sandbox: name, removed: row.dstName, returnedTo: row.options.isBridge ? null : row.srcName });
      else process.stdout.write(`${row.dstName}\n`);
    }));
};
