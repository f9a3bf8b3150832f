/**
 * Layer: cli.
 *
 * `nsbox firewall install-hook [--unit-dir DIR]`: the systemd drop-in that puts the nsbox
 * table back after nftables.service flushes the ruleset (managed/firewall-hook.ts).
 */
import type { Register } from '../context.js';
import { printJson } from '../output.js';

export const register: Register = (program, run) => {
  const firewall = program.command('firewall').description('the nsbox table next to the host\'s firewall');
  firewall.command('install-hook')
    .description('write a systemd drop-in for nftables.service that runs `nsbox restore --firewall-only` after it loads the ruleset')
    .option('--unit-dir <dir>', 'systemd unit directory', '/etc/systemd/system')
    .action((o: { unitDir: string }) => run(async ({ manager, json }) => {
      const hook = manager.installFirewallHook({ unitDir: o.unitDir });
      if (json) return printJson(hook);
      process.stdout.write(hook.written ? `wrote ${hook.path}; run \`systemctl daemon-reload\`\n` : `${hook.path} is up to date\n`);
    }));
};
