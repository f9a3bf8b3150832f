/**
 * Layer: cli.
 *
 * Rendering: aligned tables for people, JSON for programs (`--json`, schemas in
 * docs/cli.md), one-line errors, and a progress line on long bulk work when stderr is a
 * terminal.
 */
import { CliError, EXIT, NsboxError } from '../errors.js';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** An aligned table; `rows` are arrays of cells in `headers` order. */
export function printTable(headers: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  process.stdout.write(`${[line(headers), ...rows.map(line)].join('\n')}\n`);
}

/** Progress on stderr for bulk work, only when stderr is a terminal. */
export class Progress {
  readonly #total: number;
  readonly #label: string;
  readonly #tty: boolean;
  #done = 0;

  constructor(label: string, total: number) {
    this.#label = label;
    this.#total = total;
    this.#tty = process.stderr.isTTY === true && total > 1;
  }

  step(item: string): void {
    this.#done += 1;
    if (this.#tty) process.stderr.write(`\r\x1b[K${this.#label} [${this.#done}/${this.#total}] ${item}`);
  }

  end(): void {
    if (this.#tty) process.stderr.write('\r\x1b[K');
  }
}

/** The exit code an error maps to. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof TypeError || err instanceof RangeError) return EXIT.USAGE;
  const code = (err as { code?: string } | null)?.code;
  if (code === 'commander.unknownCommand' || code === 'commander.unknownOption' || code === 'commander.missingArgument' || code === 'commander.invalidArgument' || code === 'commander.excessArguments' || code === 'commander.missingMandatoryOptionValue' || code === 'commander.optionMissingArgument') return EXIT.USAGE;
  return EXIT.FAILURE;
}

/** Print an error as one line on stderr (a JSON object with --json). */
export function printError(err: unknown, json: boolean): void {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof NsboxError ? err.code : (err as { code?: string } | null)?.code ?? 'NSBOX_ERR_INTERNAL';
  if (json) {
    process.stderr.write(`${JSON.stringify({ error: message, code, exitCode: exitCodeOf(err) })}\n`);
  } else {
    process.stderr.write(`nsbox: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  }
}
