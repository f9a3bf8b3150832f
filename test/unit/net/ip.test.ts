/** net/ip: the IP text codec — RFC 5952 output, node:net validation, properties. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../../src/errors.js';
import { isIP } from 'node:net';
import { decodeIp, encodeIp, ipFamily, ipVersion } from '../../../src/net/ip.js';

void test('IPv4 round trip', () => {
  assert.deepEqual([...encodeIp('10.0.0.1')], [10, 0, 0, 1]);
  assert.equal(decodeIp(Uint8Array.of(255, 255, 255, 0)), '255.255.255.0');
  fc.assert(fc.property(fc.ipV4(), (a) => decodeIp(encodeIp(a)) === a));
});

void test('IPv6 text is RFC 5952 canonical', () => {
  const cases: [string, string][] = [
    ['fe80::1', 'fe80::1'],
    ['FE80:0:0:0:0:0:0:1', 'fe80::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // leftmost of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run wins
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'], // IPv4-mapped keeps the dotted quad (§5)
    ['::FFFF:0102:0304', '::ffff:1.2.3.4'],
    ['::1.2.3.4', '::102:304'], // IPv4-compatible (deprecated) is plain hex
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ];
  for (const [input, canonical] of cases) {
    const bytes = encodeIp(input);
    assert.equal(bytes.length, 16, input);
    assert.equal(decodeIp(bytes), canonical, input);
  }
});

void test('IPv6 agrees with the WHATWG URL serializer (RFC 5952 compression) except mapped addresses', () => {
  fc.assert(
    fc.property(fc.ipV6(), (a) => {
      const ours = decodeIp(encodeIp(a));
      if (ours.startsWith('::ffff:') && ours.includes('.')) return true;
      const whatwg = new URL(`http://[${a}]/`).hostname.slice(1, -1);
      assert.equal(ours, whatwg, a);
      assert.deepEqual(encodeIp(ours), encodeIp(a));
      return true;
    }),
    { numRuns: 500 },
  );
});

void test('invalid addresses throw TypeError; zones are refused', () => {
  for (const bad of ['', '1.2.3', '256.1.1.1', '01.2.3.4', '1::2::3', 'g::1', 'fe80::1%eth0', ' 1.2.3.4', '10.0.0.1/24']) {
    assert.throws(() => encodeIp(bad), TypeError, bad);
  }
  assert.throws(() => ipFamily('nope'), TypeError);
  assert.equal(ipFamily('10.0.0.1'), 4);
  assert.equal(ipFamily('::'), 6);
});

void test('decodeIp of a wrong length is a DecodeError', () => {
  for (const n of [0, 1, 3, 5, 15, 17]) assert.throws(() => decodeIp(new Uint8Array(n)), DecodeError);
});

void test('ipVersion answers exactly as net.isIP, on valid and arbitrary strings', () => {
  const samples = ['1.2.3.4', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '::', '::1', 'fe80::1%eth0', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9',
    '1::2::3', '::ffff:1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', 'g::1', '', ':', ':::', '1:', ':1', '1::', '::1.2.3.4', 'fe80::%', '12345::'];
  for (const s of samples) assert.equal(ipVersion(s), isIP(s), s);
  const ipish = fc.stringMatching(/^[0-9a-fA-F:.%a-z]{0,45}$/);
  fc.assert(fc.property(fc.oneof(ipish, fc.ipV4(), fc.ipV6(), fc.string()), (s) => ipVersion(s) === isIP(s)), { numRuns: 20000 });
});
