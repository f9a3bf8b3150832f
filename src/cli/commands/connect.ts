/**
 * Layer: cli.
 *
 * `nsbox connect NET NAME [--ip IP] [--ip6 IP] [--mac MAC]`, `nsbox disconnect NET NAME`.
 */
import { NsboxError } from '../../errors.js';
import { parsePortSpecs, portMappingText } from '../../managed/index.js';
import { collect, type Register } from '../context.js';
import { printJson } from '../output.js';
import { portJson, portMapping } from './port.js';

export const register: Register = (program, run) => {
  program.command('connect').argument('<network>').argument('<name>', 'sandbox')
    .description('give a sandbox an interface on a network, with an address from its subnet')
    .option('--ip <ip>', 'a static IPv4 address in the subnet')
    .option('--ip6 <ip>', 'a static IPv6 address in the IPv6 subnet')
    .option('--mac <mac>', 'the interface\'s MAC (default: derived from its IPv4 address)')
    .option('-p, --publish <[hostip:]hostport:port[/proto]>', 'publish a port of the sandbox on the host (repeatable; Docker\'s syntax)', collect)
    .action((network: string, name: string, f: { ip?: string; ip6?: string; mac?: string; publish?: string[] }) => run(async ({ manager, json }) => {
      const publish = parsePortSpecs(f.publish ?? []);
      const mac = f.mac?.toLowerCase();
      if (mac !== undefined && (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac) || (parseInt(mac.slice(0, 2), 16) & 1) === 1)) {
        throw new NsboxError(`--mac ${JSON.stringify(f.mac)}: give a unicast MAC address, e.g. 02:42:0a:00:00:05`, 'NSBOX_ERR_USAGE');
      }
      const { interface: row, ports } = await manager.connect(network, name, { ip: f.ip, ip6: f.ip6, mac, publish });
      if (json) printJson({ sandbox: name, network, interface: row, ports: ports.map(portJson) });
      else {
        process.stdout.write(`${row.dstName} ${[row.options.ipv4, row.options.ipv6].filter(Boolean).join(' ')}\n`);
        for (const p of ports) process.stdout.write(`${portMappingText(portMapping(p))}\n`);
      }
    }));

  program.command('disconnect').argument('<network>').argument('<name>', 'sandbox')
    .description('remove the sandbox\'s interface on a network and release its addresses')
    .action((network: string, name: string) => run(async ({ manager, json }) => {
      const was = await manager.disconnect(network, name);
      if (json) printJson({ sandbox: name, network, disconnected: true });
      else if (!was) process.stdout.write(`${name} is not connected to ${network}\n`);
    }));
};
