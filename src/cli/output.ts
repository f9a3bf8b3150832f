/**
 * Layer: cli.
 *
 * Rendering: aligned tables for people, JSON for programs (`--json`, schemas in
 * docs/cli.md), one-line errors, and a progress line on long bulk work when stderr is a
 * terminal.
 */
import { writeSync } from 'node:fs';
import { reportedCode } from '../errors.js';
import { exitCodeOf } from './exit.js';

/** Set once writeOut handed text to process.stdout: from then on everything goes there, in order. */
let streamed = false;

/**
 * Where a call's output goes instead of this process's stdout and stderr: a command that
 * `nsbox agent` runs for a client (agent/cli-service.ts) answers into its reply. The agent
 * sets the source (an AsyncLocalStorage's store: one sink per call, calls run side by side);
 * the CLI's own process never does, and pays nothing for it.
 */
export interface OutputSink {
  out(text: string): void;
  err(text: string): void;
}
let currentSink: () => OutputSink | undefined = () => undefined;

/** Take each call's sink from `source` (the agent, once). */
export function useOutputSinks(source: () => OutputSink | undefined): void {
  currentSink = source;
}

/** Whether this call's output goes to a sink (the agent runs it), not to the process's streams. */
export function outputSunk(): boolean {
  return currentSink() !== undefined;
}

/** Write to stderr (or the call's sink). */
export function writeErr(text: string): void {
  const sink = currentSink();
  if (sink !== undefined) sink.err(text);
  else process.stderr.write(text);
}

/**
 * Write to stdout with write(2) on fd 1, as process.stdout does on Linux (synchronously, for
 * files, terminals and pipes alike) but without making the stream: that loads node:stream (and
 * node:net for a terminal or a pipe), several ms of a cold start (docs/benchmarks.md, "Cold
 * start"). A reader gone away (EPIPE) loses the text, as with the stream's handler in main.ts;
 * a non-blocking stdout that is full (EAGAIN) hands the rest to process.stdout, which queues it.
 */
export function writeOut(text: string): void {
  const sink = currentSink();
  if (sink !== undefined) {
    sink.out(text);
    return;
  }
  if (streamed) {
    process.stdout.write(text);
    return;
  }
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(1, buf, off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw err;
      streamed = true;
      process.stdout.write(buf.subarray(off));
      return;
    }
  }
}

export function printJson(value: unknown): void {
  writeOut(`${JSON.stringify(value, null, 2)}\n`);
}

/** An aligned table; `rows` are arrays of cells in `headers` order. */
export function printTable(headers: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  writeOut(`${[line(headers), ...rows.map(line)].join('\n')}\n`);
}

/**
 * Progress on stderr for bulk work, only when stderr is a terminal; pass `step` as an
 * onProgress callback. Whether it is one is asked at the first step of more than one item:
 * process.stderr is made on first use, and with it Node's streams (~2 ms of a one-name `rm`).
 */
export class Progress {
  readonly #label: string;
  #tty: boolean | undefined;

  constructor(label: string) {
    this.#label = label;
  }

  readonly step = (item: string, done: number, total: number): void => {
    if (total <= 1) return;
    this.#tty ??= !outputSunk() && process.stderr.isTTY === true;
    if (this.#tty) writeErr(`\r\x1b[K${this.#label} [${done}/${total}] ${item}`);
  };

  end(): void {
    if (this.#tty === true) writeErr('\r\x1b[K');
  }
}

/** Print an error as one line on stderr (a JSON object `{ error, code, exitCode }` with --json). */
export function printError(err: unknown, json: boolean): void {
  const message = err instanceof Error ? err.message : String(err);
  if (json) {
    writeErr(`${JSON.stringify({ error: message, code: reportedCode(err), exitCode: exitCodeOf(err) })}\n`);
  } else {
    writeErr(`nsbox: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  }
}
