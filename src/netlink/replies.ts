/**
 * Layer: netlink/socket. No I/O, no timers.
 *
 * The answers to one call on the socket (a request, a dump, or a batch of requests sent in one
 * datagram) as they arrive: replies decoded per message, each awaited message's end counted
 * (its ack, its error, or a dump's NLMSG_DONE), and the outcome once every awaited end has come
 * or as soon as the first error does. NetlinkSocket routes each answer here by sequence number
 * and settles the call.
 */
import { DumpInterruptedError, NetlinkError } from '../errors.js';
import { NLM_F, NLMSG } from './wire/header.js';
import { decodeDone, decodeError, type NlExtack } from './wire/error.js';
import type { NlMessage } from './wire/message.js';

/** One message of a call, as its answers are awaited. */
export interface AwaitedMessage {
  /** Its name, e.g. 'RTM_NEWADDR', for errors. */
  op: string;
  /** Decodes each reply to it (not acks, errors or NLMSG_DONE) while the bytes are valid. */
  decode: ((msg: NlMessage) => unknown) | undefined;
  /** Whether the call waits for this message's end. Errors end the call either way. */
  awaited: boolean;
  /** Turns a kernel error for it into a result (not undefined) that ends it like an ack. */
  tolerate?: ((err: NetlinkError) => unknown) | undefined;
}

/** The outcome of a call: its results, an error, or undefined while answers are awaited. */
export type CallOutcome = unknown[] | unknown[][] | Error | undefined;

interface MessageState extends AwaitedMessage {
  results: unknown[];
  ended: boolean;
  interrupted: boolean;
}

export class Replies {
  /** The call's name in timeout, abort and close errors. */
  readonly op: string;
  /** The sequence number of the first message; message i carries firstSeq + i. */
  readonly firstSeq: number;
  readonly #messages: MessageState[];
  /** A batch resolves to one result list per message and names the index of a failing one. */
  readonly #batch: boolean;
  #awaiting = 0;

  constructor(messages: readonly AwaitedMessage[], firstSeq: number, batch: boolean) {
    this.firstSeq = firstSeq;
    this.#batch = batch;
    this.#messages = messages.map((m) => ({
      op: m.op, decode: m.decode, awaited: m.awaited, tolerate: m.tolerate, results: [], ended: false, interrupted: false,
    }));
    for (const m of messages) if (m.awaited) this.#awaiting++;
    this.op = batch ? batchName(messages) : messages[0]?.op ?? 'empty call';
  }

  /** How many messages the call sent (and so how many sequence numbers it holds). */
  get size(): number {
    return this.#messages.length;
  }

  /**
   * Take one answer to message `index`. Returns the call's results once the last awaited
   * message has ended, its error when this answer is one, else undefined. Throws whatever a
   * decoder throws.
   */
  receive(index: number, msg: NlMessage): CallOutcome {
    const m = this.#messages[index];
    if (m === undefined) return undefined;
    if (msg.flags & NLM_F.DUMP_INTR) m.interrupted = true;
    if (msg.type === NLMSG.ERROR) {
      const { error, extack } = decodeError(msg.payload, msg.flags);
      return error === 0 ? this.#end(m) : this.#failure(index, error, extack);
    }
    if (msg.type === NLMSG.DONE) {
      const { error, extack } = decodeDone(msg.payload, msg.flags);
      if (error < 0) return this.#failure(index, error, extack);
      if (m.interrupted) return new DumpInterruptedError(m.op, 1);
      return this.#end(m);
    }
    if (msg.type !== NLMSG.NOOP && m.decode) m.results.push(m.decode(msg));
    return undefined;
  }

  #end(m: MessageState): CallOutcome {
    if (!m.awaited || m.ended) return undefined;
    m.ended = true;
    if (--this.#awaiting > 0) return undefined;
    return this.#batch ? this.#messages.map((x) => x.results) : this.#messages[0]?.results;
  }

  /** The error for message `index`, or, when its `tolerate` turns the error into a result, that message's end. */
  #failure(index: number, error: number, extack: NlExtack | undefined): CallOutcome {
    const m = this.#messages[index];
    const err = new NetlinkError(-error, m?.op ?? this.op, extack, this.#batch ? index : undefined);
    const result = m?.tolerate?.(err);
    if (m === undefined || result === undefined) return err;
    m.results.push(result);
    return this.#end(m);
  }
}

/** 'batch of 3 (RTM_NEWADDR)': the size and the distinct message names, in order. */
function batchName(messages: readonly AwaitedMessage[]): string {
  return `batch of ${messages.length} (${[...new Set(messages.map((m) => m.op))].join(', ')})`;
}
