/**
 * Layer: netlink/nftables/ops — nf_tables operations.
 *
 * An nf_tables handle bound to one network namespace: transactions (`nft.transaction()`, sent
 * as one batch), the ruleset generation, dumps of tables, chains, rules (expressions decoded),
 * sets and a set's elements, and a capability probe. One NETLINK_NETFILTER socket made inside
 * the namespace and reused, with NETLINK_CAP_ACK (an error does not echo a large batch back)
 * and a send buffer that holds a large transaction; no call ever switches the thread's
 * namespace.
 */
import { DecodeError } from '../../../errors.js';
import type { NetlinkSocket, RequestOptions } from '../../socket.js';
import { closeNetnsSocket, openNetnsSocket, type NetnsSocket, type NetnsSocketOptions } from '../../netns-socket.js';
import type { NlMessage } from '../../wire/message.js';
import { NFTABLES, nftMessageType } from '../family.js';
import {
  NFT_FAMILIES, NFT_MSG, decodeChainMessage, decodeGenMessage, decodeRuleMessage, decodeSetElemListMessage, decodeSetMessage,
  decodeTableMessage, encodeChainMessage, encodeGetGen, encodeRuleMessage, encodeSetElemListMessage, encodeSetMessage, encodeTableMessage,
  readNfgenmsg, type ChainMessage, type GenMessage, type NftFamily, type RuleMessage, type SetElement, type SetMessage, type TableMessage,
} from '../schema/index.js';
import { NftTransaction, type NftTransactionOptions, type SetRef } from './transaction.js';
import { probeCapabilities, type NftCapabilities } from './probe.js';

/** The send buffer a handle asks for: a transaction is one datagram, and may not exceed it. */
export const NFT_SEND_BUFFER_BYTES = 8 * 1024 * 1024;

/** The namespace (a netns path, an fd, or omitted for the caller's) and the socket's own options. */
export type NftOptions = Omit<NetnsSocketOptions, 'groups' | 'capAck'>;

/** A filter for dumps: a family ('unspec' or omitted: all) and a table. */
export interface NftListOptions {
  family?: NftFamily;
  table?: string;
}

/** A table, chain, rule, set or element as the kernel reports it. */
export type NftTable = TableMessage;
export type NftChain = ChainMessage;
export type NftRule = RuleMessage;
export type NftSet = SetMessage;
export type NftSetElement = SetElement;
/** The ruleset generation, and who committed last. */
export type NftGeneration = GenMessage;

const familyNumber = (f: NftFamily | undefined): number => NFT_FAMILIES.encode(f ?? 'unspec', 'nf_tables family');
const dumpType = (msg: number): number => nftMessageType(msg);

export class Nft {
  readonly #handle: NetnsSocket;
  readonly #socket: NetlinkSocket;

  private constructor(handle: NetnsSocket) {
    this.#handle = handle;
    this.#socket = handle.socket;
  }

  /** Open a handle (synchronous: one socket made inside the namespace). Needs CAP_NET_ADMIN there. */
  static open(options: NftOptions = {}): Nft {
    return new Nft(openNetnsSocket(NFTABLES, { sendBufferBytes: NFT_SEND_BUFFER_BYTES, ...options, capAck: true }));
  }

  /** The namespace fd this handle works in (-1: the caller's namespace). */
  get netnsFd(): number {
    return this.#handle.netnsFd;
  }

  get closed(): boolean {
    return this.#socket.closed;
  }

  /** A new transaction; nothing is sent until its commit(). With `genid`, it commits only at that generation. */
  transaction(options: NftTransactionOptions = {}): NftTransaction {
    return new NftTransaction(this.#socket, options);
  }

  /** The ruleset generation (GETGEN): bumped by every commit in the namespace, by anyone. */
  async generation(req?: RequestOptions): Promise<NftGeneration> {
    const [gen] = await this.#socket.request(dumpType(NFT_MSG.GETGEN), 0, encodeGetGen, (m) => decodeGenMessage(m.payload), req);
    if (gen === undefined) throw new DecodeError('NFT_MSG_GETGEN reply', 0, 'the kernel sent no NFT_MSG_NEWGEN');
    return gen;
  }

  /** The tables (of `family`, or all). */
  listTables(options: Pick<NftListOptions, 'family'> = {}, req?: RequestOptions): Promise<NftTable[]> {
    const family = familyNumber(options.family);
    return this.#socket.dump(dumpType(NFT_MSG.GETTABLE), (w) => encodeTableMessage(w, { family: options.family ?? 'unspec' }), (m) => (
      ofFamily(m, family) ? decodeTableMessage(m.payload) : undefined
    ), req);
  }

  /** The chains (of a family and a table, or all). */
  listChains(options: NftListOptions = {}, req?: RequestOptions): Promise<NftChain[]> {
    const family = familyNumber(options.family);
    return this.#socket.dump(dumpType(NFT_MSG.GETCHAIN), (w) => encodeChainMessage(w, { family: options.family ?? 'unspec' }), (m) => {
      if (!ofFamily(m, family)) return undefined;
      const c = decodeChainMessage(m.payload);
      return options.table === undefined || c.table === options.table ? c : undefined;
    }, req);
  }

  /** The rules of a table (and chain), in order, expressions decoded. */
  listRules(options: NftListOptions & { chain?: string } = {}, req?: RequestOptions): Promise<NftRule[]> {
    const family = familyNumber(options.family);
    return this.#socket.dump(dumpType(NFT_MSG.GETRULE), (w) => {
      const m: RuleMessage = { family: options.family ?? 'unspec' };
      if (options.table !== undefined) m.table = options.table;
      if (options.chain !== undefined) m.chain = options.chain;
      encodeRuleMessage(w, m);
    }, (m) => {
      if (!ofFamily(m, family)) return undefined;
      const r = decodeRuleMessage(m.payload);
      if (options.table !== undefined && r.table !== options.table) return undefined;
      return options.chain === undefined || r.chain === options.chain ? r : undefined;
    }, req);
  }

  /** The sets and maps (of a family and a table, or all). */
  listSets(options: NftListOptions = {}, req?: RequestOptions): Promise<NftSet[]> {
    const family = familyNumber(options.family);
    return this.#socket.dump(dumpType(NFT_MSG.GETSET), (w) => {
      const m: SetMessage = { family: options.family ?? 'unspec' };
      if (options.table !== undefined) m.table = options.table;
      encodeSetMessage(w, m);
    }, (m) => {
      if (!ofFamily(m, family)) return undefined;
      const s = decodeSetMessage(m.payload);
      return options.table === undefined || s.table === options.table ? s : undefined;
    }, req);
  }

  /** The elements of one set, as the kernel holds them (an interval set: start and end elements). ENOENT if the set does not exist. */
  async listElements(set: SetRef, req?: RequestOptions): Promise<NftSetElement[]> {
    const lists = await this.#socket.dump(dumpType(NFT_MSG.GETSETELEM), (w) => {
      encodeSetElemListMessage(w, { family: set.family, table: set.table, set: set.name });
    }, (m) => decodeSetElemListMessage(m.payload).elements ?? [], req);
    return lists.flat();
  }

  /** What this kernel's nf_tables can do (dry runs: nothing is applied). */
  probe(req?: RequestOptions): Promise<NftCapabilities> {
    return probeCapabilities(this.#socket, req);
  }

  /** Close the socket (and the netns fd if the handle opened it). Idempotent. */
  close(): void {
    closeNetnsSocket(this.#handle);
  }
}

/** Whether a dumped message is of `family` (0: any). */
function ofFamily(m: NlMessage, family: number): boolean {
  return family === 0 || readNfgenmsg(m.payload).family === family;
}

export { NftTransaction } from './transaction.js';
export type {
  AddOptions, BaseChainSpec, ChainRef, ChainSpec, NftTransactionOptions, RulePlacement, RuleRef, RuleSpec, SetRef, TableRef, TableSpec,
} from './transaction.js';
export type { NftCapabilities } from './probe.js';
