/**
 * tc's human units (schema/tc-units.ts) against what iproute2 6.1's get_rate64, get_size and
 * get_time make of the same text (lib/utils_math.c, lib/utils.c).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRate, parseSize, parseTime } from '../../../../../src/netlink/route/schema/tc-units.js';

void test('rates: bits/s; mbit is 10^6 bits/s, mbps 10^6 BYTES/s; binary prefixes; case-insensitive', () => {
  const cases: [string, number][] = [
    ['10mbit', 10_000_000], ['1gbit', 1_000_000_000], ['40Gbit', 40_000_000_000], ['100kbit', 100_000], ['1kibit', 1024], ['2mibit', 2 * 1024 * 1024],
    ['1mbps', 8_000_000], ['1MBps', 8_000_000], ['1kbps', 8000], ['1KiBps', 8192], ['1bps', 8], ['1500', 1500], ['1500bit', 1500],
    ['1.5mbit', 1_500_000], ['1tbit', 1e12], ['1e6bit', 1_000_000], [' 10mbit ', 10_000_000],
  ];
  for (const [text, bits] of cases) assert.equal(parseRate(text), bits, text);
  for (const bad of ['', 'mbit', '10 megabit', '10mbits', '-1mbit', '0', '10%', '1,5mbit']) assert.throws(() => parseRate(bad), TypeError, bad);
});

void test('sizes: bytes; k/kb = 1024, kbit = 1024/8 (not the rate\'s 1000), whole bytes only', () => {
  const cases: [string, number][] = [
    ['32kb', 32768], ['32k', 32768], ['32KB', 32768], ['32kbit', 4096], ['64kbit', 8192], ['1mb', 1048576], ['1m', 1048576], ['1mbit', 131072],
    ['1gb', 1073741824], ['1500', 1500], ['1500b', 1500], ['1.5k', 1536], ['15k', 15360],
  ];
  for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, text);
  for (const bad of ['', 'kb', '1.3k', '10kibit', '4gb', '-1', '1 byte']) assert.throws(() => parseSize(bad), TypeError, bad);
});

void test('times: microseconds; s/ms/us and their long forms; a bare number is µs; truncated', () => {
  const cases: [string, number][] = [
    ['20ms', 20_000], ['50msec', 50_000], ['1s', 1_000_000], ['1.5secs', 1_500_000], ['250us', 250], ['250usecs', 250], ['100', 100], ['0.5us', 0], ['1.0009ms', 1000],
  ];
  for (const [text, us] of cases) assert.equal(parseTime(text), us, text);
  for (const bad of ['', 'ms', '20 minutes', '1h', '-5ms', '5000s']) assert.throws(() => parseTime(bad), TypeError, bad);
});
