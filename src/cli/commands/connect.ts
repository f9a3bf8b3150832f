/**
 * Layer: cli.
 *
 * `nsbox connect NET NAME [--ip IP] [--ip6 IP]`, `nsbox disconnect NET NAME`.
 */
import type { Register } from '../context.js';
import { printJson } from '../output.js';

export const register: Register = (program, run) => {
  program.command('connect').argument('<network>').argument('<name>', 'sandbox')
    .description('give a sandbox an interface on a network, with an address from its subnet')
    .option('--ip <ip>', 'a static IPv4 address in the subnet')
    .option('--ip6 <ip>', 'a static IPv6 address in the IPv6 subnet')
    .action((network: string, name: string, f: { ip?: string; ip6?: string }) => run(async ({ manager, json }) => {
      const row = await manager.connect(network, name, f);
      if (json) printJson({ sandbox: name, network, interface: row });
      else process.stdout.write(`${row.dstName} ${[row.options.ipv4, row.options.ipv6].filter(Boolean).join(' ')}\n`);
    }));

  program.command('disconnect').argument('<network>').argument('<name>', 'sandbox')
    .description('remove the sandbox\'s interface on a network and release its addresses')
    .action((network: string, name: string) => run(async ({ manager, json }) => {
      const was = await manager.disconnect(network, name);
      if (json) printJson({ sandbox: name, network, disconnected: true });
      else if (!was) process.stdout.write(`${name} is not connected to ${network}\n`);
    }));
};
