/** sandbox/cidr-math: address-in-prefix containment for the route-conflict check. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUnspecified, prefixContains } from '../../../src/sandbox/cidr-math.js';

void test('IPv4 containment at the prefix boundaries', () => {
  assert.equal(prefixContains('10.0.0.0', 8, '10.255.1.2'), true);
  assert.equal(prefixContains('10.0.0.0', 8, '11.0.0.0'), false);
  assert.equal(prefixContains('192.168.1.0', 24, '192.168.1.255'), true);
  assert.equal(prefixContains('192.168.1.0', 24, '192.168.2.0'), false);
  assert.equal(prefixContains('192.168.2.1', 32, '192.168.2.1'), true);
  assert.equal(prefixContains('192.168.2.1', 32, '192.168.2.2'), false);
  assert.equal(prefixContains('172.30.0.33', 24, '172.30.0.1'), true, 'host bits of the network are ignored');
  assert.equal(prefixContains('0.0.0.0', 0, '203.0.113.9'), true);
});

void test('IPv6 containment at the prefix boundaries', () => {
  assert.equal(prefixContains('2001:db8::', 64, '2001:db8::44'), true);
  assert.equal(prefixContains('2001:db8::', 64, '2001:db8:0:1::44'), false);
  assert.equal(prefixContains('fdac:97b4:dbcc::', 48, 'fdac:97b4:dbcc:ffff::1'), true);
  assert.equal(prefixContains('2001:db8::44', 128, '2001:db8::44'), true);
  assert.equal(prefixContains('2001:db8::44', 128, '2001:db8::45'), false);
  assert.equal(prefixContains('::', 0, 'fe80::1'), true);
  assert.equal(prefixContains('2001:db8::', 127, '2001:db8::1'), true);
});

void test('different families never contain each other', () => {
  assert.equal(prefixContains('0.0.0.0', 0, '::1'), false);
  assert.equal(prefixContains('::', 0, '10.0.0.1'), false);
  assert.equal(prefixContains('::ffff:10.0.0.0', 104, '10.0.0.1'), false);
});

void test('isUnspecified', () => {
  assert.equal(isUnspecified('0.0.0.0'), true);
  assert.equal(isUnspecified('::'), true);
  assert.equal(isUnspecified('0:0:0:0:0:0:0:0'), true);
  assert.equal(isUnspecified('::1'), false);
  assert.equal(isUnspecified('0.0.0.1'), false);
});
