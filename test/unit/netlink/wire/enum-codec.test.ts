/** netlink/wire enum-codec: name <-> number both ways, the refusal text, no prototype names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enumCodec } from '../../../../src/netlink/wire/enum-codec.js';

type Mode = 'l2' | 'l3' | 'l3s';
const modes = enumCodec<Mode>({ l2: 0, l3: 1, l3s: 2 });

void test('encode and decode are inverse over the table; names keep table order', () => {
  assert.deepEqual(modes.names, ['l2', 'l3', 'l3s']);
  for (const name of modes.names) assert.equal(modes.decode(modes.encode(name, 'mode')), name);
  assert.equal(modes.encode('l3s', 'mode'), 2);
});

void test('a number not in the table decodes as undefined (a newer kernel\'s value)', () => {
  assert.equal(modes.decode(3), undefined);
  assert.equal(modes.decode(-1), undefined);
});

void test('a name not in the table is refused with the choices, also names from Object.prototype', () => {
  for (const bad of ['l4', '', 'toString', '__proto__', 'constructor', undefined, 1]) {
    assert.throws(() => modes.encode(bad as Mode, 'ipvlan mode'), { name: 'TypeError', message: /^invalid ipvlan mode .*: l2, l3 or l3s$/ }, String(bad));
  }
});

void test('two names of one number: the first decodes it', () => {
  const aliases = enumCodec<'a' | 'b'>({ a: 7, b: 7 });
  assert.equal(aliases.decode(7), 'a');
  assert.equal(aliases.encode('b', 'x'), 7);
});
