/** netlink/wire mac: the MAC text codec, any length the kernel reports. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../../../src/errors.js';
import { decodeMac, encodeMac } from '../../../../src/netlink/wire/attr.js';

void test('MAC text codec', () => {
  assert.deepEqual([...encodeMac('AA:bb:0c:dd:ee:ff')], [0xaa, 0xbb, 0x0c, 0xdd, 0xee, 0xff]);
  assert.equal(decodeMac(Uint8Array.of(2, 0, 0, 0, 0, 1)), '02:00:00:00:00:01');
  assert.equal(decodeMac(new Uint8Array(20).fill(0xab)).split(':').length, 20); // infiniband
  assert.equal(decodeMac(Uint8Array.of(1)), '01');
  for (const bad of ['', 'aa-bb-cc-dd-ee-ff', 'a:b:c:d:e:f', 'aa:bb:', 'zz:00:00:00:00:00', 'aabbccddeeff']) {
    assert.throws(() => encodeMac(bad), TypeError, bad);
  }
  assert.throws(() => decodeMac(new Uint8Array(0)), DecodeError);
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), (b) => assert.deepEqual(encodeMac(decodeMac(b)), b) === undefined));
});
