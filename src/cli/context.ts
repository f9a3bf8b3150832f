/**
 * Layer: cli.
 *
 * What a command gets: the Manager over the state root (--root / NSBOX_ROOT, --host / NSBOX_HOST) and whether to
 * print JSON; and how commands register themselves with the program.
 */
import type { Command } from 'commander';
import { Manager } from '../managed/index.js';
import { writeErr } from './output.js';

export interface GlobalOptions {
  root?: string;
  host?: string;
  json?: boolean;
}

export class Context {
  readonly manager: Manager;
  readonly json: boolean;

  constructor(options: GlobalOptions) {
    this.manager = Manager.open({ root: options.root, host: options.host });
    this.json = options.json === true;
  }

  /** Say the manager's warnings on stderr, each once (with --json, stderr carries errors only). */
  sayWarnings(): void {
    for (const w of this.manager.takeWarnings()) if (!this.json) writeErr(`nsbox: ${w}\n`);
  }

  close(): void {
    this.manager.close();
  }
}

/** Runs a command's action with a Context; a number it returns is the exit code. */
export type Runner = (action: (ctx: Context) => Promise<number | void>) => Promise<void>;

/** Each command file exports one of these: it adds its commands to the program. */
export type Register = (program: Command, run: Runner) => void;

/** commander's collector for repeatable options. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
