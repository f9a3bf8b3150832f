/**
 * Layer: lab (pure).
 *
 * The units of a lab file, parsed once into numbers: rates ('10mbit', tc's units: bit/s for
 * `bit`, bytes/s for `bps`), loss ('5%' or a fraction 0.05) and durations ('20ms', '1.5s').
 * Each parser throws a TypeError whose message is the whole explanation (the loader puts the
 * file position and path in front of it). The patterns are exported for the JSON Schema.
 */

/** Multipliers to bits per second, as tc(8) spells them (SI: 1000; IEC `i` forms: 1024; `bps` is bytes). */
const RATE_UNITS: Readonly<Record<string, number>> = {
  bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, tbit: 1e12,
  kibit: 1024, mibit: 1024 ** 2, gibit: 1024 ** 3, tibit: 1024 ** 4,
  bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9, tbps: 8e12,
};

const NUMBER = '(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?';
export const RATE_PATTERN = `^${NUMBER}(?:${Object.keys(RATE_UNITS).join('|')})$`;
export const PERCENT_PATTERN = `^${NUMBER}%$`;

/** Duration units to milliseconds. */
const DURATION_UNITS: Readonly<Record<string, number>> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
export const DURATION_PATTERN = `^${NUMBER}(?:${Object.keys(DURATION_UNITS).join('|')})$`;

const RATE_RE = new RegExp(`^(${NUMBER})([a-z]+)$`);
const DURATION_RE = new RegExp(`^(${NUMBER})([a-z]+)$`);
const PERCENT_RE = new RegExp(`^(${NUMBER})%$`);

/** A rate in bits per second (an integer > 0). */
export function parseRate(value: unknown): number {
  const m = typeof value === 'string' ? RATE_RE.exec(value) : null;
  const unit = m === null ? undefined : RATE_UNITS[m[2]!];
  if (m === null || unit === undefined) {
    throw new TypeError(`invalid rate ${JSON.stringify(value)}: a number and a unit, e.g. 10mbit (units ${Object.keys(RATE_UNITS).join(', ')}; bps is bytes per second)`);
  }
  const bits = Math.round(Number(m[1]) * unit);
  if (!(bits > 0) || !Number.isSafeInteger(bits)) throw new TypeError(`invalid rate ${JSON.stringify(value)}: more than 0 and at most 9 pbit`);
  return bits;
}

/** A loss as a fraction 0..1: '5%' or 0.05. */
export function parseLoss(value: unknown): number {
  if (typeof value === 'number') {
    if (!(value >= 0 && value <= 1)) throw new TypeError(`invalid loss ${value}: a fraction from 0 to 1 (0.05) or a percentage ("5%")`);
    return value;
  }
  const m = typeof value === 'string' ? PERCENT_RE.exec(value) : null;
  if (m === null) throw new TypeError(`invalid loss ${JSON.stringify(value)}: a percentage such as 5% or a fraction such as 0.05`);
  const percent = Number(m[1]);
  if (percent > 100) throw new TypeError(`invalid loss ${JSON.stringify(value)}: at most 100%`);
  return percent / 100;
}

/** A duration in milliseconds ('20ms', '1.5s', '500us'; the number 0 is zero). */
export function parseDuration(value: unknown, what = 'duration'): number {
  if (value === 0) return 0;
  const m = typeof value === 'string' ? DURATION_RE.exec(value) : null;
  const unit = m === null ? undefined : DURATION_UNITS[m[2]!];
  if (m === null || unit === undefined) {
    const hint = typeof value === 'number' ? ': give a unit' : '';
    throw new TypeError(`invalid ${what} ${JSON.stringify(value)}${hint}: a number and a unit, e.g. 20ms (units ${Object.keys(DURATION_UNITS).join(', ')})`);
  }
  return Number(m[1]) * unit;
}
