/**
 * Layer: netlink/socket.
 *
 * What a batch is made of (NetlinkSocket.requestBatch): the messages a caller describes, the
 * flags each goes out with, and the checks that a batch can be awaited at all.
 */
import { NLM_F } from './wire/header.js';
import type { AttrWriter } from './wire/attr.js';
import type { NlMessage } from './wire/message.js';
import type { NetlinkError } from '../errors.js';

/** One message of a batch. */
export interface BatchMessage<T = unknown> {
  /** nlmsg_type, e.g. RTM.NEWADDR, or nfnetlink's NFNL_MSG_BATCH_BEGIN. */
  type: number;
  /** NLM_F_* flags (CREATE, EXCL, …) besides REQUEST, which is always set, and ACK, which `ack` sets. */
  flags?: number;
  /** Writes everything after the 16-byte header: the family's fixed header, then attributes. */
  body: (w: AttrWriter) => void;
  /** Decodes each reply to this message (a get's answer, an echo) while its bytes are valid. */
  decode?: (msg: NlMessage) => T;
  /**
   * Ask for this message's ack (NLM_F_ACK) and wait for it; true by default. false for a
   * message whose ack is not wanted or never comes, e.g. nfnetlink's BATCH_BEGIN. The kernel
   * reports an error for such a message all the same, and it fails the batch.
   */
  ack?: boolean;
  /**
   * Turns a kernel error for this message into a result instead of a failed batch: what it
   * returns (anything but undefined) is added to the message's results and the message counts
   * as answered, e.g. `(e) => (e.code === 'ENOENT' ? 'gone' : undefined)` for a delete whose
   * target may be gone already. Returning undefined fails the batch as usual.
   */
  tolerate?: (err: NetlinkError) => T | undefined;
}

/** What requestBatch resolves to: for each message, its decoded replies (none without `decode`). */
export type BatchReplies<M extends readonly BatchMessage[]> = {
  -readonly [K in keyof M]: M[K] extends BatchMessage<infer T> ? T[] : never;
};

/**
 * Check that `messages` can be sent and awaited as one batch: at least one message, each with
 * a body, and at least one asking for an ack (nothing else tells when the kernel is done with
 * it). TypeError/RangeError otherwise.
 */
export function checkBatch(messages: readonly BatchMessage[]): void {
  if (!Array.isArray(messages) || messages.length === 0) throw new RangeError('a batch needs at least one message');
  messages.forEach((m, i) => {
    if (typeof m?.body !== 'function') throw new TypeError(`batch message ${i}: body must be a function that writes the message`);
    if (m.tolerate !== undefined && typeof m.tolerate !== 'function') throw new TypeError(`batch message ${i}: tolerate must be a function`);
    if (m.ack === false && ((m.flags ?? 0) & NLM_F.ACK) !== 0) {
      throw new RangeError(`batch message ${i}: flags ask for an ack (NLM_F_ACK) that ack: false declines`);
    }
  });
  if (messages.every((m) => m.ack === false)) {
    throw new RangeError('a batch needs at least one message with an ack: nothing else tells when the kernel is done with it');
  }
}

/** The nlmsg_flags `m` is sent with: its own, REQUEST, and ACK unless it declines one. */
export function batchMessageFlags(m: BatchMessage): number {
  return (m.flags ?? 0) | NLM_F.REQUEST | (m.ack === false ? 0 : NLM_F.ACK);
}
