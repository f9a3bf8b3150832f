/**
 * Layer: cli.
 *
 * `nsbox gc [--dry-run]`: remove what crashes and interrupted commands left: the processes of
 * labs whose supervisor died (src/lab/supervisor/leftovers.ts), the managed layer's sandboxes,
 * links, leases and ports (managed/gc.ts), then the labs an interrupted `lab up` or `lab down`
 * left, and lab sandboxes with no lab record (lab/gc.ts). The lab pass comes after the managed
 * one: it works through the managed layer, on sandboxes the first pass made sound.
 */
import { NsboxError } from '../../errors.js';
import { gcLabs, reapAllLeftovers } from '../../lab/index.js';
import type { Register } from '../context.js';
import { Progress, printJson, printTable } from '../output.js';

export const register: Register = (program, run) => {
  program.command('gc').description('remove leaks: interrupted work (labs too), orphaned namespaces, records whose namespace is gone')
    .option('--dry-run', 'only report')
    .action((o: { dryRun?: boolean }) => run(async ({ manager, json }) => {
      const labLeftovers = o.dryRun === true ? {} : await reapAllLeftovers(manager);
      const progress = new Progress('gc');
      const managed = await manager.gc({ dryRun: o.dryRun === true, onProgress: progress.step });
      progress.end();
      if (!json) for (const [lab, pids] of Object.entries(labLeftovers)) process.stdout.write(`killed ${pids.length} process(es) of lab ${lab} left by its dead supervisor: ${pids.join(' ')}\n`);
      const labs = await gcLabs(manager, { dryRun: o.dryRun === true });
      const result = {
        dryRun: managed.dryRun, removed: [...managed.removed, ...labs.removed], inUse: [...managed.inUse, ...labs.inUse], errors: [...managed.errors, ...labs.errors],
      };
      if (json) printJson(result);
      else if (result.removed.length === 0 && result.errors.length === 0) process.stdout.write('nothing to collect\n');
      else {
        printTable(['KIND', 'NAME', result.dryRun ? 'WOULD REMOVE BECAUSE' : 'REMOVED BECAUSE'], result.removed.map((a) => [a.kind, a.name, a.reason]));
        for (const n of result.inUse) process.stdout.write(`skipped ${n}: in use by another nsbox process\n`);
      }
      if (result.errors.length > 0) throw new NsboxError(result.errors.map((e) => `${e.name}: ${e.error}`).join('; '), 'NSBOX_ERR_GC');
    }));
};
