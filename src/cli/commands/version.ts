/**
 * Layer: cli.
 *
 * `nsbox version`: the package version (and Node's, with --json).
 */
import type { Register } from '../context.js';
import { printJson } from '../output.js';
import { packageVersion } from '../version.js';

/** Answered without a Context: no state root, no library loaded (a cold start's floor). */
export const register: Register = (program) => {
  program.command('version').description('print the version')
    .action(() => {
      if (program.opts<{ json?: boolean }>().json === true) printJson({ version: packageVersion(), node: process.version });
      else process.stdout.write(`nsbox ${packageVersion()}\n`);
    });
};
