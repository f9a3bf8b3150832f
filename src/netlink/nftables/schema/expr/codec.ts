/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * What every expression codec is: its kernel name (NFTA_EXPR_NAME) and its NFTA_EXPR_DATA
 * attributes, written in nft's order and read back. Most are a field table; the kernel's enum
 * words are the lowercase of its constant suffixes (NFT_META_OIFNAME is 'oifname').
 */
import { DecodeError } from '../../../../errors.js';
import type { AttrWriter } from '../../../wire/attr-writer.js';
import type { AttrIndex } from '../../../wire/attr.js';
import { FieldTable, type FieldSpecs } from '../../../wire/attr-fields.js';
import { enumCodec, type EnumCodec } from '../../../wire/enum-codec.js';

/** One expression kind: `type` is its kernel name. */
export interface ExprCodec<E extends { type: string }> {
  readonly name: E['type'];
  /** Write the attributes inside NFTA_EXPR_DATA. */
  encode(w: AttrWriter, e: E): void;
  /** Read them back (the caller has checked the name). */
  decode(a: AttrIndex): E;
}

/**
 * An expression whose data is a field table; decoding one without a `required` field is a
 * DecodeError (a kernel reply always has them).
 */
export function fieldExpr<E extends { type: string }>(
  name: E['type'],
  specs: FieldSpecs<Omit<E, 'type'>>,
  required: readonly (keyof Omit<E, 'type'> & string)[] = [],
): ExprCodec<E> {
  const fields = new FieldTable<Omit<E, 'type'>>(specs);
  return {
    name,
    encode: (w, e) => fields.encode(w, e),
    decode: (a) => {
      const e = { type: name } as E;
      fields.decode(a, e);
      for (const key of required) {
        if ((e as Record<string, unknown>)[key] === undefined) throw new DecodeError(`${name} expression`, 0, `no ${key}`);
      }
      return e;
    },
  };
}

/** An enum codec over the lowercase of a constant table's keys. */
export function lowercaseNames<T extends Record<string, number>>(table: T): EnumCodec<Lowercase<keyof T & string>> {
  return enumCodec(Object.fromEntries(Object.entries(table).map(([k, v]) => [k.toLowerCase(), v])) as Record<Lowercase<keyof T & string>, number>);
}
