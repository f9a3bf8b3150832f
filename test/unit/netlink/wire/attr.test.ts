/** netlink/wire/attr: AttrWriter layout (alignment, padding, nesting), decodeAttrs strictness, readers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from '../../../../src/errors.js';
import {
  AttrWriter, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_HDRLEN, attrMap, decodeAttrs, readBe16, readBe32, readIp, readMac,
  readS32, readString, readU16, readU32, readU64, readU8,
} from '../../../../src/netlink/wire/attr.js';
import { hex, toHex } from '../fixtures.js';

void test('constants', () => {
  assert.equal(NLA_F_NESTED, 0x8000);
  assert.equal(NLA_F_NET_BYTEORDER, 0x4000);
  assert.equal(NLA_HDRLEN, 4);
});

void test('values of 1, 2, 3, 5 bytes: exact nla_len, zero padding to 4', () => {
  const w = new AttrWriter(16); // small start: forces growth
  w.bytes(1, Uint8Array.of(0xa1));
  w.bytes(2, Uint8Array.of(0xb1, 0xb2));
  w.bytes(3, Uint8Array.of(0xc1, 0xc2, 0xc3));
  w.bytes(4, Uint8Array.of(1, 2, 3, 4, 5));
  w.bytes(5, new Uint8Array(0));
  assert.equal(
    toHex(w.finish()),
    '05000100a1000000' + '06000200b1b20000' + '07000300c1c2c300' + '090004000102030405000000' + '04000500',
  );
  const attrs = decodeAttrs(w.finish());
  assert.deepEqual(attrs.map((a) => [a.type, [...a.value]]), [[1, [0xa1]], [2, [0xb1, 0xb2]], [3, [0xc1, 0xc2, 0xc3]], [4, [1, 2, 3, 4, 5]], [5, []]]);
});

void test('padding is zeroed even when the buffer is reused after growth', () => {
  const w = new AttrWriter(16);
  w.raw(new Uint8Array(13).fill(0xff));
  const out = w.finish();
  assert.equal(out.length, 16);
  assert.deepEqual([...out.subarray(13)], [0, 0, 0]);
});

void test('a typed writer that grows the buffer writes its value into the new one (every width, both byte orders)', () => {
  const writers: [string, (w: AttrWriter) => void, string][] = [
    ['u8', (w) => w.u8(1, 0xab), 'ab'], ['u16', (w) => w.u16(1, 0x1234), '3412'], ['u32', (w) => w.u32(1, 0x12345678), '78563412'],
    ['s32', (w) => w.s32(1, -2), 'feffffff'], ['u64', (w) => w.u64(1, 0x0102030405060708n), '0807060504030201'],
    ['be16', (w) => w.be16(1, 0x1234), '1234'], ['be32', (w) => w.be32(1, 0x12345678), '12345678'],
    ['beS32', (w) => w.beS32(1, -3), 'fffffffd'], ['be64', (w) => w.be64(1, 0x0102030405060708n), '0102030405060708'],
  ];
  for (const [name, write, value] of writers) {
    const w = new AttrWriter(16);
    w.raw(new Uint8Array(16)); // full: the next attribute must grow the buffer
    write(w);
    assert.equal(toHex(w.finish().subarray(20, 20 + value.length / 2)), value, name);
  }
});

void test('typed writers and readers: host order, network order, strings, flags, addresses', () => {
  const w = new AttrWriter();
  w.u8(1, 0xfe).u16(2, 0x1234).u32(3, 0xdeadbeef).s32(4, -2).u64(5, 0x0102030405060708n);
  w.be16(6, 4789).be32(7, 0x0a000001).string(8, 'eth0').flag(9).ip(10, '10.0.0.1').ip(11, 'fe80::1').mac(12, '02:00:00:00:00:01');
  const a = attrMap(w.finish());
  const get = (t: number): Uint8Array => {
    const v = a.get(t);
    assert.ok(v, `attribute ${t}`);
    return v;
  };
  assert.equal(readU8(get(1), 'X'), 0xfe);
  assert.equal(readU16(get(2), 'X'), 0x1234);
  assert.deepEqual([...get(2)], [0x34, 0x12]);
  assert.equal(readU32(get(3), 'X'), 0xdeadbeef);
  assert.equal(readS32(get(4), 'X'), -2);
  assert.equal(readU64(get(5), 'X'), 0x0102030405060708n);
  assert.deepEqual([...get(6)], [0x12, 0xb5]);
  assert.equal(readBe16(get(6), 'X'), 4789);
  assert.equal(readBe32(get(7), 'X'), 0x0a000001);
  assert.deepEqual([...get(8)], [...Buffer.from('eth0\0')]);
  assert.equal(readString(get(8), 'X'), 'eth0');
  assert.equal(get(9).length, 0);
  assert.equal(readIp(get(10), 'X'), '10.0.0.1');
  assert.equal(readIp(get(11), 'X'), 'fe80::1');
  assert.equal(readMac(get(12), 'X'), '02:00:00:00:00:01');
});

void test('an integer attribute that makes the buffer grow lands in the grown buffer, whatever its writer', () => {
  // Each writer once at the exact point where its attribute outgrows the buffer: the value must be
  // written into the new buffer (it was written into the discarded one: a zero, or a RangeError).
  const writers: [string, (w: AttrWriter) => void, string][] = [
    ['u8', (w) => w.u8(1, 0xfe), 'fe'], ['u16', (w) => w.u16(1, 0x1234), '3412'], ['u32', (w) => w.u32(1, 0xdeadbeef), 'efbeadde'],
    ['s32', (w) => w.s32(1, -2), 'feffffff'], ['u64', (w) => w.u64(1, 0x0102030405060708n), '0807060504030201'],
    ['be16', (w) => w.be16(1, 4789), '12b5'], ['be32', (w) => w.be32(1, 0x0a000001), '0a000001'],
  ];
  for (const [name, write, valueHex] of writers) {
    for (const filled of [12, 16]) { // the attribute ends past 16 bytes: growth inside the write; or starts at 16
      const w = new AttrWriter(16);
      w.reserve(filled);
      write(w);
      const [attr] = decodeAttrs(w.finish(), filled);
      assert.equal(attr && toHex(attr.value), valueHex, `${name} after ${filled} bytes`);
    }
  }
});

void test('readString stops at the first NUL and needs none', () => {
  assert.equal(readString(Uint8Array.of(0x61, 0x62), 'IFLA_IFNAME'), 'ab');
  assert.equal(readString(Uint8Array.of(0x61, 0, 0x62, 0), 'IFLA_IFNAME'), 'a');
  assert.equal(readString(new Uint8Array(0), 'IFLA_IFNAME'), '');
  const w = new AttrWriter();
  w.string(1, 'bröt');
  assert.equal(readString(attrMap(w.finish()).get(1) ?? new Uint8Array(), 'X'), 'bröt');
});

void test('readers reject wrong lengths with a DecodeError naming the attribute', () => {
  const named = (what: string) => (e: unknown) => e instanceof DecodeError && e.what === what && e.message.includes(what);
  assert.throws(() => readU8(new Uint8Array(2), 'IFLA_OPERSTATE'), named('IFLA_OPERSTATE'));
  assert.throws(() => readU16(new Uint8Array(1), 'NDA_VLAN'), named('NDA_VLAN'));
  assert.throws(() => readU32(new Uint8Array(3), 'IFLA_MTU'), named('IFLA_MTU'));
  assert.throws(() => readS32(new Uint8Array(8), 'IFLA_LINK_NETNSID'), named('IFLA_LINK_NETNSID'));
  assert.throws(() => readU64(new Uint8Array(4), 'X64'), named('X64'));
  assert.throws(() => readBe16(new Uint8Array(4), 'IFLA_VXLAN_PORT'), named('IFLA_VXLAN_PORT'));
  assert.throws(() => readBe32(new Uint8Array(2), 'B32'), named('B32'));
  assert.throws(() => readIp(new Uint8Array(6), 'RTA_GATEWAY'), named('RTA_GATEWAY'));
  assert.throws(() => readMac(new Uint8Array(0), 'IFLA_ADDRESS'), named('IFLA_ADDRESS'));
});

void test('nest sets NLA_F_NESTED, covers its contents, nests nest', () => {
  const w = new AttrWriter();
  w.nest(18, () => {
    w.string(1, 'veth');
    w.nest(2, () => w.u32(7, 1));
  });
  const bytes = w.finish();
  assert.equal(toHex(bytes), '1c001280' + '0900010076657468' + '00000000' + '0c000280' + '0800070001000000');
  const [outer] = decodeAttrs(bytes);
  assert.ok(outer);
  assert.equal(outer.type, 18);
  assert.equal(outer.flags, NLA_F_NESTED);
  const inner = decodeAttrs(outer.value);
  assert.deepEqual(inner.map((a) => [a.type, a.flags]), [[1, 0], [2, NLA_F_NESTED]]);
  assert.equal(readU32(attrMap(inner[1]?.value ?? new Uint8Array()).get(7) ?? new Uint8Array(), 'X'), 1);
});

void test('decodeAttrs masks NLA_F_NET_BYTEORDER and NLA_F_NESTED off the type', () => {
  const bytes = hex('06000f40 12b50000' + '0800 0280 00000000');
  const attrs = decodeAttrs(bytes);
  assert.deepEqual(attrs.map((a) => [a.type, a.flags]), [[15, NLA_F_NET_BYTEORDER], [2, NLA_F_NESTED]]);
  assert.equal(readBe16(attrs[0]?.value ?? new Uint8Array(), 'IFLA_VXLAN_PORT'), 4789);
  const w = new AttrWriter();
  w.bytes(15 | NLA_F_NET_BYTEORDER, Uint8Array.of(0x12, 0xb5));
  assert.equal(attrMap(w.finish()).has(15), true);
});

void test('decodeAttrs honours offset/end and returns views into the input', () => {
  const bytes = hex('ffffffff 05000100aa000000 05000200bb000000');
  const attrs = decodeAttrs(bytes, 4, 12);
  assert.equal(attrs.length, 1);
  assert.equal(attrs[0]?.value.buffer, bytes.buffer);
  // the last attribute's padding may be missing at `end`
  assert.equal(decodeAttrs(bytes, 4, 9).length, 1);
});

void test('attrMap: the last of a repeated type wins', () => {
  const w = new AttrWriter();
  w.u32(3, 1).u32(4, 2).u32(3, 9);
  assert.equal(readU32(attrMap(w.finish()).get(3) ?? new Uint8Array(), 'X'), 9);
});

void test('decodeAttrs is strict about malformed lengths', () => {
  const bad: [string, string][] = [
    ['03000100', 'nla_len shorter than the header'],
    ['00000100', 'nla_len 0'],
    ['0900010001020304', 'runs past the end'],
    ['05000100aa000000ff', 'one stray byte'],
    ['050001', 'three stray bytes'],
  ];
  for (const [h, why] of bad) assert.throws(() => decodeAttrs(hex(h)), DecodeError, why);
  assert.throws(() => decodeAttrs(new Uint8Array(8), 4, 12), DecodeError);
  assert.throws(() => decodeAttrs(new Uint8Array(8), 6, 4), DecodeError);
  assert.deepEqual(decodeAttrs(new Uint8Array(0)), []);
  const e = (() => {
    try {
      decodeAttrs(hex('05000100aa000000 0300 0200'));
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  assert.ok(e instanceof DecodeError && e.offset === 8, 'offset points at the bad attribute');
});

void test('writer misuse is a RangeError / TypeError, before anything is written', () => {
  const w = new AttrWriter();
  assert.throws(() => w.u8(1, 256), RangeError);
  assert.throws(() => w.u16(1, -1), RangeError);
  assert.throws(() => w.u32(1, 2 ** 32), RangeError);
  assert.throws(() => w.s32(1, 2 ** 31), RangeError);
  assert.throws(() => w.u64(1, -1n), RangeError);
  assert.throws(() => w.u32(1, 1.5), RangeError);
  assert.throws(() => w.u32(0x10000, 1), RangeError);
  assert.throws(() => w.bytes(1, new Uint8Array(0xffff)), RangeError);
  assert.throws(() => w.ip(1, '10.0.0.256'), TypeError);
  assert.throws(() => w.mac(1, 'nope'), TypeError);
  assert.equal(w.length, 0);
  assert.throws(() => w.nest(1, () => w.bytes(2, new Uint8Array(0xfff0)).bytes(3, new Uint8Array(0x100))), RangeError);
});

void test('reserve/view write fixed structs at returned offsets', () => {
  const w = new AttrWriter();
  const at = w.reserve(6);
  assert.equal(at, 0);
  assert.equal(w.length, 8);
  w.view().setUint16(at + 4, 0xbeef, true);
  const at2 = w.raw(Uint8Array.of(1, 2, 3, 4));
  assert.equal(at2, 8);
  assert.equal(toHex(w.finish()), '00000000efbe0000' + '01020304');
});
