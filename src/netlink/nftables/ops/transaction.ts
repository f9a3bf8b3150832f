/**
 * Layer: netlink/nftables/ops — nf_tables operations.
 *
 * An nf_tables transaction: changes collected in order, then sent as ONE batch (BATCH_BEGIN,
 * the messages, BATCH_END) in one datagram through NetlinkSocket.requestBatch, every message
 * acked. The kernel applies all of it or nothing; it reports every failing message after the
 * whole batch, and acks BATCH_END only when the commit succeeded, so `commit()` resolves only
 * on that ack. A failure names the message, the object and, in an element list, the element
 * (the extended ack's offset points inside it); a stale generation id is a
 * GenerationChangedError to retry. Sets made in the transaction are numbered (NFTA_SET_ID) and
 * rules and elements that refer to them carry the number, as nft does. Long element lists are
 * split into several messages, each under the 64 KiB an attribute can hold.
 */
import { GenerationChangedError, NetlinkError, NftError } from '../../../errors.js';
import type { NetlinkSocket, RequestOptions } from '../../socket.js';
import type { BatchMessage } from '../../batch.js';
import { AttrWriter } from '../../wire/attr-writer.js';
import { NLM_F, NLMSG_HDRLEN } from '../../wire/header.js';
import { nftMessageType } from '../family.js';
import {
  NFNL_MSG, NFT_MSG, buildElements, encodeBatchBegin, encodeBatchEnd, encodeChainMessage, encodeRuleMessage, encodeSetElemListMessage,
  encodeSetMessage, encodeTableMessage, setMessage, type ChainHookName, type ChainPolicy, type ElementSpan, type ElementSpec, type Expr,
  type NftFamily, type SetElement, type SetSpec,
} from '../schema/index.js';

/** A table by name. */
export interface TableRef {
  family: NftFamily;
  name: string;
}

/** A table to create. */
export interface TableSpec extends TableRef {
  /** NFT_TABLE_F_* */
  flags?: number;
  comment?: string;
}

/** A chain, or a set, by name in its table. */
export interface ChainRef {
  family: NftFamily;
  table: string;
  name: string;
}
export type SetRef = ChainRef;

/** What makes a chain a base chain: its hook, priority, type and policy. */
export interface BaseChainSpec {
  /** 'filter', 'nat' or 'route' */
  type: string;
  hook: ChainHookName;
  /** dstnat −100, srcnat 100, filter 0, raw −300 */
  priority: number;
  /** 'accept' unless given */
  policy?: ChainPolicy;
  /** netdev chains */
  device?: string;
}

/** A chain to create: a base chain with `base`, else a regular one. */
export interface ChainSpec extends ChainRef {
  base?: BaseChainSpec;
  comment?: string;
}

/** A rule to add. */
export interface RuleSpec {
  family: NftFamily;
  table: string;
  chain: string;
  expressions: Expr[];
  comment?: string;
}

/** Where addRule puts the rule: at the end (default), at the start, after or before a rule, or in place of one. */
export interface RulePlacement {
  /** Insert at the start of the chain (or before `position`) instead of appending */
  insert?: boolean;
  /** The handle of the rule to add after (or before, with `insert`) */
  position?: bigint;
  /** Replace the rule with this handle */
  replace?: bigint;
}

/** A rule by handle. */
export interface RuleRef {
  family: NftFamily;
  table: string;
  chain: string;
  handle: bigint;
}

export interface NftTransactionOptions {
  /** Commit only if the ruleset is still at this generation (Nft.generation()); else GenerationChangedError */
  genid?: number;
}

/** NLM_F_CREATE, and NLM_F_EXCL when the object must not exist yet. */
export interface AddOptions {
  /** Fail with EEXIST if it exists (elements: if the key exists, even with the same data) */
  exclusive?: boolean;
}

/** One message of the transaction, and how to name what it was about when it fails. */
interface Item {
  type: number;
  flags: number;
  body: (w: AttrWriter) => void;
  object: string;
  /** Element lists: the elements' spans in the last encoding, relative to the message, and the caller's index of each */
  elementSpans?: ElementSpan[];
  origin?: number[];
}

/** Most bytes of elements one NEWSETELEM carries (an attribute holds at most 65 535). */
const MAX_ELEMENTS_BYTES = 60_000;

const refText = (kind: string, family: NftFamily, ...names: string[]): string => `${kind} ${family} ${names.join(' ')}`;

export class NftTransaction {
  readonly #socket: NetlinkSocket;
  readonly #genid: number | undefined;
  readonly #items: Item[] = [];
  /** NFTA_SET_ID of each set made in this transaction, by 'family table name'. */
  readonly #setIds = new Map<string, number>();

  /** Use Nft.transaction(). */
  constructor(socket: NetlinkSocket, options: NftTransactionOptions = {}) {
    if (options.genid !== undefined && (!Number.isInteger(options.genid) || options.genid < 0 || options.genid > 0xffffffff)) {
      throw new RangeError(`invalid generation id ${options.genid}`);
    }
    this.#socket = socket;
    this.#genid = options.genid;
  }

  /** How many messages the transaction holds (BATCH_BEGIN and BATCH_END not counted). */
  get size(): number {
    return this.#items.length;
  }

  #add(msg: number, flags: number, object: string, body: (w: AttrWriter) => void): this {
    this.#items.push({ type: nftMessageType(msg), flags, body, object });
    return this;
  }

  /** NEWTABLE (flags 0 unless given, as nft sends): an existing table is left as it is (its flags and comment updated) unless `exclusive`. */
  addTable(t: TableSpec, options: AddOptions = {}): this {
    return this.#add(NFT_MSG.NEWTABLE, createFlags(options), refText('table', t.family, t.name), (w) => encodeTableMessage(w, { ...t, flags: t.flags ?? 0 }));
  }

  /** DELTABLE: ENOENT (and the whole transaction fails) if it does not exist. */
  deleteTable(t: TableRef): this {
    return this.#add(NFT_MSG.DELTABLE, 0, refText('table', t.family, t.name), (w) => encodeTableMessage(w, { family: t.family, name: t.name }));
  }

  /** DESTROYTABLE: delete the table and everything in it if it exists (Linux 6.3+; see Nft.probe). */
  destroyTable(t: TableRef): this {
    return this.#add(NFT_MSG.DESTROYTABLE, 0, refText('table', t.family, t.name), (w) => encodeTableMessage(w, { family: t.family, name: t.name }));
  }

  /** NEWCHAIN: a base chain with `base`, else a regular chain. */
  addChain(c: ChainSpec, options: AddOptions = {}): this {
    return this.#add(NFT_MSG.NEWCHAIN, createFlags(options), refText('chain', c.family, c.table, c.name), (w) => {
      const m: Parameters<typeof encodeChainMessage>[1] = { family: c.family, table: c.table, name: c.name };
      if (c.base !== undefined) {
        m.type = c.base.type;
        m.policy = c.base.policy ?? 'accept';
        m.hook = { hook: c.base.hook, priority: c.base.priority };
        if (c.base.device !== undefined) m.hook.device = c.base.device;
      }
      if (c.comment !== undefined) m.comment = c.comment;
      encodeChainMessage(w, m);
    });
  }

  /** DELCHAIN (ENOENT if absent; EBUSY while rules jump to it or it holds rules). */
  deleteChain(c: ChainRef): this {
    return this.#add(NFT_MSG.DELCHAIN, 0, refText('chain', c.family, c.table, c.name), (w) => encodeChainMessage(w, { family: c.family, table: c.table, name: c.name }));
  }

  /** DESTROYCHAIN: as deleteChain, but nothing to do if it does not exist. */
  destroyChain(c: ChainRef): this {
    return this.#add(NFT_MSG.DESTROYCHAIN, 0, refText('chain', c.family, c.table, c.name), (w) => encodeChainMessage(w, { family: c.family, table: c.table, name: c.name }));
  }

  /**
   * NEWRULE, appended to the chain unless `placement` says otherwise. A lookup of a set made
   * earlier in this transaction gets the set's NFTA_SET_ID.
   */
  addRule(r: RuleSpec, placement: RulePlacement = {}): this {
    let flags = NLM_F.CREATE | (placement.insert ? 0 : NLM_F.APPEND);
    if (placement.replace !== undefined) flags = NLM_F.REPLACE;
    const expressions = r.expressions.map((e) => {
      if (e.type !== 'lookup' || e.setId !== undefined) return e;
      const id = this.#setIds.get(`${r.family} ${r.table} ${e.set}`);
      return id === undefined ? e : { ...e, setId: id };
    });
    return this.#add(NFT_MSG.NEWRULE, flags, refText('rule in chain', r.family, r.table, r.chain), (w) => {
      const m: Parameters<typeof encodeRuleMessage>[1] = { family: r.family, table: r.table, chain: r.chain, expressions };
      if (placement.replace !== undefined) m.handle = placement.replace;
      else if (placement.position !== undefined) m.position = placement.position;
      if (r.comment !== undefined) m.comment = r.comment;
      encodeRuleMessage(w, m);
    });
  }

  /** DELRULE by handle (ENOENT if absent). */
  deleteRule(r: RuleRef): this {
    return this.#add(NFT_MSG.DELRULE, 0, refText('rule', r.family, r.table, r.chain, `handle ${r.handle}`), (w) => encodeRuleMessage(w, { ...r }));
  }

  /** DESTROYRULE by handle: nothing to do if it does not exist. */
  destroyRule(r: RuleRef): this {
    return this.#add(NFT_MSG.DESTROYRULE, 0, refText('rule', r.family, r.table, r.chain, `handle ${r.handle}`), (w) => encodeRuleMessage(w, { ...r }));
  }

  /** NEWSET from its types (set-spec.ts), numbered for the rules and elements that follow. */
  addSet(spec: SetSpec, options: AddOptions = {}): this {
    const id = this.#setIds.size + 1;
    const message = setMessage(spec, id);
    this.#setIds.set(`${spec.family} ${spec.table} ${spec.name}`, id);
    return this.#add(NFT_MSG.NEWSET, createFlags(options), refText(spec.data === undefined ? 'set' : 'map', spec.family, spec.table, spec.name), (w) => encodeSetMessage(w, message));
  }

  /** DELSET (ENOENT if absent; EBUSY while a rule uses it). */
  deleteSet(s: SetRef): this {
    return this.#add(NFT_MSG.DELSET, 0, refText('set', s.family, s.table, s.name), (w) => encodeSetMessage(w, { family: s.family, table: s.table, name: s.name }));
  }

  /** DESTROYSET: nothing to do if it does not exist. */
  destroySet(s: SetRef): this {
    return this.#add(NFT_MSG.DESTROYSET, 0, refText('set', s.family, s.table, s.name), (w) => encodeSetMessage(w, { family: s.family, table: s.table, name: s.name }));
  }

  /**
   * NEWSETELEM: elements given as values of the set's types (set-spec.ts). Without `exclusive`
   * an element already there with the same data is fine, one with other data is EEXIST; with
   * it, any element already there is EEXIST. An error names the element by its index in
   * `elements`.
   */
  addElements(spec: SetSpec, elements: readonly ElementSpec[], options: AddOptions = {}): this {
    return this.#elements(NFT_MSG.NEWSETELEM, createFlags(options), spec, buildElements(spec, elements));
  }

  /** DELSETELEM: ENOENT (and the transaction fails) for an element that is not there. */
  deleteElements(spec: SetSpec, elements: readonly ElementSpec[]): this {
    return this.#elements(NFT_MSG.DELSETELEM, 0, spec, buildElements(spec, elements));
  }

  /** DESTROYSETELEM: remove the elements that are there, ignore the others (Linux 6.3+). */
  destroyElements(spec: SetSpec, elements: readonly ElementSpec[]): this {
    return this.#elements(NFT_MSG.DESTROYSETELEM, 0, spec, buildElements(spec, elements));
  }

  /** Elements as raw SetElement bytes (set-spec.ts builds them; or from a dump). */
  addRawElements(set: SetRef, elements: readonly SetElement[], options: AddOptions = {}): this {
    return this.#elements(NFT_MSG.NEWSETELEM, createFlags(options), set, { elements: [...elements], origin: elements.map((_, i) => i) });
  }

  /** DESTROYSETELEM of raw elements (e.g. as dumped). */
  destroyRawElements(set: SetRef, elements: readonly SetElement[]): this {
    return this.#elements(NFT_MSG.DESTROYSETELEM, 0, set, { elements: [...elements], origin: elements.map((_, i) => i) });
  }

  /** DELSETELEM without elements: empty the set. */
  flushSet(s: SetRef): this {
    return this.#add(NFT_MSG.DELSETELEM, 0, refText('set', s.family, s.table, s.name), (w) => {
      encodeSetElemListMessage(w, { family: s.family, table: s.table, set: s.name });
    });
  }

  #elements(msg: number, flags: number, set: SetRef, built: { elements: SetElement[]; origin: number[] }): this {
    const { family, table, name } = set;
    const setId = this.#setIds.get(`${family} ${table} ${name}`);
    const object = refText('set', family, table, name);
    for (const [from, to] of chunks(family, built.elements)) {
      const item: Item = {
        type: nftMessageType(msg), flags, object, origin: built.origin.slice(from, to),
        body: (w) => {
          const messageStart = w.length - NLMSG_HDRLEN;
          const m: Parameters<typeof encodeSetElemListMessage>[1] = { family, table, set: name, elements: built.elements.slice(from, to) };
          if (setId !== undefined) m.setId = setId;
          item.elementSpans = encodeSetElemListMessage(w, m).map((s) => ({ start: s.start - messageStart, end: s.end - messageStart }));
        },
      };
      this.#items.push(item);
    }
    return this;
  }

  #batch(end: boolean): BatchMessage[] {
    const genid = this.#genid;
    const begin: BatchMessage = { type: NFNL_MSG.BATCH_BEGIN, ack: false, body: (w) => encodeBatchBegin(w, genid) };
    const items = this.#items.map((i): BatchMessage => ({ type: i.type, flags: i.flags, body: i.body }));
    return end ? [begin, ...items, { type: NFNL_MSG.BATCH_END, body: encodeBatchEnd }] : [begin, ...items];
  }

  /**
   * Send the transaction as one batch and resolve once the kernel has committed it. Rejects
   * with NftError (nothing applied) or GenerationChangedError (retry). An empty transaction
   * commits nothing and resolves.
   */
  async commit(options: RequestOptions = {}): Promise<void> {
    if (this.#items.length === 0) return;
    await this.#send(true, options);
  }

  /**
   * A dry run: the same batch without BATCH_END, which the kernel validates message by message
   * and then aborts (like `nft -c`). Resolves when every message was accepted; nothing is applied.
   */
  async validate(options: RequestOptions = {}): Promise<void> {
    if (this.#items.length === 0) return;
    await this.#send(false, options);
  }

  async #send(end: boolean, options: RequestOptions): Promise<void> {
    try {
      await this.#socket.requestBatch(this.#batch(end), options);
    } catch (err) {
      throw this.#explain(err);
    }
  }

  /** The error of a failed batch, with the failing message's object and element. */
  #explain(err: unknown): unknown {
    if (!(err instanceof NetlinkError) || err.batchIndex === undefined) return err;
    if (err.batchIndex === 0) {
      if (err.code === 'ERESTART' && this.#genid !== undefined) return new GenerationChangedError(this.#genid, { cause: err });
      return new NftError(err, 'the transaction');
    }
    const item = this.#items[err.batchIndex - 1];
    if (item === undefined) return new NftError(err, 'the transaction');
    return new NftError(err, item.object, elementAt(item, err.extack?.offset));
  }
}

function createFlags(options: AddOptions): number {
  return NLM_F.CREATE | (options.exclusive ? NLM_F.EXCL : 0);
}

/** The caller's index of the element whose nest holds byte `offset` of the message, if any. */
function elementAt(item: Item, offset: number | undefined): number | undefined {
  if (offset === undefined || item.elementSpans === undefined || item.origin === undefined) return undefined;
  const i = item.elementSpans.findIndex((s) => offset >= s.start && offset < s.end);
  return i < 0 ? undefined : item.origin[i];
}

/** Split element lists so each message's ELEMENTS nest stays under MAX_ELEMENTS_BYTES: [from, to) ranges (none for no elements). */
function chunks(family: NftFamily, elements: readonly SetElement[]): [number, number][] {
  if (elements.length === 0) return [];
  const out: [number, number][] = [];
  const w = new AttrWriter();
  let from = 0;
  let bytes = 0;
  elements.forEach((e, i) => {
    const size = elementSize(w, family, e);
    if (i > from && bytes + size > MAX_ELEMENTS_BYTES) {
      out.push([from, i]);
      from = i;
      bytes = 0;
    }
    bytes += size;
  });
  out.push([from, elements.length]);
  return out;
}

/** The bytes one element's nest takes, measured by encoding it. */
function elementSize(w: AttrWriter, family: NftFamily, e: SetElement): number {
  w.reset();
  const [span] = encodeSetElemListMessage(w, { family, elements: [e] });
  return span === undefined ? 0 : span.end - span.start;
}
