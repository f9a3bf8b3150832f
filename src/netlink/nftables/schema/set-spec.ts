/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * A set or map described by its types, as nft's language does (`type ifname . ipv4_addr; flags
 * interval`), and the messages and elements that follow from it, as nft 1.0.6 sends them: flags
 * (MAP, INTERVAL, CONCAT with INTERVAL), type ids and lengths, DESC.CONCAT for a concatenated
 * interval set, nft's userdata (byte orders, concatenation markers, the comment), so that `nft
 * list` shows a set nsbox made like one nft made. Elements are given as values of the types,
 * prefixes included (`['nsbox0', '10.88.0.0/16']`), and become the key, key end, interval end
 * and data bytes the kernel wants.
 */
import { BYTEORDER, datatype, typeId, typeLength, type Datatype, type DatatypeName, type FieldValue } from './datatypes.js';
import { NFT_DATA, NFT_SET, NFT_SET_ELEM } from './constants.js';
import type { Verdict } from './data.js';
import type { NftFamily } from './nfgenmsg.js';
import type { SetMessage } from './set.js';
import type { SetElement } from './element.js';
import { UDATA_SET, commentItem, encodeUserdata, type UserdataItem } from './userdata.js';
import { concat, prefixBounds, type PrefixBounds } from './values.js';
import { typeofUserdata, type TypeofField } from './typeof.js';

/** A set or map, by the types of its key (and data). */
export interface SetSpec {
  family: NftFamily;
  table: string;
  name: string;
  /** The key's type, or a concatenation's types in order */
  key: DatatypeName | readonly DatatypeName[];
  /** A map's data: its type(s), or 'verdict' for a verdict map */
  data?: DatatypeName | readonly DatatypeName[] | 'verdict';
  /** `flags interval`: elements may be prefixes (with a concatenated key: the pipapo backend) */
  interval?: boolean;
  /**
   * The key as nft's `typeof` declared it (expressions, for `nft list`); the datatypes in `key`
   * must be what they load (meta iifname: ifname, numgen: integer)
   */
  keyTypeof?: readonly TypeofField[];
  /** More NFT_SET_* flags (CONSTANT, TIMEOUT …) */
  flags?: number;
  comment?: string;
}

/** One element, as values of the set's types. */
export interface ElementSpec {
  /** One value per key field (a bare value for a one-field key); in an interval set an address field may be a prefix */
  key: FieldValue | readonly FieldValue[];
  /** A map's data: one value per data field */
  data?: FieldValue | readonly FieldValue[];
  /** A verdict map's data */
  verdict?: Verdict;
  comment?: string;
}

/** The elements to send for some ElementSpecs, and for each which spec it came from. */
export interface BuiltElements {
  elements: SetElement[];
  /** origin[i]: the index of the ElementSpec that elements[i] came from */
  origin: number[];
}

/** nft's marker, in KEY_TYPEOF/DATA_TYPEOF, that a key or data is a concatenation: its EXPR_CONCAT (13), no sub-expressions. */
const CONCAT_TYPEOF = Uint8Array.of(0x00, 0x04, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00);

const list = <T>(v: T | readonly T[]): readonly T[] => (Array.isArray(v) ? (v as readonly T[]) : [v as T]);

function keyTypes(spec: SetSpec): Datatype[] {
  const types = list(spec.key).map(datatype);
  if (types.length === 0) throw new TypeError(`set ${spec.name}: a key needs at least one type`);
  return types;
}

function dataTypes(spec: SetSpec): Datatype[] | 'verdict' | undefined {
  if (spec.data === undefined || spec.data === 'verdict') return spec.data;
  const types = list(spec.data as DatatypeName | readonly DatatypeName[]).map(datatype);
  if (types.length === 0) throw new TypeError(`map ${spec.name}: data needs at least one type`);
  return types;
}

function u32le(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
}

/** The NEWSET message for `spec` (and its id in the transaction), as nft sends it. */
export function setMessage(spec: SetSpec, id?: number): SetMessage {
  const key = keyTypes(spec);
  const data = dataTypes(spec);
  const concatKey = key.length > 1;
  let flags = spec.flags ?? 0;
  if (data !== undefined) flags |= NFT_SET.MAP;
  if (spec.interval) flags |= NFT_SET.INTERVAL | (concatKey ? NFT_SET.CONCAT : 0);
  const m: SetMessage = { family: spec.family, table: spec.table, name: spec.name, flags, keyType: typeId(key), keyLen: typeLength(key) };
  if (data === 'verdict') m.dataType = NFT_DATA.VERDICT;
  else if (data !== undefined) {
    m.dataType = typeId(data);
    m.dataLen = typeLength(data);
  }
  if (id !== undefined) m.id = id;
  if (spec.interval && concatKey) m.desc = { concat: key.map((t) => t.len) };
  const udata: UserdataItem[] = [{ type: UDATA_SET.KEYBYTEORDER, value: u32le(concatKey ? BYTEORDER.INVALID : key[0]!.byteorder) }];
  if (data !== undefined) {
    const order = data === 'verdict' || data.length > 1 ? BYTEORDER.INVALID : data[0]!.byteorder;
    udata.push({ type: UDATA_SET.DATABYTEORDER, value: u32le(order) });
  }
  if (spec.keyTypeof !== undefined) {
    if (spec.keyTypeof.length !== key.length) throw new TypeError(`set ${spec.name}: keyTypeof has ${spec.keyTypeof.length} field(s), the key ${key.length}`);
    udata.push({ type: UDATA_SET.KEY_TYPEOF, value: typeofUserdata(spec.keyTypeof) });
  } else if (concatKey) udata.push({ type: UDATA_SET.KEY_TYPEOF, value: CONCAT_TYPEOF });
  if (data !== undefined && data !== 'verdict' && data.length > 1) udata.push({ type: UDATA_SET.DATA_TYPEOF, value: CONCAT_TYPEOF });
  if (data !== undefined) udata.push({ type: UDATA_SET.DATA_INTERVAL, value: u32le(0) });
  if (spec.comment !== undefined) udata.push(commentItem(spec.comment, UDATA_SET.COMMENT));
  m.userdata = encodeUserdata(udata);
  return m;
}

/** Bytes of one value per type, a concatenation when there are several. */
function encodeValues(types: readonly Datatype[], values: readonly FieldValue[], what: string): Uint8Array {
  if (values.length !== types.length) throw new TypeError(`${what}: ${types.length} value(s) expected (${types.map((t) => t.name).join(' . ')}), got ${values.length}`);
  const fields = types.map((t, i) => t.encode(values[i]!));
  return types.length === 1 ? fields[0]! : concat(...fields);
}

/** Is `v` a prefix ('10.88.0.0/16') of an address type, or a range ('0-199999') of an integer type? */
function isPrefix(t: Datatype, v: FieldValue): v is string {
  return (t.prefixes && typeof v === 'string' && v.includes('/')) || t.range?.(v) !== undefined;
}

/** The bounds of an address or prefix of type `t`; TypeError for one of the other family. */
function boundsOf(t: Datatype, v: string, what: string): PrefixBounds {
  const bounds = prefixBounds(v);
  if (bounds.first.length !== t.len) throw new TypeError(`${what}: ${JSON.stringify(v)} is not an ${t.name} prefix`);
  return bounds;
}

/**
 * The elements for `specs` in `spec`'s set: in an interval set of one field (rbtree) each
 * becomes a start element and, unless it runs to the end of the address space, an INTERVAL_END
 * element at the first address after it; in a concatenated interval set (pipapo) one element
 * with KEY (the starts) and KEY_END (the inclusive ends); otherwise one element. TypeError for a
 * value that does not fit its type, a prefix outside an interval set, or data on a plain set.
 */
export function buildElements(spec: SetSpec, specs: readonly ElementSpec[]): BuiltElements {
  const key = keyTypes(spec);
  const data = dataTypes(spec);
  const out: BuiltElements = { elements: [], origin: [] };
  specs.forEach((e, index) => {
    const what = `element ${index} of ${spec.name}`;
    const values = list(e.key);
    if (values.length !== key.length) throw new TypeError(`${what}: ${key.length} key value(s) expected (${key.map((t) => t.name).join(' . ')}), got ${values.length}`);
    const base: SetElement = {};
    if (data === 'verdict') {
      if (e.verdict === undefined) throw new TypeError(`${what}: a verdict map's element needs a verdict`);
      base.verdict = e.verdict;
    } else if (data !== undefined) {
      if (e.data === undefined) throw new TypeError(`${what}: a map's element needs data`);
      base.data = encodeValues(data, list(e.data), `${what} data`);
    } else if (e.data !== undefined || e.verdict !== undefined) {
      throw new TypeError(`${what}: ${spec.name} is a set, not a map: no data`);
    }
    if (e.comment !== undefined) base.comment = e.comment;
    const prefixed = values.some((v, i) => isPrefix(key[i]!, v));
    if (prefixed && !spec.interval) throw new TypeError(`${what}: a prefix needs an interval set (${spec.name} is not one)`);
    if (!spec.interval) {
      out.elements.push({ key: encodeValues(key, values, what), ...base });
      out.origin.push(index);
    } else if (key.length > 1) {
      const bounds = values.map((v, i) => key[i]!.range?.(v) ?? (isPrefix(key[i]!, v) ? boundsOf(key[i]!, v, what) : undefined));
      const starts = key.map((t, i) => bounds[i]?.first ?? t.encode(values[i]!));
      const ends = key.map((t, i) => bounds[i]?.last ?? t.encode(values[i]!));
      out.elements.push({ key: concat(...starts), keyEnd: concat(...ends), ...base });
      out.origin.push(index);
    } else {
      const t = key[0]!;
      if (!t.prefixes) throw new TypeError(`${what}: an interval set of one ${t.name} field is not supported (only address prefixes, or ranges in a concatenation)`);
      const bounds = boundsOf(t, String(values[0]), what);
      out.elements.push({ key: bounds.first, ...base });
      out.origin.push(index);
      if (bounds.next !== undefined) {
        out.elements.push({ flags: NFT_SET_ELEM.INTERVAL_END, key: bounds.next });
        out.origin.push(index);
      }
    }
  });
  return out;
}

/** The values of a key or data of `types` read back from its bytes (a dumped element). */
export function decodeValues(types: DatatypeName | readonly DatatypeName[], bytes: Uint8Array): FieldValue[] {
  const ts = list(types).map(datatype);
  if (ts.length === 1) return [ts[0]!.decode(bytes)];
  let at = 0;
  return ts.map((t) => {
    const v = t.decode(bytes.subarray(at));
    at += Math.ceil(t.len / 4) * 4;
    return v;
  });
}
