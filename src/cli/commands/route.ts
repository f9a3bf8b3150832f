/**
 * Layer: cli.
 *
 * `nsbox route add|rm NAME --dst CIDR --via IP`: static routes through a next hop.
 */
import { checkRoute } from '../../managed/index.js';
import type { Register } from '../context.js';
import { printJson } from '../output.js';

export const register: Register = (program, run) => {
  const route = program.command('route').description('static routes through a next hop');
  for (const action of ['add', 'rm'] as const) {
    route.command(action).argument('<name>', 'sandbox')
      .description(action === 'add' ? 'add a route' : 'remove a route')
      .requiredOption('--dst <cidr>', 'destination').requiredOption('--via <ip>', 'next hop')
      .action((name: string, f: { dst: string; via: string }) => run(async ({ manager, json }) => {
        const spec = checkRoute({ destination: f.dst, nextHop: f.via }, { destination: '--dst', nextHop: '--via address' });
        const done = action === 'add' ? await manager.addRoute(name, spec) : await manager.removeRoute(name, spec);
        if (json) printJson({ sandbox: name, action, route: done });
      }));
  }
};
