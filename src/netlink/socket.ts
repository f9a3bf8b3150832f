/**
 * Layer: netlink/socket. No I/O of its
 * own: it talks through a Transport (native-transport.ts for real sockets, a fake in tests).
 *
 * One netlink socket of one family (family.ts) bound to one network namespace: requests
 * matched to replies by sequence number (many may be in flight), batches of requests sent in
 * one datagram, dumps with NLM_F_DUMP_INTR retries, extended ACK errors, timeouts, and
 * multicast notifications for subscribers. What each call waits for is kept in replies.ts.
 *
 * rtnetlink and nfnetlink answer inside sendmsg(), so after each send the socket drains what is
 * queued at once: most calls settle without waiting for the event loop. Only when the answer
 * is not there yet does the socket wait on uv_poll (started then, and referenced only while
 * something waits).
 */
import type { Transport } from './transport.js';
import {
  AbortError, ClosedError, DecodeError, DumpInterruptedError, SysError, TimeoutError,
} from '../errors.js';
import { errnoNumber } from '../errno.js';
import { NLM_F, NLMSG } from './wire/header.js';
import { encodeMessages, splitMessages, type NlMessage, type MessageToEncode } from './wire/message.js';
import { AttrWriter } from './wire/attr.js';
import { messageName, type NetlinkFamily } from './family.js';
import { Replies, type AwaitedMessage, type CallOutcome } from './replies.js';
import { batchMessageFlags, checkBatch, type BatchMessage, type BatchReplies } from './batch.js';

/** Default time a request may wait for the kernel, as libnetwork's 3 s socket timeout. */
export const DEFAULT_TIMEOUT_MS = 3000;
/** How many times a dump interrupted by concurrent changes is retried before giving up. */
export const DUMP_INTR_RETRIES = 5;

export interface NetlinkSocketOptions {
  /** Namespace fd the socket is created in; -1 (default) for the caller's namespace. */
  netnsFd?: number;
  /** Default per-request timeout in ms (3000). */
  timeoutMs?: number;
  /** Receive buffer size in bytes (SO_RCVBUFFORCE, falling back to SO_RCVBUF). */
  recvBufferBytes?: number;
  /** Multicast groups of the family to join (e.g. RTNLGRP_* numbers). */
  groups?: readonly number[];
  /**
   * NETLINK_CAP_ACK: an error echoes only the request's header, not the whole request (an
   * nf_tables batch can be tens of KiB). The extended ack's offset still points into the request.
   */
  capAck?: boolean;
  /** Send buffer size in bytes (SO_SNDBUFFORCE, falling back to SO_SNDBUF): a datagram may not exceed it. */
  sendBufferBytes?: number;
  /**
   * A bound netlink socket already made inside the namespace (createNetnsWithNetlink makes
   * one with the namespace): used instead of opening another, and owned (closed) from then
   * on. It must belong to that namespace and to the family's protocol (nothing checks);
   * `recvBufferBytes` and `netnsFd` are then the ones it was made with.
   */
  adopt?: { fd: number; portId: number };
}

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Send on libuv's thread pool instead of this thread: for a request the kernel answers only
   * after a long wait inside sendmsg (deleting a link waits there for an RCU barrier, ~10–25
   * ms), so the event loop goes on meanwhile. Costs a pool round trip (~0.1 ms); sent in
   * place where the transport cannot.
   */
  background?: boolean;
}

/** Receives what arrives unasked: multicast notifications, and overruns (ENOBUFS). */
export interface NotificationSink {
  message(msg: NlMessage): void;
  overrun(err: SysError): void;
}

/** A message as the socket sends it (the sequence number is added then) and awaits its answers. */
type OutgoingMessage = Omit<MessageToEncode, 'seq'> & AwaitedMessage;

/** One call in flight: what it waits for (replies.ts) and how it settles. */
interface Call {
  readonly replies: Replies;
  resolve(results: unknown): void;
  reject(err: Error): void;
  settled: boolean;
  /** Counted in #waiting: watched for readiness, the socket referenced. */
  waiting: boolean;
  timer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
  signal: AbortSignal | undefined;
}

/** Receive buffer shared by every socket: draining is synchronous, so one is enough. */
const RECV_BUFFER = new Uint8Array(1 << 20);
/** Request encoder shared by every socket: a datagram is sent as soon as it is encoded. */
const SCRATCH = new AttrWriter();
/** The last sequence number; a call's messages take consecutive ones, never 0. */
const MAX_SEQ = 0xffffffff;

export class NetlinkSocket {
  /** The protocol family this socket speaks; it names the messages in errors. */
  readonly family: NetlinkFamily;
  readonly #transport: Transport;
  readonly #timeoutMs: number;
  /** Calls in flight by the sequence number of each message they sent. */
  readonly #pending = new Map<number, Call>();
  #seq = Math.floor(Math.random() * 0x7fffffff);
  #waiting = 0;
  #closed = false;
  #watching = false;
  #sink: NotificationSink | undefined;

  /** A socket of `family` over `transport` (see openNetlinkSocket for a real one). */
  constructor(transport: Transport, family: NetlinkFamily, options: { timeoutMs?: number } = {}) {
    this.#transport = transport;
    this.family = family;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    transport.ref(false);
  }

  /**
   * Watch for readiness from the first time it is needed (a request not answered inside
   * sendmsg, a subscriber): most sockets never need it, and a watch costs an epoll
   * registration and a native handle per socket.
   */
  #watch(): void {
    if (this.#watching || this.#closed) return;
    this.#transport.watch(() => this.#drain());
    this.#watching = true;
    this.#transport.ref(this.#waiting > 0); // a new watch starts referenced
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Route unasked messages (notifications) and overruns to `sink`. */
  setNotificationSink(sink: NotificationSink | undefined): void {
    this.#sink = sink;
    if (sink !== undefined) this.#watch();
  }

  /** Keep the event loop alive while a subscriber waits (or stop doing so). */
  holdOpen(on: boolean): void {
    this.#setWaiting(on ? 1 : -1);
  }

  /**
   * Send one request and wait for its acknowledgement. Reply messages (for a get, or an
   * echo) are passed through `decode` while their bytes are valid and returned in order.
   */
  request<T = never>(
    type: number,
    flags: number,
    body: (w: AttrWriter) => void,
    decode?: (msg: NlMessage) => T,
    options: RequestOptions = {},
  ): Promise<T[]> {
    const message: OutgoingMessage = { type, flags: flags | NLM_F.REQUEST | NLM_F.ACK, body, op: this.#name(type), decode, awaited: true };
    return this.#start([message], false, options) as Promise<T[]>;
  }

  /**
   * Send several requests in one datagram (one sendmsg) and wait until each message that asks
   * for an ack has been acknowledged; resolves to each message's decoded replies, in order.
   *
   * The first error the kernel reports for any message of the batch, acked or not, rejects the
   * whole call with a NetlinkError naming that message (`op`, `batchIndex`, errno, extack);
   * answers still arriving for the batch after that are dropped. A message's `tolerate` may turn
   * its error into a result instead (a delete whose target is gone already), and the batch goes on. What the kernel did with the
   * other messages is the family's rule: rtnetlink carries on with the next message and keeps
   * what succeeded, nfnetlink (BATCH_BEGIN … BATCH_END) applies all or nothing and reports
   * errors only after the whole batch, and a commit failure against BATCH_BEGIN.
   *
   * At least one message must ask for an ack: that is how the socket knows the kernel is done.
   * The kernel answers in order, so errors of the messages before the last acked one are
   * always seen; one of a message after it may arrive once the batch has resolved, and is
   * dropped then. TypeError/RangeError for a malformed batch, before anything is sent.
   */
  requestBatch<const M extends readonly BatchMessage[]>(messages: M, options: RequestOptions = {}): Promise<BatchReplies<M>> {
    checkBatch(messages);
    const outgoing = messages.map((m): OutgoingMessage => ({
      type: m.type, flags: batchMessageFlags(m), body: m.body, op: this.#name(m.type), decode: m.decode, awaited: m.ack !== false, tolerate: m.tolerate,
    }));
    return this.#start(outgoing, true, options) as Promise<BatchReplies<M>>;
  }

  /**
   * Dump a table (NLM_F_DUMP): every message decoded by `decode`. When the kernel marks the
   * dump as interrupted by concurrent changes it is retried (DUMP_INTR_RETRIES times), then
   * a DumpInterruptedError is thrown; partial data is never returned.
   */
  async dump<T>(
    type: number,
    body: (w: AttrWriter) => void,
    decode: (msg: NlMessage) => T | undefined,
    options: RequestOptions = {},
  ): Promise<T[]> {
    const op = this.#name(type);
    const message: OutgoingMessage = { type, flags: NLM_F.REQUEST | NLM_F.DUMP, body, op, decode, awaited: true };
    for (let attempt = 0; attempt <= DUMP_INTR_RETRIES; attempt++) {
      try {
        const items = (await this.#start([message], false, options)) as (T | undefined)[];
        return items.filter((x): x is T => x !== undefined);
      } catch (err) {
        if (!(err instanceof DumpInterruptedError)) throw err;
      }
    }
    throw new DumpInterruptedError(op, DUMP_INTR_RETRIES + 1);
  }

  /**
   * Send messages in one datagram without asking for an ack and without waiting: for a
   * high-rate stream that expects no answer (nfnetlink_queue verdicts). Each gets a sequence
   * number no call waits for, so an error the kernel reports for it is dropped as a late answer.
   * Returns false when the socket's send buffer is full (nothing was sent).
   */
  send(messages: readonly { type: number; flags?: number; body: (w: AttrWriter) => void }[]): boolean {
    if (this.#closed) throw new ClosedError('netlink socket');
    if (messages.length === 0) return true;
    const first = this.#nextSeqs(messages.length);
    const bytes = encodeMessages(messages.map((m, i) => ({ type: m.type, flags: (m.flags ?? 0) | NLM_F.REQUEST, seq: first + i, body: m.body })), SCRATCH);
    return this.#transport.send(bytes) >= 0;
  }

  /** Close the socket; calls still waiting reject with ClosedError. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport.close();
    if (this.#pending.size === 0) return;
    const err = new ClosedError('netlink socket');
    for (const call of new Set(this.#pending.values())) this.#settle(call, err);
  }

  #name(type: number): string {
    return messageName(this.family, type);
  }

  /** The first of `count` consecutive sequence numbers; they never wrap, so message i has first + i. */
  #nextSeqs(count: number): number {
    if (this.#seq + count > MAX_SEQ) this.#seq = 0;
    const first = this.#seq + 1;
    this.#seq += count;
    return first;
  }

  #start(messages: readonly OutgoingMessage[], batch: boolean, options: RequestOptions): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ClosedError('netlink socket'));
    const first = this.#nextSeqs(messages.length);
    const replies = new Replies(messages, first, batch);
    if (options.signal?.aborted) return Promise.reject(new AbortError(replies.op, { cause: options.signal.reason }));
    // The shared scratch writer: these bytes are sent before anything can encode again.
    const bytes = encodeMessages(messages.map((m, i) => ({ type: m.type, flags: m.flags, seq: first + i, body: m.body })), SCRATCH);
    return new Promise<unknown>((resolve, reject) => {
      const call: Call = { replies, resolve, reject, settled: false, waiting: false, timer: undefined, onAbort: undefined, signal: options.signal };
      for (let i = 0; i < replies.size; i++) this.#pending.set(first + i, call);
      const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
      const armTimeout = (): void => {
        call.timer = setTimeout(() => this.#settle(call, new TimeoutError(replies.op, timeoutMs)), timeoutMs);
        call.timer.unref();
      };
      const background = options.background === true && this.#transport.sendInBackground !== undefined;
      if (background) {
        // A copy: the scratch buffer is reused by the next call, long before the pool sends.
        this.#transport.sendInBackground!(bytes.slice(), (err) => {
          if (err !== undefined) {
            this.#settle(call, err);
            return;
          }
          this.#drain(call);
          // The timeout counts from the send, as in place: waiting for a pool thread, and the
          // kernel's work inside sendmsg, are not a late answer.
          if (!call.settled) armTimeout();
        });
      } else {
        let sent: number;
        try {
          sent = this.#transport.send(bytes);
        } catch (err) {
          this.#settle(call, err as Error);
          return;
        }
        if (sent < 0) {
          this.#settle(call, new SysError(errnoNumber('EAGAIN'), 'sendto'));
          return;
        }
        this.#drain(call);
        if (call.settled) return;
      }
      // Not answered inside sendmsg() (or sent from the pool): wait for readiness, bounded by the timeout.
      try {
        this.#setWaiting(1);
        call.waiting = true;
      } catch (err) {
        this.#settle(call, err as Error); // no readiness watch (e.g. the poller failed to start)
        return;
      }
      if (!background) armTimeout();
      if (options.signal) {
        call.onAbort = () => this.#settle(call, new AbortError(replies.op, { cause: options.signal?.reason }));
        options.signal.addEventListener('abort', call.onAbort, { once: true });
      }
    });
  }

  #setWaiting(delta: number): void {
    if (delta > 0) this.#watch();
    const before = this.#waiting;
    this.#waiting = Math.max(0, this.#waiting + delta);
    if ((before === 0) !== (this.#waiting === 0) && !this.#closed) this.#transport.ref(this.#waiting > 0);
  }

  /** Settle `call` once: its sequence numbers are released, so later answers to it are dropped. */
  #settle(call: Call, outcome: Exclude<CallOutcome, undefined>): void {
    if (call.settled) return;
    call.settled = true;
    const { firstSeq, size } = call.replies;
    for (let i = 0; i < size; i++) this.#pending.delete(firstSeq + i);
    if (call.timer !== undefined) clearTimeout(call.timer);
    if (call.waiting) this.#setWaiting(-1);
    if (call.onAbort) call.signal?.removeEventListener('abort', call.onAbort);
    if (outcome instanceof Error) call.reject(outcome);
    else call.resolve(outcome);
  }

  /**
   * Read what is queued on the socket and dispatch it; with `until`, stop as soon as that
   * call has settled (whatever else is queued wakes the poller). Never throws.
   */
  #drain(until?: Call): void {
    while (!this.#closed && until?.settled !== true) {
      let n: number;
      try {
        n = this.#transport.recv(RECV_BUFFER);
      } catch (err) {
        this.#failAll(err as Error);
        continue;
      }
      if (n < 0) return;
      if (n > RECV_BUFFER.length) {
        this.#failAll(new DecodeError('netlink datagram', 0, `${n} bytes exceed the ${RECV_BUFFER.length}-byte receive buffer`));
        continue;
      }
      let messages: NlMessage[];
      try {
        messages = splitMessages(RECV_BUFFER, n);
      } catch (err) {
        this.#failAll(err as Error);
        continue;
      }
      for (const msg of messages) this.#dispatch(msg);
    }
  }

  /** A receive error (ENOBUFS: the kernel dropped messages) fails everything waiting. */
  #failAll(err: Error): void {
    if (err instanceof SysError && err.code === 'ENOBUFS' && this.#sink) this.#sink.overrun(err);
    for (const call of new Set(this.#pending.values())) this.#settle(call, err);
  }

  #dispatch(msg: NlMessage): void {
    // Replies carry our port id. A notification carries the port id and sequence number of the
    // request that caused it (another process's, e.g. `ip addr add`), or 0 from the kernel itself.
    const reply = msg.pid === this.#transport.portId && msg.seq !== 0;
    const call = reply ? this.#pending.get(msg.seq) : undefined;
    if (call === undefined) {
      if (!reply && msg.type !== NLMSG.ERROR && msg.type !== NLMSG.DONE) this.#sink?.message(msg);
      return; // a late answer to a call that timed out, was aborted, or already failed
    }
    let outcome: CallOutcome;
    try {
      outcome = call.replies.receive(msg.seq - call.replies.firstSeq, msg);
    } catch (err) {
      outcome = err as Error;
    }
    if (outcome !== undefined) this.#settle(call, outcome);
  }
}
