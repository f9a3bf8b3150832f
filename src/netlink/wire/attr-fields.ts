/**
 * Layer: netlink/wire — pure codec, no I/O.
 *
 * Declarative attribute fields: a message's optional fields described once, as a table of
 * (field, attribute type, kernel name, value codec), and encoded and decoded from that table.
 * A field that is undefined is not written; an attribute that is absent leaves its field
 * unset. Tables list fields in the order the kernel's own tools send them, so encoding stays
 * byte-identical to the captured goldens.
 */
import type { AttrIndex } from './attr.js';
import { readBe16, readBe32, readBe64, readBeS32, readIp, readMac, readS32, readString, readU16, readU32, readU8 } from './attr.js';
import type { AttrWriter } from './attr-writer.js';
import type { EnumCodec } from './enum-codec.js';

/** How one attribute value is read and written. `read` may return undefined to leave the field unset. */
export interface ValueCodec<V> {
  read(v: Uint8Array, what: string): V | undefined;
  write(w: AttrWriter, type: number, v: V): void;
}

export const u8: ValueCodec<number> = { read: readU8, write: (w, t, v) => { w.u8(t, v); } };
export const u16: ValueCodec<number> = { read: readU16, write: (w, t, v) => { w.u16(t, v); } };
export const u32: ValueCodec<number> = { read: readU32, write: (w, t, v) => { w.u32(t, v); } };
export const s32: ValueCodec<number> = { read: readS32, write: (w, t, v) => { w.s32(t, v); } };
export const be16: ValueCodec<number> = { read: readBe16, write: (w, t, v) => { w.be16(t, v); } };
/** Network byte order, as every nf_tables integer attribute is. */
export const be32: ValueCodec<number> = { read: readBe32, write: (w, t, v) => { w.be32(t, v); } };
export const beS32: ValueCodec<number> = { read: readBeS32, write: (w, t, v) => { w.beS32(t, v); } };
export const be64: ValueCodec<bigint> = { read: readBe64, write: (w, t, v) => { w.be64(t, v); } };
/** Raw bytes (NLA_BINARY), copied out of the datagram on decode. */
export const binary: ValueCodec<Uint8Array> = { read: (v) => Uint8Array.from(v), write: (w, t, v) => { w.bytes(t, v); } };
export const str: ValueCodec<string> = { read: readString, write: (w, t, v) => { w.string(t, v); } };
export const ip: ValueCodec<string> = { read: readIp, write: (w, t, v) => { w.ip(t, v); } };
/** A link-layer address; an empty one (some tunnels report it) reads as absent. */
export const mac: ValueCodec<string> = { read: (v, what) => (v.length === 0 ? undefined : readMac(v, what)), write: (w, t, v) => { w.mac(t, v); } };
/** A one-byte boolean (IFLA_CARRIER, IFLA_VXLAN_LEARNING …). */
export const bool8: ValueCodec<boolean> = { read: (v, what) => readU8(v, what) !== 0, write: (w, t, v) => { w.u8(t, v ? 1 : 0); } };

/**
 * A word the kernel carries as a number (a macvlan mode …), on the wire as `as` carries it: an
 * unknown word is refused on encode (TypeError naming `what` and the choices), an unknown
 * number reads as absent (a newer kernel's value).
 */
export function named<N extends string>(names: EnumCodec<N>, as: ValueCodec<number>, what: string): ValueCodec<N> {
  return {
    read: (v, attr) => {
      const n = as.read(v, attr);
      return n === undefined ? undefined : names.decode(n);
    },
    write: (w, t, v) => { as.write(w, t, names.encode(v, what)); },
  };
}

type FieldSpec<V> = readonly [type: number, what: string, codec: ValueCodec<V>];

/** The table's input: for each field of T it describes, its attribute and codec. */
export type FieldSpecs<T> = { readonly [K in keyof T]?: FieldSpec<NonNullable<T[K]>> };

interface Field {
  key: string;
  type: number;
  what: string;
  codec: ValueCodec<unknown>;
}

/** A compiled field table for messages of type T (made once per message kind). */
export class FieldTable<T> {
  readonly #fields: readonly Field[];

  constructor(specs: FieldSpecs<T>) {
    this.#fields = Object.entries(specs as Record<string, FieldSpec<unknown>>).map(([key, [type, what, codec]]) => ({ key, type, what, codec }));
  }

  /** Write every defined field of `m` as its attribute, in table order. */
  encode(w: AttrWriter, m: T): void {
    const rec = m as Record<string, unknown>;
    for (const f of this.#fields) {
      const v = rec[f.key];
      if (v !== undefined) f.codec.write(w, f.type, v);
    }
  }

  /** Set every field of `out` whose attribute `a` holds. */
  decode(a: AttrIndex, out: T): void {
    const rec = out as Record<string, unknown>;
    for (const f of this.#fields) {
      const v = a.get(f.type);
      if (v === undefined) continue;
      const value = f.codec.read(v, f.what);
      if (value !== undefined) rec[f.key] = value;
    }
  }
}
