/**
 * Layer: cli.
 *
 * Rendering: aligned tables for people, JSON for programs (`--json`, schemas in
 * docs/cli.md), one-line errors, and a progress line on long bulk work when stderr is a
 * terminal.
 */
import { reportedCode } from '../errors.js';
import { exitCodeOf } from './exit.js';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** An aligned table; `rows` are arrays of cells in `headers` order. */
export function printTable(headers: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  process.stdout.write(`${[line(headers), ...rows.map(line)].join('\n')}\n`);
}

/** Progress on stderr for bulk work, only when stderr is a terminal; pass `step` as an onProgress callback. */
export class Progress {
  readonly #label: string;
  readonly #tty = process.stderr.isTTY === true;

  constructor(label: string) {
    this.#label = label;
  }

  readonly step = (item: string, done: number, total: number): void => {
    if (this.#tty && total > 1) process.stderr.write(`\r\x1b[K${this.#label} [${done}/${total}] ${item}`);
  };

  end(): void {
    if (this.#tty) process.stderr.write('\r\x1b[K');
  }
}

/** Print an error as one line on stderr (a JSON object `{ error, code, exitCode }` with --json). */
export function printError(err: unknown, json: boolean): void {
  const message = err instanceof Error ? err.message : String(err);
  if (json) {
    process.stderr.write(`${JSON.stringify({ error: message, code: reportedCode(err), exitCode: exitCodeOf(err) })}\n`);
  } else {
    process.stderr.write(`nsbox: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  }
}
