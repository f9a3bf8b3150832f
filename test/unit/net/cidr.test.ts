/**
 * net/cidr: parsing and its error texts, canonical text, network-of, containment and overlap
 * (checked against a naive bit-string implementation), the integer form.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  addressRange, bigIntToIp, canonicalCidr, cidrText, ipToBigInt, isUnspecified, networkOf, parseCidr, parseIp, parseNetwork, subnetContains,
  subnetsOverlap, type Cidr,
} from '../../../src/net/cidr.js';
import { decodeIp, encodeIp } from '../../../src/net/ip.js';

const typeError = (message: RegExp) => ({ name: 'TypeError', message });

// ---- a naive model: addresses as strings of '0'/'1' -------------------------------------

const toBits = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(2).padStart(8, '0')).join('');
const fromBits = (bits: string): Uint8Array => Uint8Array.from({ length: bits.length / 8 }, (_, i) => parseInt(bits.slice(i * 8, i * 8 + 8), 2));
const bitsOf = (address: string): string => toBits(encodeIp(address));
/** First and last address of a prefix, as bit strings (same length, so they compare as numbers). */
const naiveRange = (c: Cidr): [string, string] => {
  const head = bitsOf(c.address).slice(0, c.prefixLen);
  const width = c.family === 4 ? 32 : 128;
  return [head.padEnd(width, '0'), head.padEnd(width, '1')];
};
const naiveContains = (c: Cidr, address: string): boolean => {
  if ((address.includes(':') ? 6 : 4) !== c.family) return false;
  const [first, last] = naiveRange(c);
  const a = bitsOf(address);
  return first <= a && a <= last;
};
const naiveOverlap = (a: Cidr, b: Cidr): boolean => {
  if (a.family !== b.family) return false;
  const [af, al] = naiveRange(a);
  const [bf, bl] = naiveRange(b);
  return af <= bl && bf <= al;
};

/** Two prefixes of one family whose addresses share a random number of leading bits (so both answers occur). */
const relatedPair = fc.constantFrom(4 as const, 6 as const).chain((family) => {
  const bytes = family === 4 ? 4 : 16;
  const width = bytes * 8;
  const raw = fc.uint8Array({ minLength: bytes, maxLength: bytes });
  return fc.tuple(raw, raw, fc.integer({ min: 0, max: width }), fc.integer({ min: 0, max: width }), fc.integer({ min: 0, max: width }))
    .map(([x, noise, shared, pa, pb]): [Cidr, Cidr] => {
      const bits = toBits(x);
      const y = fromBits(bits.slice(0, shared) + toBits(noise).slice(shared));
      return [{ address: decodeIp(x), prefixLen: pa, family }, { address: decodeIp(y), prefixLen: pb, family }];
    });
});

// ---- parsing -------------------------------------------------------------------------------

void test('parseIp: the address as given and its family; anything else names what was expected', () => {
  assert.deepEqual(parseIp('10.0.0.1'), { address: '10.0.0.1', family: 4 });
  assert.deepEqual(parseIp('FE80:0::1', 'gateway'), { address: 'FE80:0::1', family: 6 });
  assert.throws(() => parseIp('10.0.0.256', 'gateway'), typeError(/^invalid gateway "10\.0\.0\.256": not an IPv4 or IPv6 address$/));
  assert.throws(() => parseIp('10.0.0.1/24'), typeError(/^invalid address "10\.0\.0\.1\/24": not an IPv4 or IPv6 address$/));
  assert.throws(() => parseIp(undefined as unknown as string, 'next hop'), typeError(/^invalid next hop undefined: expected a string$/));
});

void test('parseCidr: address/prefix, a bare address as /32 or /128, host bits allowed', () => {
  assert.deepEqual(parseCidr('10.0.0.2/24'), { address: '10.0.0.2', prefixLen: 24, family: 4 });
  assert.deepEqual(parseCidr('10.0.0.2'), { address: '10.0.0.2', prefixLen: 32, family: 4 });
  assert.deepEqual(parseCidr('2001:db8::1'), { address: '2001:db8::1', prefixLen: 128, family: 6 });
  assert.deepEqual(parseCidr('0.0.0.0/0'), { address: '0.0.0.0', prefixLen: 0, family: 4 });
  assert.deepEqual(parseCidr('2001:0db8::1/64'), { address: '2001:0db8::1', prefixLen: 64, family: 6 }, 'the text is kept as given');
});

void test('parseCidr: one error text per fault, naming the value', () => {
  assert.throws(() => parseCidr('nonsense', '--dst'), typeError(/^invalid --dst "nonsense": not an IPv4 or IPv6 address$/));
  assert.throws(() => parseCidr('10.0.0.300/24', 'IPv4 address'), typeError(/^invalid IPv4 address "10\.0\.0\.300\/24": not an IPv4 or IPv6 address$/), 'the whole text is quoted');
  assert.throws(() => parseCidr('/24'), typeError(/not an IPv4 or IPv6 address/));
  assert.throws(() => parseCidr(' 10.0.0.0/24'), typeError(/not an IPv4 or IPv6 address/));
  for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/abc', '10.0.0.0/-1', '10.0.0.0/ 24', '10.0.0.0/24/1', '10.0.0.0/0024', '10.0.0.0/+8']) {
    assert.throws(() => parseCidr(bad, 'route destination'), typeError(/^invalid route destination ".*": prefix length must be 0 to 32$/), bad);
  }
  assert.throws(() => parseCidr('fd00::/129'), typeError(/^invalid address "fd00::\/129": prefix length must be 0 to 128$/));
});

void test('parseNetwork: host bits clear, canonical text; host bits set names the network meant', () => {
  assert.deepEqual(parseNetwork('10.83.0.0/16'), { address: '10.83.0.0', prefixLen: 16, family: 4 });
  assert.deepEqual(parseNetwork('FD00:0089:0::/64'), { address: 'fd00:89::', prefixLen: 64, family: 6 });
  assert.deepEqual(parseNetwork('192.168.2.1'), { address: '192.168.2.1', prefixLen: 32, family: 4 }, 'a bare address is a /32');
  assert.throws(() => parseNetwork('10.83.1.7/16', '--dst'), typeError(/^invalid --dst "10\.83\.1\.7\/16": host bits are set \(the network is 10\.83\.0\.0\/16\)$/));
  assert.throws(() => parseNetwork('192.168.1.130/25'), typeError(/\(the network is 192\.168\.1\.128\/25\)$/));
  assert.throws(() => parseNetwork('fd00::1/64'), typeError(/\(the network is fd00::\/64\)$/));
});

void test('parseNetwork with prefixRequired: a bare address is refused after its text is checked', () => {
  assert.throws(() => parseNetwork('10.0.0.0', 'subnet', { prefixRequired: true }), typeError(/^invalid subnet "10\.0\.0\.0": expected network\/prefix, e\.g\. 10\.89\.0\.0\/24 or fd00:89::\/64$/));
  assert.throws(() => parseNetwork('nonsense', 'subnet', { prefixRequired: true }), typeError(/^invalid subnet "nonsense": not an IPv4 or IPv6 address$/));
  assert.deepEqual(parseNetwork('10.0.0.0/8', 'subnet', { prefixRequired: true }), { address: '10.0.0.0', prefixLen: 8, family: 4 });
});

// ---- canonical text, network-of, integers ------------------------------------------------

void test('canonical text round-trips: parse(text(canonical(c))) is canonical(c) (property)', () => {
  const anyAddress = fc.oneof(fc.ipV4(), fc.ipV6());
  fc.assert(fc.property(anyAddress, fc.integer({ min: 0, max: 128 }), (address, p) => {
    const c = parseCidr(`${address}/${p % ((address.includes(':') ? 128 : 32) + 1)}`);
    const canonical = canonicalCidr(c);
    assert.equal(canonical.address, decodeIp(encodeIp(address)));
    assert.deepEqual(parseCidr(cidrText(canonical)), canonical);
    assert.deepEqual(canonicalCidr(canonical), canonical, 'idempotent');
  }), { numRuns: 2000 });
});

void test('networkOf clears the host bits; parseNetwork accepts exactly its results (property)', () => {
  assert.deepEqual(networkOf(parseCidr('10.1.2.3/8')), { address: '10.0.0.0', prefixLen: 8, family: 4 });
  assert.deepEqual(networkOf(parseCidr('2001:db8:1:2::3/33')), { address: '2001:db8::', prefixLen: 33, family: 6 });
  fc.assert(fc.property(relatedPair, ([c]) => {
    const n = networkOf(c);
    assert.equal(bitsOf(n.address), naiveRange(c)[0]);
    assert.deepEqual(parseNetwork(cidrText(n)), n);
    if (bitsOf(c.address) === bitsOf(n.address)) assert.deepEqual(parseNetwork(cidrText(c)), canonicalCidr(c));
    else assert.throws(() => parseNetwork(cidrText(c)), typeError(/host bits are set/));
  }), { numRuns: 2000 });
});

void test('addressRange, ipToBigInt and bigIntToIp', () => {
  assert.deepEqual(addressRange(parseCidr('10.1.2.77/24')), { first: 0x0a010200n, last: 0x0a0102ffn });
  assert.deepEqual(addressRange(parseCidr('0.0.0.0/0')), { first: 0n, last: 0xffffffffn });
  assert.equal(ipToBigInt('10.1.2.3'), 0x0a010203n);
  assert.equal(bigIntToIp(0x0a010203n, 4), '10.1.2.3');
  assert.equal(bigIntToIp(ipToBigInt('fd00:89:0::1'), 6), 'fd00:89::1', 'canonical text');
  fc.assert(fc.property(fc.ipV6(), (a) => bigIntToIp(ipToBigInt(a), 6) === decodeIp(encodeIp(a))));
});

void test('isUnspecified', () => {
  assert.equal(isUnspecified('0.0.0.0'), true);
  assert.equal(isUnspecified('::'), true);
  assert.equal(isUnspecified('0:0:0:0:0:0:0:0'), true);
  assert.equal(isUnspecified('::1'), false);
  assert.equal(isUnspecified('0.0.0.1'), false);
});

// ---- containment and overlap ---------------------------------------------------------------

void test('subnetContains at the prefix boundaries, host bits of the prefix ignored, never across families', () => {
  const contains = (cidr: string, address: string): boolean => subnetContains(parseCidr(cidr), address);
  assert.equal(contains('10.0.0.0/8', '10.255.1.2'), true);
  assert.equal(contains('10.0.0.0/8', '11.0.0.0'), false);
  assert.equal(contains('192.168.1.0/24', '192.168.1.255'), true);
  assert.equal(contains('192.168.2.1/32', '192.168.2.2'), false);
  assert.equal(contains('172.30.0.33/24', '172.30.0.1'), true, 'host bits of the prefix are ignored');
  assert.equal(contains('0.0.0.0/0', '203.0.113.9'), true);
  assert.equal(contains('2001:db8::/64', '2001:db8:0:1::44'), false);
  assert.equal(contains('2001:db8::/127', '2001:db8::1'), true);
  assert.equal(contains('0.0.0.0/0', '::1'), false);
  assert.equal(contains('::/0', '10.0.0.1'), false);
  assert.equal(contains('::ffff:10.0.0.0/104', '10.0.0.1'), false, 'an IPv4-mapped prefix holds no IPv4 address');
  assert.equal(contains('10.0.0.0/8', 'nonsense'), false);
});

void test('subnetContains agrees with the naive model (property)', () => {
  fc.assert(fc.property(relatedPair, ([c, other]) => {
    assert.equal(subnetContains(c, other.address), naiveContains(c, other.address));
  }), { numRuns: 5000 });
});

void test('subnetsOverlap: nested and identical overlap; adjacent, disjoint and cross-family do not', () => {
  const o = (a: string, b: string): boolean => subnetsOverlap(parseCidr(a), parseCidr(b));
  assert.equal(o('10.88.0.0/16', '10.88.0.0/16'), true);
  assert.equal(o('10.88.5.0/24', '10.88.0.0/16'), true);
  assert.equal(o('10.88.0.0/24', '10.88.1.0/24'), false, 'adjacent');
  assert.equal(o('192.168.1.0/25', '192.168.1.128/25'), false);
  assert.equal(o('fd00::/48', 'fd00:0:0:1::/64'), true);
  assert.equal(o('0.0.0.0/0', '::/0'), false, 'different families never overlap');
});

void test('subnetsOverlap agrees with the naive model, is symmetric, and means one contains the other (property)', () => {
  fc.assert(fc.property(relatedPair, ([a, b]) => {
    const got = subnetsOverlap(a, b);
    assert.equal(got, naiveOverlap(a, b));
    assert.equal(subnetsOverlap(b, a), got);
    const wider = a.prefixLen <= b.prefixLen ? a : b;
    const narrower = wider === a ? b : a;
    assert.equal(got, subnetContains(wider, narrower.address));
  }), { numRuns: 5000 });
  const v4: Cidr = { address: '0.0.0.0', prefixLen: 0, family: 4 };
  assert.equal(subnetsOverlap(v4, { address: '::', prefixLen: 0, family: 6 }), false);
});
