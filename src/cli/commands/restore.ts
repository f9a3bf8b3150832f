/**
 * Layer: cli.
 *
 * `nsbox restore [--recreate | --firewall-only]`: re-adopt sandboxes after a restart, rebuild the
 * ones a reboot took; or only put the nsbox table back (managed/restore.ts).
 */
import { NsboxError } from '../../errors.js';
import type { Register } from '../context.js';
import { Progress, printJson, printTable } from '../output.js';

export const register: Register = (program, run) => {
  program.command('restore').description('re-adopt sandboxes after a restart; --recreate rebuilds the ones lost to a reboot')
    .option('--recreate', 'rebuild sandboxes whose namespace is gone from their records')
    .option('--firewall-only', 'only make the nsbox firewall table hold what the state database says (after `nft flush ruleset`)')
    .action((o: { recreate?: boolean; firewallOnly?: boolean }) => run(async ({ manager, json }) => {
      if (o.recreate && o.firewallOnly) throw new NsboxError('--recreate and --firewall-only do not go together', 'NSBOX_ERR_USAGE');
      const progress = new Progress('restoring');
      const outcomes = await manager.restore({ recreate: o.recreate === true, firewallOnly: o.firewallOnly === true, onProgress: progress.step });
      progress.end();
      if (json) printJson(outcomes);
      else if (outcomes.length === 0) process.stdout.write(o.firewallOnly ? 'firewall table in sync\n' : 'no sandboxes\n');
      else printTable(['NAME', 'STATUS', 'DETAIL'], outcomes.map((r) => [r.name, r.status, r.detail]));
      const failed = outcomes.filter((r) => r.status === 'failed');
      if (failed.length > 0 && o.firewallOnly) throw new NsboxError(`the firewall table could not be restored: ${failed.map((r) => r.detail).join('; ')}`, 'NSBOX_ERR_RESTORE');
      if (failed.length > 0) throw new NsboxError(`${failed.length} sandbox(es) could not be restored`, 'NSBOX_ERR_RESTORE');
    }));
};
