/**
 * netlink/wire/attr-fields: a field table encodes defined fields in table order (so requests
 * stay byte-identical to iproute2's) and decodes present attributes, leaving absent ones
 * unset; every value codec round-trips, an empty link-layer address reads as absent, and a
 * wrong-sized value is a DecodeError naming the attribute.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../../../src/errors.js';
import { AttrWriter, attrMap, decodeAttrs } from '../../../../src/netlink/wire/attr.js';
import { FieldTable, be16, be32, bool8, ip, mac, named, s32, str, u16, u32, u8 } from '../../../../src/netlink/wire/attr-fields.js';
import { enumCodec } from '../../../../src/netlink/wire/enum-codec.js';

interface Sample {
  a?: number;
  b?: number;
  c?: number;
  d?: number;
  e?: number;
  f?: string;
  g?: string;
  h?: string;
  i?: boolean;
  j?: number;
}

const TABLE = new FieldTable<Sample>({
  h: [9, 'T_H', mac],
  a: [1, 'T_A', u8],
  b: [2, 'T_B', u16],
  c: [3, 'T_C', u32],
  d: [4, 'T_D', s32],
  e: [5, 'T_E', be16],
  f: [6, 'T_F', str],
  g: [7, 'T_G', ip],
  i: [8, 'T_I', bool8],
  j: [10, 'T_J', be32],
});

function roundTrip(m: Sample): { types: number[]; back: Sample } {
  const w = new AttrWriter();
  TABLE.encode(w, m);
  const bytes = w.finish();
  const back: Sample = {};
  TABLE.decode(attrMap(bytes), back);
  return { types: decodeAttrs(bytes).map((x) => x.type), back };
}

void test('defined fields are written in table order, undefined ones not at all; decode sets only what is there', () => {
  const { types, back } = roundTrip({ c: 7, a: 1, f: 'eth0', h: '02:00:00:00:00:01', i: false });
  assert.deepEqual(types, [9, 1, 3, 6, 8], 'table order, not object order');
  assert.deepEqual(back, { h: '02:00:00:00:00:01', a: 1, c: 7, f: 'eth0', i: false });
  assert.deepEqual(roundTrip({}), { types: [], back: {} });
});

void test('every codec round-trips its whole range', () => {
  fc.assert(fc.property(
    fc.record({
      a: fc.integer({ min: 0, max: 0xff }), b: fc.integer({ min: 0, max: 0xffff }), c: fc.integer({ min: 0, max: 0xffffffff }),
      d: fc.integer({ min: -0x80000000, max: 0x7fffffff }), e: fc.integer({ min: 0, max: 0xffff }), f: fc.string({ unit: 'grapheme-ascii' }).filter((s) => !s.includes('\0')),
      g: fc.oneof(fc.ipV4(), fc.constantFrom('fe80::1', '2001:db8::', '::')), i: fc.boolean(), j: fc.integer({ min: 0, max: 0xffffffff }),
    }, { requiredKeys: [] }),
    (generated) => {
      const m: Sample = { ...generated }; // fast-check makes null-prototype records
      assert.deepEqual(roundTrip(m).back, m);
    },
  ));
});

void test('be16 and be32 are big-endian on the wire', () => {
  const w = new AttrWriter();
  TABLE.encode(w, { e: 0x1f75, j: 0x0a070002 });
  assert.deepEqual(decodeAttrs(w.finish()).map((a) => [a.type, [...a.value]]), [[5, [0x1f, 0x75]], [10, [0x0a, 0x07, 0x00, 0x02]]]);
});

void test('an empty link-layer address reads as absent; a wrong-sized value names its attribute', () => {
  const w = new AttrWriter();
  w.bytes(9, new Uint8Array(0));
  w.bytes(3, Uint8Array.of(1, 2));
  const out: Sample = {};
  assert.throws(() => TABLE.decode(attrMap(w.finish()), out), (err: unknown) => err instanceof DecodeError && err.what === 'T_C');
  const empty = new AttrWriter();
  empty.bytes(9, new Uint8Array(0));
  const none: Sample = {};
  TABLE.decode(attrMap(empty.finish()), none);
  assert.deepEqual(none, {});
});

void test('named: words on the wire as numbers; an unknown word is refused with the choices, an unknown number reads as absent', () => {
  const MODES = enumCodec<'slow' | 'fast'>({ slow: 1, fast: 2 });
  interface Moded { mode?: 'slow' | 'fast' }
  const table = new FieldTable<Moded>({ mode: [1, 'T_MODE', named(MODES, u32, 'speed')] });
  const w = new AttrWriter();
  table.encode(w, { mode: 'fast' });
  assert.deepEqual(decodeAttrs(w.finish()).map((a) => [a.type, [...a.value]]), [[1, [2, 0, 0, 0]]]);
  const back: Moded = {};
  table.decode(attrMap(w.finish()), back);
  assert.deepEqual(back, { mode: 'fast' });
  assert.throws(() => table.encode(new AttrWriter(), { mode: 'warp' as 'fast' }), { name: 'TypeError', message: 'invalid speed "warp": slow or fast' });
  const newer = new AttrWriter();
  newer.u32(1, 9);
  const unknown: Moded = {};
  table.decode(attrMap(newer.finish()), unknown);
  assert.deepEqual(unknown, {});
});
