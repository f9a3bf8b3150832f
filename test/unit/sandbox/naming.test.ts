/** sandbox/naming: generateIfaceName, the lowest free numeric suffix (osl TestGenerateIfaceName). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateIfaceName } from '../../../src/sandbox/naming.js';

void test('the upstream table: gaps are filled, non-numeric suffixes ignored', () => {
  const table: [string[], string][] = [
    [['test0', 'test1'], 'test2'],
    [['test0', 'test2'], 'test1'],
    [['test2'], 'test0'],
    [['test-0', 'test-1'], 'test0'],
    [[], 'test0'],
  ];
  for (const [taken, want] of table) assert.equal(generateIfaceName('test', taken), want, JSON.stringify(taken));
});

void test('duplicates never yield a name that is taken', () => {
  assert.equal(generateIfaceName('test', ['test0', 'test0', 'test1']), 'test2');
  assert.equal(generateIfaceName('test', ['test1', 'test1']), 'test0');
  assert.equal(generateIfaceName('test', ['test0', 'test0', 'test2', 'test2']), 'test1');
  assert.equal(generateIfaceName('test', ['test1', 'test0', 'test1', 'test0']), 'test2');
});

void test('order does not matter; other prefixes and junk are not counted', () => {
  assert.equal(generateIfaceName('eth', ['eth3', 'eth1', 'eth0', 'eth2']), 'eth4');
  assert.equal(generateIfaceName('eth', ['ethx0', 'veth0', 'eth', 'eth0a', 'lo']), 'eth0');
  assert.equal(generateIfaceName('eth', new Set(['eth0', 'eth1'])), 'eth2', 'any iterable');
});
