/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * struct nft_data on the wire (enum nft_data_attributes): a nest holding either a value
 * (NFTA_DATA_VALUE, raw bytes: a key, a compared constant, a map's data) or a verdict
 * (NFTA_DATA_VERDICT: a code, and the chain of a jump or goto).
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, readBeS32, readBe32, readString } from '../../wire/attr.js';
import { enumCodec } from '../../wire/enum-codec.js';
import type { ValueCodec } from '../../wire/attr-fields.js';
import { NF, NFT, NFTA_DATA, NFTA_VERDICT, NFT_DATA_VALUE_MAXLEN } from './constants.js';

/** A verdict's code, as nft spells it. */
export type VerdictCode = 'accept' | 'drop' | 'continue' | 'break' | 'jump' | 'goto' | 'return';

/** VerdictCode <-> NF_ACCEPT, NF_DROP and NFT_* (negative). */
export const VERDICT_CODES = enumCodec<VerdictCode>({
  drop: NF.DROP, accept: NF.ACCEPT, continue: NFT.CONTINUE, break: NFT.BREAK, jump: NFT.JUMP, goto: NFT.GOTO, return: NFT.RETURN,
});

/** A verdict: accept, drop, … or a jump/goto to a chain (by name, or by NFTA_CHAIN_ID in the same transaction). */
export interface Verdict {
  code: VerdictCode;
  /** NFTA_VERDICT_CHAIN: the target of a jump or goto */
  chain?: string;
  /** NFTA_VERDICT_CHAIN_ID: the target chain's id in the same transaction */
  chainId?: number;
}

/** nft_data: a value or a verdict. */
export type NftData = { value: Uint8Array } | { verdict: Verdict };

/** Write nest `type` holding NFTA_DATA_VALUE `value`. RangeError for more than NFT_DATA_VALUE_MAXLEN bytes or none. */
export function writeValue(w: AttrWriter, type: number, value: Uint8Array): void {
  if (!(value instanceof Uint8Array) || value.length === 0 || value.length > NFT_DATA_VALUE_MAXLEN) {
    throw new RangeError(`an nf_tables value must be 1 to ${NFT_DATA_VALUE_MAXLEN} bytes, got ${value instanceof Uint8Array ? value.length : typeof value}`);
  }
  w.nest(type, (n) => { n.bytes(NFTA_DATA.VALUE, value); });
}

/** Write nest `type` holding NFTA_DATA_VERDICT. TypeError for a jump/goto without its chain. */
export function writeVerdict(w: AttrWriter, type: number, verdict: Verdict): void {
  const code = VERDICT_CODES.encode(verdict.code, 'verdict');
  const target = verdict.code === 'jump' || verdict.code === 'goto';
  if (target && verdict.chain === undefined && verdict.chainId === undefined) throw new TypeError(`a ${verdict.code} verdict needs a chain`);
  if (!target && (verdict.chain !== undefined || verdict.chainId !== undefined)) throw new TypeError(`a ${verdict.code} verdict has no chain`);
  w.nest(type, (d) => {
    d.nest(NFTA_DATA.VERDICT, (v) => {
      v.beS32(NFTA_VERDICT.CODE, code);
      if (verdict.chain !== undefined) v.string(NFTA_VERDICT.CHAIN, verdict.chain);
      if (verdict.chainId !== undefined) v.be32(NFTA_VERDICT.CHAIN_ID, verdict.chainId);
    });
  });
}

/** Write nest `type` holding `data`, a value or a verdict. */
export function writeData(w: AttrWriter, type: number, data: NftData): void {
  if ('verdict' in data) writeVerdict(w, type, data.verdict);
  else writeValue(w, type, data.value);
}

/** Read the contents of an nft_data nest; DecodeError when it holds neither a value nor a verdict. */
export function readData(v: Uint8Array, what: string): NftData {
  const a = attrMap(v);
  const value = a.get(NFTA_DATA.VALUE);
  if (value !== undefined) return { value: Uint8Array.from(value) };
  const verdict = a.get(NFTA_DATA.VERDICT);
  if (verdict === undefined) throw new DecodeError(what, 0, 'neither NFTA_DATA_VALUE nor NFTA_DATA_VERDICT');
  return { verdict: readVerdict(verdict, what) };
}

/** The value of an nft_data nest; DecodeError for a verdict or nothing. */
export function readValue(v: Uint8Array, what: string): Uint8Array {
  const data = readData(v, what);
  if (!('value' in data)) throw new DecodeError(what, 0, 'a verdict where a value was expected');
  return data.value;
}

function readVerdict(v: Uint8Array, what: string): Verdict {
  const a = attrMap(v);
  const raw = a.get(NFTA_VERDICT.CODE);
  if (raw === undefined) throw new DecodeError(what, 0, 'a verdict without NFTA_VERDICT_CODE');
  const n = readBeS32(raw, 'NFTA_VERDICT_CODE');
  const code = VERDICT_CODES.decode(n);
  if (code === undefined) throw new DecodeError(what, 0, `unknown verdict code ${n}`);
  const out: Verdict = { code };
  const chain = a.get(NFTA_VERDICT.CHAIN);
  if (chain !== undefined) out.chain = readString(chain, 'NFTA_VERDICT_CHAIN');
  const chainId = a.get(NFTA_VERDICT.CHAIN_ID);
  if (chainId !== undefined) out.chainId = readBe32(chainId, 'NFTA_VERDICT_CHAIN_ID');
  return out;
}

/** An nft_data nest holding a value, as a field of a field table. */
export const dataValue: ValueCodec<Uint8Array> = {
  read: (v, what) => readValue(v, what),
  write: (w, t, v) => { writeValue(w, t, v); },
};
