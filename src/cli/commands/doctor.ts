/**
 * Layer: cli.
 *
 * `nsbox doctor`: read-only checks of what nsbox's networks need from the host
 * (managed/doctor.ts); exits 1 (NSBOX_ERR_DOCTOR) when one fails, after the report.
 */
import { NsboxError } from '../../errors.js';
import type { Register } from '../context.js';
import { printJson } from '../output.js';

export const register: Register = (program, run) => {
  program.command('doctor').description('check what networks need from the host: nf_tables, the nsbox table, other firewalls, forwarding')
    .action(() => run(async ({ manager, json }) => {
      const report = await manager.doctor();
      // the overlay's checks (src/overlay/doctor.ts): only on a root with overlay networks or their leftovers
      const { overlayChecks } = await import('../../overlay/doctor.js'); // zod and the overlay load only here
      report.checks.push(...await overlayChecks(manager));
      report.ok = report.checks.every((c) => c.status !== 'fail');
      if (json) printJson(report);
      else {
        const width = Math.max(...report.checks.map((c) => c.name.length));
        for (const c of report.checks) {
          process.stdout.write(`${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.summary}\n`);
          for (const d of c.details) process.stdout.write(`${' '.repeat(width + 8)}${d}\n`);
          if (c.fix.length > 0) process.stdout.write(`${' '.repeat(width + 8)}run:\n${c.fix.map((f) => `${' '.repeat(width + 10)}${f}\n`).join('')}`);
        }
      }
      const failed = report.checks.filter((c) => c.status === 'fail');
      if (failed.length > 0) throw new NsboxError(`${failed.length} check(s) failed: ${failed.map((c) => c.name).join(', ')}`, 'NSBOX_ERR_DOCTOR');
    }));
};
