/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * Userdata: the bytes the kernel keeps for userspace on a table, chain, rule, set or element
 * (NFTA_*_USERDATA) without reading them. nft and libnftnl fill them with TLVs of one byte of
 * type and one of length; `nft list` shows a comment TLV as `comment "…"` (NUL-terminated). The
 * comment's type is 0 everywhere except on sets, where it is 7 (libnftnl's NFTNL_UDATA_*_COMMENT).
 */
import { DecodeError } from '../../../errors.js';
import { NFT_USERDATA_MAXLEN } from './constants.js';

/** One userdata TLV. */
export interface UserdataItem {
  type: number;
  value: Uint8Array;
}

/** libnftnl's comment TLV type on tables, chains, rules and set elements. */
export const UDATA_COMMENT = 0;
/** libnftnl's set TLVs (enum nftnl_udata_set_types): nft's display hints for a set, and its comment. */
export const UDATA_SET = {
  KEYBYTEORDER: 0,
  DATABYTEORDER: 1,
  MERGE_ELEMENTS: 2,
  KEY_TYPEOF: 3,
  DATA_TYPEOF: 4,
  EXPR: 5,
  DATA_INTERVAL: 6,
  COMMENT: 7,
} as const;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** TLVs -> bytes. RangeError for a value over 255 bytes or a total over NFT_USERDATA_MAXLEN. */
export function encodeUserdata(items: readonly UserdataItem[]): Uint8Array {
  const total = items.reduce((n, i) => n + 2 + i.value.length, 0);
  if (total > NFT_USERDATA_MAXLEN) throw new RangeError(`userdata of ${total} bytes exceeds the kernel's ${NFT_USERDATA_MAXLEN}`);
  const out = new Uint8Array(total);
  let at = 0;
  for (const { type, value } of items) {
    if (!Number.isInteger(type) || type < 0 || type > 0xff) throw new RangeError(`userdata type must be a byte, got ${type}`);
    if (value.length > 0xff) throw new RangeError(`userdata value of ${value.length} bytes exceeds 255`);
    out[at] = type;
    out[at + 1] = value.length;
    out.set(value, at + 2);
    at += 2 + value.length;
  }
  return out;
}

/** Bytes -> TLVs; DecodeError when a length runs past the end. */
export function decodeUserdata(bytes: Uint8Array): UserdataItem[] {
  const out: UserdataItem[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) throw new DecodeError('userdata', at, 'a TLV header is cut short');
    const len = bytes[at + 1]!;
    if (at + 2 + len > bytes.length) throw new DecodeError('userdata', at, `TLV length ${len} runs past the end`);
    out.push({ type: bytes[at]!, value: bytes.slice(at + 2, at + 2 + len) });
    at += 2 + len;
  }
  return out;
}

/** A comment TLV: the text, NUL-terminated, as nft writes it. */
export function commentItem(text: string, type: number = UDATA_COMMENT): UserdataItem {
  if (typeof text !== 'string') throw new TypeError('a comment must be a string');
  const bytes = textEncoder.encode(text);
  const value = new Uint8Array(bytes.length + 1);
  value.set(bytes);
  return { type, value };
}

/** The comment of a userdata blob (the TLV of `type`), or undefined; DecodeError for malformed TLVs. */
export function userdataComment(bytes: Uint8Array, type: number = UDATA_COMMENT): string | undefined {
  const item = decodeUserdata(bytes).find((i) => i.type === type);
  if (item === undefined) return undefined;
  const nul = item.value.indexOf(0);
  return textDecoder.decode(nul === -1 ? item.value : item.value.subarray(0, nul));
}

/** The userdata a message carries: `userdata` as given, else a comment TLV of `type`, else none. */
export function userdataFor(m: { userdata?: Uint8Array; comment?: string }, type: number = UDATA_COMMENT): Uint8Array | undefined {
  if (m.userdata !== undefined) return m.userdata;
  return m.comment === undefined ? undefined : encodeUserdata([commentItem(m.comment, type)]);
}

/** The comment in received userdata, or undefined when there is none or the bytes are not TLVs (another tool's). */
export function commentOf(bytes: Uint8Array, type: number = UDATA_COMMENT): string | undefined {
  try {
    return userdataComment(bytes, type);
  } catch (err) {
    if (err instanceof DecodeError) return undefined;
    throw err;
  }
}
