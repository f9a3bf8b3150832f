/**
 * Layer: cli.
 *
 * `nsbox gw set NAME IP`, `nsbox gw unset NAME [IP]`: the default gateway of each family.
 */
import { parseIp } from '../../net/cidr.js';
import type { Register } from '../context.js';
import { printJson } from '../output.js';

export const register: Register = (program, run) => {
  const gw = program.command('gw').description('the default gateway');
  gw.command('set').argument('<name>', 'sandbox').argument('<ip>', 'IPv4 or IPv6 gateway').description('set (or replace) the gateway of that family')
    .action((name: string, ip: string) => run(async ({ manager, json }) => {
      parseIp(ip, 'gateway');
      const gws = await manager.setGateway(name, ip);
      if (json) printJson({ sandbox: name, gateway: gws.gateway ?? null, gatewayIPv6: gws.gatewayIPv6 ?? null });
    }));
  gw.command('unset').argument('<name>', 'sandbox').argument('[ip]', 'which family to unset (default both)').description('remove the gateway')
    .action((name: string, ip: string | undefined) => run(async ({ manager, json }) => {
      const family = ip === undefined ? undefined : parseIp(ip, 'gateway').family;
      const gws = await manager.unsetGateway(name, family);
      if (json) printJson({ sandbox: name, gateway: gws.gateway ?? null, gatewayIPv6: gws.gatewayIPv6 ?? null });
    }));
};
