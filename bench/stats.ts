/**
 * Bench helper: timing loops and a side-by-side table. Medians of per-iteration times.
 */
import { spawnSync } from 'node:child_process';

export interface Figure {
  op: string;
  nsboxUs: number;
  peer: string;
  peerUs: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median microseconds of `fn` over `n` runs (after `warmup` untimed runs). */
export async function timeUs(n: number, fn: (i: number) => unknown, warmup = Math.min(10, n)): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return median(times);
}

/** Run a command and throw on failure (set-up steps, not timed). */
export function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

function fmt(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`;
}

export function printTable(title: string, rows: Figure[]): void {
  console.log(`\n${title}`);
  console.log('| operation | nsbox (median) | peer | peer (median) | peer / nsbox |');
  console.log('|---|---:|---|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.op} | ${fmt(r.nsboxUs)} | ${r.peer} | ${fmt(r.peerUs)} | ${(r.peerUs / r.nsboxUs).toFixed(1)}× |`);
  }
  console.log(`\nJSON ${JSON.stringify({ title, rows })}`);
}
