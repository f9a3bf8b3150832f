/**
 * Layer: lab (pure).
 *
 * Units back into the file's spelling for the graph's labels: a rate in bit/s as tc writes it
 * ('10mbit'), a loss fraction as a percentage ('5%'), milliseconds as a duration ('20ms'), and
 * one direction's impairment as one line ('a->b 10mbit 5% 20ms ±5ms').
 */
import type { Direction, Impairment } from '../model.js';

/** Trim a number to at most 3 decimals, without trailing zeros. */
const num = (n: number): string => String(+n.toFixed(3));

export function rateText(bits: number): string {
  for (const [unit, scale] of [['tbit', 1e12], ['gbit', 1e9], ['mbit', 1e6], ['kbit', 1e3]] as const) {
    if (bits >= scale) return `${num(bits / scale)}${unit}`;
  }
  return `${bits}bit`;
}

export const lossText = (fraction: number): string => `${num(fraction * 100)}%`;

export function msText(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1) return `${num(ms * 1000)}us`;
  if (ms >= 1000 && ms % 1000 === 0) return `${num(ms / 1000)}s`;
  return `${num(ms)}ms`;
}

/** The impairment's fields in the file's order (rate, loss, delay, jitter); '' when none. */
export function impairmentText(i: Impairment): string {
  const parts: string[] = [];
  if (i.rate !== undefined) parts.push(i.rate === 0 ? '0bit' : rateText(i.rate));
  if (i.loss !== undefined) parts.push(lossText(i.loss));
  if (i.delay !== undefined) parts.push(msText(i.delay));
  if (i.jitter !== undefined) parts.push(`±${msText(i.jitter)}`);
  return parts.join(' ');
}

/** 'a->b 10mbit 5% 20ms', or undefined when the direction has nothing. */
export function directionText(dir: Direction, i: Impairment | undefined): string | undefined {
  const text = i === undefined ? '' : impairmentText(i);
  return text === '' ? undefined : `${dir} ${text}`;
}

/**
 * Names in natural order: runs of digits compare as numbers (leaf2 before leaf10), the rest
 * by code unit; ties (leaf01, leaf1) by plain code-unit order. The same on every machine.
 */
export function naturalCompare(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/gu) ?? [];
  const rb = b.match(/\d+|\D+/gu) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i]!;
    const y = rb[i]!;
    if (x === y) continue;
    const dx = /^\d/u.test(x);
    const dy = /^\d/u.test(y);
    if (dx && dy) {
      const nx = x.replace(/^0+(?=\d)/u, '');
      const ny = y.replace(/^0+(?=\d)/u, '');
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      continue;
    }
    return x < y ? -1 : 1;
  }
  if (ra.length !== rb.length) return ra.length - rb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
