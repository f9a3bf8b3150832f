/**
 * Layer: cli.
 *
 * Which file registers which top-level command. The CLI loads only the file of the command it
 * was asked for (a cold start pays for one command's code, not every command's: `nsbox ls`
 * does not evaluate the lab file schema), and every file only for `--help`, `help` and an
 * unknown command. A new top-level command is one line here; subcommands stay in their
 * file (`lab` registers its own from lab.ts).
 */
import type { Register } from './context.js';

export interface CommandFile {
  /** The top-level command names (and aliases) the file registers. */
  names: readonly string[];
  load: () => Promise<{ register: Register }>;
}

/** In the order `nsbox --help` lists them. */
export const COMMAND_FILES: readonly CommandFile[] = [
  { names: ['create', 'ls', 'list', 'inspect', 'rm', 'remove'], load: () => import('./commands/sandbox.js') },
  { names: ['exec'], load: () => import('./commands/exec.js') },
  { names: ['iface'], load: () => import('./commands/iface.js') },
  { names: ['route'], load: () => import('./commands/route.js') },
  { names: ['gw'], load: () => import('./commands/gw.js') },
  { names: ['neigh'], load: () => import('./commands/neigh.js') },
  { names: ['network'], load: () => import('./commands/network.js') },
  { names: ['connect', 'disconnect'], load: () => import('./commands/connect.js') },
  { names: ['port'], load: () => import('./commands/port.js') },
  { names: ['run'], load: () => import('./commands/run.js') },
  { names: ['gc'], load: () => import('./commands/gc.js') },
  { names: ['restore'], load: () => import('./commands/restore.js') },
  { names: ['doctor'], load: () => import('./commands/doctor.js') },
  { names: ['firewall'], load: () => import('./commands/firewall.js') },
  { names: ['lab'], load: () => import('./commands/lab.js') },
  { names: ['cni'], load: () => import('./commands/cni.js') },
  { names: ['agent'], load: () => import('./commands/agent.js') },
  { names: ['overlay'], load: () => import('./commands/overlay.js') },
  { names: ['version'], load: () => import('./commands/version.js') },
];

/** Global options that take a value (their value is not the command's name). */
const VALUE_OPTIONS = new Set(['--root', '--host']);

/** The global options before the command: where the command's name is, and --root's value if given. */
export function globalOptions(argv: readonly string[]): { command: number; root: string | undefined } {
  let i = 0;
  let root: string | undefined;
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--') {
    if (argv[i] === '--root') root = argv[i + 1];
    else if (argv[i]!.startsWith('--root=')) root = argv[i]!.slice('--root='.length);
    i += VALUE_OPTIONS.has(argv[i]!) ? 2 : 1;
  }
  return { command: i, root };
}

/**
 * The files to load for argv: the asked command's (for `help CMD`, CMD's), or every file when
 * there is no known command (the program's help, an unknown command's suggestions).
 */
export function filesFor(argv: readonly string[]): readonly CommandFile[] {
  const i = globalOptions(argv).command;
  let name = argv[i];
  if (name === 'help') name = argv[i + 1];
  const file = name === undefined ? undefined : COMMAND_FILES.find((f) => f.names.includes(name));
  return file === undefined ? COMMAND_FILES : [file];
}
