/**
 * Layer: cli.
 *
 * `nsbox cni install --bin-dir DIR [--name nsbox-cni] [--link]`: the native nsbox-cni shim
 * put into a runtime's CNI bin directory (agent/install.ts).
 */
import { DEFAULT_PLUGIN_NAME, installShim } from '../../agent/install.js';
import type { Register } from '../context.js';
import { printJson } from '../output.js';

export const register: Register = (program, run) => {
  const cni = program.command('cni').description('the CNI plugin nsbox-cni');
  cni.command('install').description('install the nsbox-cni plugin (the native shim) into a CNI bin directory')
    .requiredOption('--bin-dir <dir>', 'the runtime\'s CNI bin directory (e.g. /opt/cni/bin)')
    .option('--name <name>', 'the plugin\'s file name, the `type` configs use', DEFAULT_PLUGIN_NAME)
    .option('--link', 'a symlink to the shim in this package instead of a copy')
    .action((opts: { binDir: string; name: string; link?: boolean }) => run(async ({ json }) => {
      const done = installShim({ binDir: opts.binDir, name: opts.name, link: opts.link === true });
      if (json) printJson(done);
      else process.stdout.write(`${done.action === 'unchanged' ? 'unchanged' : done.action}: ${done.path} (${done.mode === 'link' ? 'symlink to' : 'copy of'} ${done.source})\n`);
      return Promise.resolve();
    }));
};
