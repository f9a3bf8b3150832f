/**
 * Layer: cli.
 *
 * `nsbox restore [--recreate]`: re-adopt sandboxes after a restart, rebuild the ones a reboot
 * took (managed/restore.ts).
 */
import { NsboxError } from '../../errors.js';
import type { Register } from '../context.js';
import { Progress, printJson, printTable } from '../output.js';

export const register: Register = (program, run) => {
  program.command('restore').description('re-adopt sandboxes after a restart; --recreate rebuilds the ones lost to a reboot')
    .option('--recreate', 'rebuild sandboxes whose namespace is gone from their records')
    .action((o: { recreate?: boolean }) => run(async ({ manager, json }) => {
      const progress = new Progress('restoring');
      const outcomes = await manager.restore({ recreate: o.recreate === true, onProgress: progress.step });
      progress.end();
      if (json) printJson(outcomes);
      else if (outcomes.length === 0) process.stdout.write('no sandboxes\n');
      else printTable(['NAME', 'STATUS', 'DETAIL'], outcomes.map((r) => [r.name, r.status, r.detail]));
      const failed = outcomes.filter((r) => r.status === 'failed');
      if (failed.length > 0) throw new NsboxError(`${failed.length} sandbox(es) could not be restored`, 'NSBOX_ERR_RESTORE');
    }));
};
