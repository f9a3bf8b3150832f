/**
 * Layer: netlink/socket. No I/O of its
 * own: it talks through a Transport (native-transport.ts for real sockets, a fake in tests).
 *
 * One netlink socket of one family (family.ts) bound to one network namespace: requests
 * matched to replies by sequence number (many may be in flight), dumps with NLM_F_DUMP_INTR
 * retries, extended ACK errors, timeouts, and multicast notifications for subscribers.
 *
 * rtnetlink answers inside sendmsg(), so after each send the socket drains what is queued
 * at once: most requests settle without waiting for the event loop. Only when the answer is
 * not there yet does the socket wait on uv_poll (started then, and referenced only while
 * something waits).
 */
import type { Transport } from './transport.js';
import {
  AbortError, ClosedError, DecodeError, DumpInterruptedError, NetlinkError, SysError, TimeoutError,
} from '../errors.js';
import { NLM_F, NLMSG } from './wire/header.js';
import { encodeMessage, splitMessages, type NlMessage } from './wire/message.js';
import { decodeDone, decodeError } from './wire/error.js';
import { AttrWriter } from './wire/attr.js';
import { messageName, type NetlinkFamily } from './family.js';

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
}

/** Receives what arrives unasked: multicast notifications, and overruns (ENOBUFS). */
export interface NotificationSink {
  message(msg: NlMessage): void;
  overrun(err: SysError): void;
}

interface Pending {
  op: string;
  dump: boolean;
  interrupted: boolean;
  results: unknown[];
  decode: ((msg: NlMessage) => unknown) | undefined;
  resolve(results: unknown[]): void;
  reject(err: Error): void;
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
  signal: AbortSignal | undefined;
}

/** Receive buffer shared by every socket: draining is synchronous, so one is enough. */
const RECV_BUFFER = new Uint8Array(1 << 20);
/** Request encoder shared by every socket: a request is sent as soon as it is encoded. */
const SCRATCH = new AttrWriter();

export class NetlinkSocket {
  /** The protocol family this socket speaks; it names the messages in errors. */
  readonly family: NetlinkFamily;
  readonly #transport: Transport;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
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
    return this.#start(type, flags | NLM_F.REQUEST | NLM_F.ACK, body, decode, false, options) as Promise<T[]>;
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
    for (let attempt = 0; attempt <= DUMP_INTR_RETRIES; attempt++) {
      try {
        const items = (await this.#start(type, NLM_F.REQUEST | NLM_F.DUMP, body, decode, true, options)) as (T | undefined)[];
        return items.filter((x): x is T => x !== undefined);
      } catch (err) {
        if (!(err instanceof DumpInterruptedError)) throw err;
      }
    }
    throw new DumpInterruptedError(messageName(this.family, type), DUMP_INTR_RETRIES + 1);
  }

  /** Close the socket; requests still waiting reject with ClosedError. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport.close();
    if (this.#pending.size === 0) return;
    const err = new ClosedError('netlink socket');
    for (const entry of [...this.#pending.values()]) this.#settle(entry, err);
    this.#pending.clear();
  }

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0;
    if (this.#seq === 0) this.#seq = 1;
    return this.#seq;
  }

  #start(
    type: number,
    flags: number,
    body: (w: AttrWriter) => void,
    decode: ((msg: NlMessage) => unknown) | undefined,
    dump: boolean,
    options: RequestOptions,
  ): Promise<unknown[]> {
    const op = messageName(this.family, type);
    if (this.#closed) return Promise.reject(new ClosedError('netlink socket'));
    if (options.signal?.aborted) return Promise.reject(new AbortError(op, { cause: options.signal.reason }));
    const seq = this.#nextSeq();
    // The shared scratch writer: these bytes are sent before anything can encode again.
    const bytes = encodeMessage({ type, flags, seq }, body, SCRATCH);
    return new Promise<unknown[]>((resolve, reject) => {
      const entry: Pending = {
        op, dump, interrupted: false, results: [], decode, resolve, reject,
        settled: false, timer: undefined, onAbort: undefined, signal: options.signal,
      };
      this.#pending.set(seq, entry);
      let sent: number;
      try {
        sent = this.#transport.send(bytes);
      } catch (err) {
        this.#pending.delete(seq);
        reject(err as Error);
        return;
      }
      if (sent < 0) {
        this.#pending.delete(seq);
        reject(new SysError(11, 'sendto'));
        return;
      }
      this.#drain(entry);
      if (entry.settled) return;
      // Not answered inside sendmsg(): wait for readiness, bounded by the timeout.
      try {
        this.#setWaiting(1);
      } catch (err) {
        this.#pending.delete(seq); // no readiness watch (e.g. the poller failed to start)
        entry.settled = true;
        reject(err as Error);
        return;
      }
      const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
      entry.timer = setTimeout(() => {
        this.#pending.delete(seq);
        this.#settle(entry, new TimeoutError(op, timeoutMs));
      }, timeoutMs);
      entry.timer.unref();
      if (options.signal) {
        entry.onAbort = () => {
          this.#pending.delete(seq);
          this.#settle(entry, new AbortError(op, { cause: options.signal?.reason }));
        };
        options.signal.addEventListener('abort', entry.onAbort, { once: true });
      }
    });
  }

  #setWaiting(delta: number): void {
    if (delta > 0) this.#watch();
    const before = this.#waiting;
    this.#waiting = Math.max(0, this.#waiting + delta);
    if ((before === 0) !== (this.#waiting === 0) && !this.#closed) this.#transport.ref(this.#waiting > 0);
  }

  #settle(entry: Pending, outcome: Error | unknown[]): void {
    if (entry.settled) return;
    entry.settled = true;
    if (entry.timer !== undefined) {
      clearTimeout(entry.timer);
      this.#setWaiting(-1);
    }
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort);
    if (outcome instanceof Error) entry.reject(outcome);
    else entry.resolve(outcome);
  }

  /**
   * Read what is queued on the socket and dispatch it; with `until`, stop as soon as that
   * request has settled (whatever else is queued wakes the poller). Never throws.
   */
  #drain(until?: Pending): void {
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
    for (const [seq, entry] of this.#pending) {
      this.#pending.delete(seq);
      this.#settle(entry, err);
    }
  }

  #dispatch(msg: NlMessage): void {
    // Replies carry our port id. A notification carries the port id and sequence number of the
    // request that caused it (another process's, e.g. `ip addr add`), or 0 from the kernel itself.
    const reply = msg.pid === this.#transport.portId && msg.seq !== 0;
    const entry = reply ? this.#pending.get(msg.seq) : undefined;
    if (entry === undefined) {
      if (!reply && msg.type !== NLMSG.ERROR && msg.type !== NLMSG.DONE) this.#sink?.message(msg);
      return; // a late answer to a request that timed out or was aborted
    }
    if (msg.flags & NLM_F.DUMP_INTR) entry.interrupted = true;
    try {
      if (msg.type === NLMSG.ERROR) {
        const { error, extack } = decodeError(msg.payload, msg.flags);
        this.#finish(msg.seq, entry, error === 0 ? null : new NetlinkError(-error, entry.op, extack));
      } else if (msg.type === NLMSG.DONE) {
        const { error, extack } = decodeDone(msg.payload, msg.flags);
        this.#finish(msg.seq, entry, error < 0 ? new NetlinkError(-error, entry.op, extack) : null);
      } else if (msg.type !== NLMSG.NOOP && entry.decode) {
        entry.results.push(entry.decode(msg));
      }
    } catch (err) {
      this.#finish(msg.seq, entry, err as Error);
    }
  }

  #finish(seq: number, entry: Pending, err: Error | null): void {
    this.#pending.delete(seq);
    if (err === null && entry.dump && entry.interrupted) err = new DumpInterruptedError(entry.op, 1);
    this.#settle(entry, err ?? entry.results);
  }
}
