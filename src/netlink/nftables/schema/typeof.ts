/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * nft's `typeof` key of a set (`typeof meta iifname . numgen random mod 1000000`): the
 * expressions the key was declared with, kept in the set's KEY_TYPEOF userdata so `nft list`
 * shows the declaration and prints elements in its terms. The kernel ignores it. Layout (nft's
 * expression udata): item 0 the expression type (u32 le: EXPR_CONCAT 13, EXPR_META 9,
 * EXPR_NUMGEN 23), item 1 its data; a concatenation's data is one item per field, numbered from 0.
 */
import { NFT_META, NFT_NG } from './constants.js';
import type { MetaKey, NumgenType } from './expr/index.js';
import { encodeUserdata, type UserdataItem } from './userdata.js';

/** One field of a typeof key. */
export type TypeofField =
  | { expr: 'meta'; key: MetaKey }
  | { expr: 'numgen'; ng: NumgenType; modulus: number; offset?: number };

/** nft's enum expr_types values that typeof keys use. */
const EXPR_TYPE = { meta: 9, concat: 13, numgen: 23 } as const;

function u32le(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
}

function exprItems(type: number, data: readonly UserdataItem[]): UserdataItem[] {
  return [{ type: 0, value: u32le(type) }, { type: 1, value: encodeUserdata(data) }];
}

function fieldItems(f: TypeofField): UserdataItem[] {
  if (f.expr === 'meta') return exprItems(EXPR_TYPE.meta, [{ type: 0, value: u32le(NFT_META[f.key.toUpperCase() as keyof typeof NFT_META]) }]);
  return exprItems(EXPR_TYPE.numgen, [
    { type: 0, value: u32le(NFT_NG[f.ng.toUpperCase() as keyof typeof NFT_NG]) },
    { type: 1, value: u32le(f.modulus) },
    { type: 2, value: u32le(f.offset ?? 0) },
  ]);
}

/** The KEY_TYPEOF value of a key declared as `typeof F1 . F2 …` (a concatenation when several). */
export function typeofUserdata(fields: readonly TypeofField[]): Uint8Array {
  if (fields.length === 1) return encodeUserdata(fieldItems(fields[0]!));
  return encodeUserdata(exprItems(EXPR_TYPE.concat, fields.map((f, i) => ({ type: i, value: encodeUserdata(fieldItems(f)) }))));
}
