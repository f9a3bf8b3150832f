/**
 * Layer: netlink/route/schema — rtnetlink schema, pure.
 *
 * tc's human units, read as iproute2 6.1 reads them (lib/utils_math.c get_rate64/get_size,
 * lib/utils.c get_time), so a lab file can say what a `tc` command line would: rates
 * ('10mbit', '1gbit', '100mbps') to bits per second, sizes ('32kb', '1500', '32kbit') to bytes,
 * times ('20ms', '1.5s', '250us') to microseconds. Suffixes are case-insensitive, as in tc.
 * Careful, as in tc: `mbit` is 10^6 bits/s but `mbps` is 10^6 BYTES/s, `kbit` as a rate is 1000
 * bits/s but as a size 1024/8 bytes. A bare number is bits/s, bytes, or microseconds.
 */

const RATE_SUFFIXES: Readonly<Record<string, number>> = {
  bit: 1, kibit: 1024, kbit: 1000, mibit: 1024 ** 2, mbit: 1e6, gibit: 1024 ** 3, gbit: 1e9, tibit: 1024 ** 4, tbit: 1e12,
  bps: 8, kibps: 8 * 1024, kbps: 8000, mibps: 8 * 1024 ** 2, mbps: 8e6, gibps: 8 * 1024 ** 3, gbps: 8e9, tibps: 8 * 1024 ** 4, tbps: 8e12,
};

const SIZE_SUFFIXES: Readonly<Record<string, number>> = {
  b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, kbit: 1024 / 8, mbit: 1024 ** 2 / 8, gbit: 1024 ** 3 / 8,
};

const TIME_SUFFIXES: Readonly<Record<string, number>> = {
  s: 1e6, sec: 1e6, secs: 1e6, ms: 1e3, msec: 1e3, msecs: 1e3, us: 1, usec: 1, usecs: 1,
};

function split(text: string, what: string, suffixes: Readonly<Record<string, number>>): number {
  if (typeof text !== 'string') throw new TypeError(`${what}: expected a string such as tc takes, got ${typeof text}`);
  const m = /^\s*((?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const number = m === null ? NaN : Number(m[1]);
  const suffix = (m?.[2] ?? '').toLowerCase();
  const scale = suffix === '' ? 1 : Object.hasOwn(suffixes, suffix) ? suffixes[suffix] : undefined;
  if (!Number.isFinite(number) || scale === undefined) {
    throw new TypeError(`invalid ${what} ${JSON.stringify(text)}: a number with one of ${Object.keys(suffixes).join(', ')}`);
  }
  return number * scale;
}

/** A rate ('10mbit', '100mbps', '1.5gbit') in bits per second (whole bits; tc then sends floor(bits/8) bytes/s). */
export function parseRate(text: string): number {
  const bits = Math.floor(split(text, 'rate', RATE_SUFFIXES));
  if (bits <= 0 || !Number.isSafeInteger(bits)) throw new TypeError(`invalid rate ${JSON.stringify(text)}: must be positive`);
  return bits;
}

/** A size ('32kb', '1500', '32kbit' = 4096 bytes) in bytes; like tc, a fraction of a byte is refused. */
export function parseSize(text: string): number {
  const bytes = split(text, 'size', SIZE_SUFFIXES);
  if (!Number.isInteger(bytes) || bytes > 0xffffffff) throw new TypeError(`invalid size ${JSON.stringify(text)}: not a whole number of bytes below 4 GiB`);
  return bytes;
}

/** A time ('20ms', '1.5s', '250us', '100' = 100 µs) in whole microseconds (tc's TIME_UNITS_PER_SEC), truncated as tc does. */
export function parseTime(text: string): number {
  const us = Math.trunc(split(text, 'time', TIME_SUFFIXES));
  if (us > 0xffffffff) throw new TypeError(`invalid time ${JSON.stringify(text)}: above 2^32 µs`);
  return us;
}
