/**
 * Layer: lab.
 *
 * A process's log file, capped: appended to until it reaches its size cap, then renamed to
 * FILE.1 (replacing the previous one) and begun anew, so a process never takes more than twice
 * the cap. Writes are synchronous (the supervisor has nothing else to do meanwhile, and a line
 * is never half in one file and half in the other).
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** 4 MiB per file, one old file kept; NSBOX_LAB_LOG_BYTES overrides it (tests). */
export function logCap(): number {
  const n = Number(process.env.NSBOX_LAB_LOG_BYTES);
  return Number.isInteger(n) && n > 0 ? n : 4 << 20;
}

export class LogFile {
  readonly path: string;
  readonly #cap: number;
  #fd: number;
  #size: number;

  constructor(path: string, cap = logCap()) {
    this.path = path;
    this.#cap = cap;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.#fd = openSync(path, 'a', 0o600);
    this.#size = fstatSync(this.#fd).size;
  }

  write(chunk: Buffer | string): void {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.#size > 0 && this.#size + data.length > this.#cap) this.#rotate();
    writeSync(this.#fd, data);
    this.#size += data.length;
  }

  #rotate(): void {
    closeSync(this.#fd);
    renameSync(this.path, `${this.path}.1`);
    this.#fd = openSync(this.path, 'a', 0o600);
    this.#size = 0;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** The last `n` lines of a log (read from its last 64 KiB); [] when there is none. */
export function tailLines(path: string, n: number): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, 64 << 10);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    return n <= 0 ? [] : lines.slice(-n);
  } finally {
    closeSync(fd);
  }
}
