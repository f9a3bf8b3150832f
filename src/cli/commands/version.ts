/**
 * Layer: cli.
 *
 * `nsbox version`: the package version (and Node's, with --json).
 */
import type { Register } from '../context.js';
import { printJson } from '../output.js';
import { packageVersion } from '../version.js';

export const register: Register = (program, run) => {
  program.command('version').description('print the version')
    .action(() => run(async ({ json }) => {
      if (json) printJson({ version: packageVersion(), node: process.version });
      else process.stdout.write(`nsbox ${packageVersion()}\n`);
    }));
};
