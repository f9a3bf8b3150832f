/**
 * Layer: cli.
 *
 * `nsbox neigh add|rm NAME IP MAC [--dev IF]`: permanent neighbour (ARP/NDP) entries.
 */
import type { Register } from '../context.js';
import { printJson } from '../output.js';

export const register: Register = (program, run) => {
  const neigh = program.command('neigh').description('permanent neighbour (ARP/NDP) entries');
  for (const action of ['add', 'rm'] as const) {
    neigh.command(action).argument('<name>', 'sandbox').argument('<ip>').argument('<mac>')
      .description(action === 'add' ? 'add an entry' : 'remove an entry')
      .option('--dev <if>', 'interface (needed when the sandbox has several)')
      .action((name: string, ip: string, mac: string, f: { dev?: string }) => run(async ({ manager, json }) => {
        const spec = { ip, mac, dev: f.dev };
        const n = action === 'add' ? await manager.addNeighbor(name, spec) : await manager.removeNeighbor(name, spec);
        if (json) printJson({ sandbox: name, action, neighbor: { ip: n.ip, mac: n.mac, dev: n.linkName } });
      }));
  }
};
