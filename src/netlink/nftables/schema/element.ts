/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * NFT_MSG_{NEW,GET,DEL,DESTROY}SETELEM bodies: nfgenmsg, NFTA_SET_ELEM_LIST_TABLE, _SET, _SET_ID,
 * then _ELEMENTS: one nest per element (nft numbers them 1, 2, 3 …; the kernel ignores the
 * number), each FLAGS, KEY, KEY_END, DATA, TIMEOUT, USERDATA in nft's order. A key is raw bytes
 * (values.ts builds them); an interval set takes a start element and an INTERVAL_END one, a
 * concatenated interval set (pipapo) one element with KEY and KEY_END (inclusive).
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap, decodeAttrs } from '../../wire/attr.js';
import { FieldTable, be32, be64, str } from '../../wire/attr-fields.js';
import { NFTA_SET_ELEM, NFTA_SET_ELEM_LIST } from './constants.js';
import { NFGENMSG_LEN, readFamily, writeFamily, type NftFamily } from './nfgenmsg.js';
import { dataValue, readData, writeData, type Verdict } from './data.js';
import { commentOf, userdataFor } from './userdata.js';

export interface SetElement {
  /** NFTA_SET_ELEM_FLAGS: NFT_SET_ELEM_INTERVAL_END, _CATCHALL */
  flags?: number;
  /** NFTA_SET_ELEM_KEY */
  key?: Uint8Array;
  /** NFTA_SET_ELEM_KEY_END: the inclusive end of a pipapo range */
  keyEnd?: Uint8Array;
  /** NFTA_SET_ELEM_DATA as a value (maps) */
  data?: Uint8Array;
  /** NFTA_SET_ELEM_DATA as a verdict (verdict maps) */
  verdict?: Verdict;
  /** NFTA_SET_ELEM_TIMEOUT, ms */
  timeout?: bigint;
  /** NFTA_SET_ELEM_EXPIRATION, ms left (replies) */
  expiration?: bigint;
  /** NFTA_SET_ELEM_USERDATA as sent or received; wins over `comment` on encode */
  userdata?: Uint8Array;
  /** The comment TLV of the userdata */
  comment?: string;
  /** NFTA_SET_ELEM_OBJREF: a stateful object's name (object maps) */
  objref?: string;
}

export interface SetElemListMessage {
  family: NftFamily;
  /** NFTA_SET_ELEM_LIST_TABLE */
  table?: string;
  /** NFTA_SET_ELEM_LIST_SET */
  set?: string;
  /** NFTA_SET_ELEM_LIST_SET_ID: the set's id in the same transaction */
  setId?: number;
  /** NFTA_SET_ELEM_LIST_ELEMENTS; absent in a GETSETELEM dump request, and in a DELSETELEM that flushes the set */
  elements?: SetElement[];
}

/** Where one element's nest lies in the writer: [start, end) from the writer's start. */
export interface ElementSpan {
  start: number;
  end: number;
}

const HEAD_FIELDS = new FieldTable<SetElement>({
  flags: [NFTA_SET_ELEM.FLAGS, 'NFTA_SET_ELEM_FLAGS', be32],
  key: [NFTA_SET_ELEM.KEY, 'NFTA_SET_ELEM_KEY', dataValue],
  keyEnd: [NFTA_SET_ELEM.KEY_END, 'NFTA_SET_ELEM_KEY_END', dataValue],
});
const TAIL_FIELDS = new FieldTable<SetElement>({
  timeout: [NFTA_SET_ELEM.TIMEOUT, 'NFTA_SET_ELEM_TIMEOUT', be64],
  expiration: [NFTA_SET_ELEM.EXPIRATION, 'NFTA_SET_ELEM_EXPIRATION', be64],
});
const OBJREF_FIELDS = new FieldTable<SetElement>({
  objref: [NFTA_SET_ELEM.OBJREF, 'NFTA_SET_ELEM_OBJREF', str],
});
const LIST_FIELDS = new FieldTable<SetElemListMessage>({
  table: [NFTA_SET_ELEM_LIST.TABLE, 'NFTA_SET_ELEM_LIST_TABLE', str],
  set: [NFTA_SET_ELEM_LIST.SET, 'NFTA_SET_ELEM_LIST_SET', str],
  setId: [NFTA_SET_ELEM_LIST.SET_ID, 'NFTA_SET_ELEM_LIST_SET_ID', be32],
});
/** The largest nest number before NLA_F_* bits: element nests count up from 1 and wrap below it. */
const MAX_NEST_NUMBER = 0x3fff;

function writeElement(w: AttrWriter, e: SetElement): void {
  HEAD_FIELDS.encode(w, e);
  if (e.verdict !== undefined) writeData(w, NFTA_SET_ELEM.DATA, { verdict: e.verdict });
  else if (e.data !== undefined) writeData(w, NFTA_SET_ELEM.DATA, { value: e.data });
  TAIL_FIELDS.encode(w, e);
  const userdata = userdataFor(e);
  if (userdata !== undefined) w.bytes(NFTA_SET_ELEM.USERDATA, userdata);
  OBJREF_FIELDS.encode(w, e);
}

/**
 * Write an element list message; returns where each element's nest lies in `w` (to find which
 * element an extended ack's offset points into).
 */
export function encodeSetElemListMessage(w: AttrWriter, m: SetElemListMessage): ElementSpan[] {
  writeFamily(w, m.family);
  LIST_FIELDS.encode(w, m);
  const spans: ElementSpan[] = [];
  if (m.elements !== undefined) {
    const elements = m.elements;
    w.nest(NFTA_SET_ELEM_LIST.ELEMENTS, (list) => {
      elements.forEach((e, i) => {
        const start = list.length;
        list.nest((i % MAX_NEST_NUMBER) + 1, (n) => writeElement(n, e));
        spans.push({ start, end: list.length });
      });
    });
  }
  return spans;
}

function readElement(v: Uint8Array): SetElement {
  const a = attrMap(v);
  const e: SetElement = {};
  HEAD_FIELDS.decode(a, e);
  TAIL_FIELDS.decode(a, e);
  OBJREF_FIELDS.decode(a, e);
  const data = a.get(NFTA_SET_ELEM.DATA);
  if (data !== undefined) {
    const d = readData(data, 'NFTA_SET_ELEM_DATA');
    if ('verdict' in d) e.verdict = d.verdict;
    else e.data = d.value;
  }
  const userdata = a.get(NFTA_SET_ELEM.USERDATA);
  if (userdata !== undefined) {
    e.userdata = Uint8Array.from(userdata);
    const comment = commentOf(userdata);
    if (comment !== undefined) e.comment = comment;
  }
  return e;
}

export function decodeSetElemListMessage(payload: Uint8Array): SetElemListMessage {
  const m: SetElemListMessage = { family: readFamily(payload) };
  const a = attrMap(payload, NFGENMSG_LEN);
  LIST_FIELDS.decode(a, m);
  const elements = a.get(NFTA_SET_ELEM_LIST.ELEMENTS);
  if (elements !== undefined) {
    m.elements = decodeAttrs(elements).map((item) => {
      if (item.value.length === 0) throw new DecodeError('NFTA_SET_ELEM_LIST_ELEMENTS', 0, 'an empty element');
      return readElement(item.value);
    });
  }
  return m;
}
