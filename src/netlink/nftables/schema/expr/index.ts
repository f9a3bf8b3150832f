/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * A rule's expressions: NFTA_RULE_EXPRESSIONS, a list of NFTA_LIST_ELEM nests, each an
 * NFTA_EXPR_NAME and its NFTA_EXPR_DATA. The expressions nsbox builds have typed codecs; any
 * other (a rule another tool wrote) decodes as `raw`, its data kept as bytes, and encodes back
 * the same — and so does one of a known kind whose data its codec cannot read (a meta key or
 * ct key newer than the codec's table, in a rule another tool wrote): reading another
 * firewall's rules must not fail on the one expression nsbox does not know.
 */
import { DecodeError } from '../../../../errors.js';
import type { AttrWriter } from '../../../wire/attr-writer.js';
import { attrMap, decodeAttrs, readString } from '../../../wire/attr.js';
import { NFTA_EXPR, NFTA_LIST } from '../constants.js';
import type { ExprCodec } from './codec.js';
import { bitwise, type BitwiseExpr } from './bitwise.js';
import { byteorder, type ByteorderExpr } from './byteorder.js';
import { cmp, type CmpExpr } from './cmp.js';
import { counter, type CounterExpr } from './counter.js';
import { ct, type CtExpr } from './ct.js';
import { fib, type FibExpr } from './fib.js';
import { immediate, type ImmediateExpr } from './immediate.js';
import { lookup, type LookupExpr } from './lookup.js';
import { masq, type MasqExpr } from './masq.js';
import { meta, type MetaExpr } from './meta.js';
import { nat, type NatExpr } from './nat.js';
import { numgen, type NumgenExpr } from './numgen.js';
import { payload, type PayloadExpr } from './payload.js';
import { reject, type RejectExpr } from './reject.js';

/** An expression nsbox has no codec for: its kernel name and NFTA_EXPR_DATA as bytes. */
export interface RawExpr {
  type: 'raw';
  name: string;
  data: Uint8Array;
}

/** One expression of a rule. */
export type Expr =
  | MetaExpr | PayloadExpr | CmpExpr | BitwiseExpr | ImmediateExpr | LookupExpr | NatExpr | MasqExpr | CtExpr | FibExpr | CounterExpr
  | RejectExpr | NumgenExpr | ByteorderExpr | RawExpr;

const CODECS = new Map<string, ExprCodec<Exclude<Expr, RawExpr>>>(
  [meta, payload, cmp, bitwise, immediate, lookup, nat, masq, ct, fib, counter, reject, numgen, byteorder].map((c) => [c.name, c as ExprCodec<Exclude<Expr, RawExpr>>]),
);

/** Write `exprs` as the list nest `type` (NFTA_RULE_EXPRESSIONS). TypeError for an expression kind it does not know. */
export function writeExpressions(w: AttrWriter, type: number, exprs: readonly Expr[]): void {
  w.nest(type, (list) => {
    for (const e of exprs) {
      list.nest(NFTA_LIST.ELEM, (x) => {
        if (e.type === 'raw') {
          x.string(NFTA_EXPR.NAME, e.name);
          x.nest(NFTA_EXPR.DATA, (d) => { d.raw(e.data); });
          return;
        }
        const codec = CODECS.get(e.type);
        if (codec === undefined) throw new TypeError(`unknown nf_tables expression ${JSON.stringify((e as { type?: unknown }).type)}`);
        x.string(NFTA_EXPR.NAME, codec.name);
        x.nest(NFTA_EXPR.DATA, (d) => codec.encode(d, e));
      });
    }
  });
}

/** Read the list nest's value back into expressions. */
export function readExpressions(v: Uint8Array): Expr[] {
  return decodeAttrs(v).map((item) => {
    if (item.type !== NFTA_LIST.ELEM) throw new DecodeError('NFTA_RULE_EXPRESSIONS', 0, `list item of type ${item.type}`);
    const a = attrMap(item.value);
    const nameBytes = a.get(NFTA_EXPR.NAME);
    if (nameBytes === undefined) throw new DecodeError('NFTA_LIST_ELEM', 0, 'an expression without NFTA_EXPR_NAME');
    const name = readString(nameBytes, 'NFTA_EXPR_NAME');
    const data = a.get(NFTA_EXPR.DATA) ?? new Uint8Array(0);
    const codec = CODECS.get(name);
    if (codec === undefined) return { type: 'raw', name, data: Uint8Array.from(data) };
    try {
      return codec.decode(attrMap(data));
    } catch (err) {
      if (err instanceof DecodeError) return { type: 'raw', name, data: Uint8Array.from(data) };
      throw err;
    }
  });
}

export type { BitwiseExpr, ByteorderExpr, CmpExpr, CounterExpr, CtExpr, FibExpr, ImmediateExpr, LookupExpr, MasqExpr, MetaExpr, NatExpr, NumgenExpr, PayloadExpr, RejectExpr };
export type { NumgenType } from './numgen.js';
export type { ByteorderOp } from './byteorder.js';
export type { MetaKey } from './meta.js';
export type { PayloadBase } from './payload.js';
export type { CmpOp } from './cmp.js';
export type { BitwiseOp } from './bitwise.js';
export type { NatType } from './nat.js';
export type { CtKey, CtDirection } from './ct.js';
export type { FibFlag, FibResult } from './fib.js';
export type { RejectType } from './reject.js';
