/**
 * Test helper: a Transport that plays the kernel, for unit tests of NetlinkSocket without root
 * or the addon. `answer` gets each request and returns the datagrams to queue (`answerDatagram`,
 * when set, gets every message of a datagram at once instead, as nfnetlink reads a batch);
 * `later` queues datagrams that arrive only when `deliver()` is called (a reply not ready inside
 * sendmsg).
 */
import type { Transport } from '../../src/netlink/transport.js';
import { encodeMessage, splitMessages, type NlMessage } from '../../src/netlink/wire/message.js';
import { encodeError, errorFlags, type NlExtack } from '../../src/netlink/wire/error.js';
import { NLM_F, NLMSG } from '../../src/netlink/wire/header.js';
import type { AttrWriter } from '../../src/netlink/wire/attr.js';

export const PORT_ID = 4242;

export class FakeKernel implements Transport {
  readonly portId = PORT_ID;
  /** Every message sent, in order. */
  readonly sent: NlMessage[] = [];
  /** The messages of each datagram sent (each send()). */
  readonly datagrams: NlMessage[][] = [];
  readonly #ready: Uint8Array[] = [];
  readonly #later: Uint8Array[] = [];
  #onReadable: (() => void) | undefined;
  refs: boolean[] = [];
  closed = false;
  /** Throw this from the next recv (e.g. an ENOBUFS SysError). */
  recvError: Error | undefined;
  /** Make send() report that it would block (-1), sending nothing. */
  sendWouldBlock = false;

  answer: (req: NlMessage, k: FakeKernel) => Uint8Array[] | 'later';
  answerDatagram: ((msgs: NlMessage[], k: FakeKernel) => Uint8Array[] | 'later') | undefined;

  constructor(answer: (req: NlMessage, k: FakeKernel) => Uint8Array[] | 'later' = () => []) {
    this.answer = answer;
  }

  send(bytes: Uint8Array): number {
    if (this.sendWouldBlock) return -1;
    const msgs = splitMessages(bytes).map((msg) => ({ ...msg, payload: msg.payload.slice() }));
    this.sent.push(...msgs);
    this.datagrams.push(msgs);
    const answers = this.answerDatagram ? [this.answerDatagram(msgs, this)] : msgs.map((msg) => this.answer(msg, this));
    for (const out of answers) if (out !== 'later') this.#ready.push(...out);
    return bytes.length;
  }

  recv(buffer: Uint8Array): number {
    if (this.recvError) {
      const err = this.recvError;
      this.recvError = undefined;
      throw err;
    }
    const next = this.#ready.shift();
    if (next === undefined) return -1;
    buffer.set(next.subarray(0, Math.min(next.length, buffer.length)));
    return next.length;
  }

  watch(onReadable: () => void): void {
    this.#onReadable = onReadable;
  }

  #hold: NodeJS.Timeout | undefined;

  /** Like uv_ref on the real poller: while referenced, the event loop stays alive. */
  ref(on: boolean): void {
    this.refs.push(on);
    clearInterval(this.#hold);
    this.#hold = on ? setInterval(() => {}, 1 << 30) : undefined;
  }

  close(): void {
    clearInterval(this.#hold);
    this.closed = true;
    this.#onReadable = undefined;
  }

  /** Queue datagrams for later delivery. */
  queueLater(...datagrams: Uint8Array[]): void {
    this.#later.push(...datagrams);
  }

  /** Make later datagrams (or these) readable and fire the readiness callback. */
  deliver(...datagrams: Uint8Array[]): void {
    this.#ready.push(...this.#later.splice(0), ...datagrams);
    this.#onReadable?.();
  }
}

export function ack(req: NlMessage, error = 0, extack?: NlExtack): Uint8Array {
  const e = { error, request: { length: 16 + req.payload.length, type: req.type, flags: req.flags, seq: req.seq, pid: PORT_ID }, extack };
  return encodeMessage({ type: NLMSG.ERROR, flags: errorFlags(e), seq: req.seq, pid: PORT_ID }, (w) => encodeError(w, e));
}

export function reply(req: NlMessage, type: number, body: (w: AttrWriter) => void, flags = 0): Uint8Array {
  return encodeMessage({ type, flags, seq: req.seq, pid: PORT_ID }, body);
}

export function done(req: NlMessage, flags: number = NLM_F.MULTI, error = 0): Uint8Array {
  return encodeMessage({ type: NLMSG.DONE, flags, seq: req.seq, pid: PORT_ID }, (w) => {
    const at = w.reserve(4);
    w.view().setInt32(at, error, true);
  });
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Whether `p` has settled once everything already queued has run. The socket settles calls
 * synchronously inside send() or deliver(), so this tells "answered" from "still waiting".
 */
export async function hasSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => { done = true; }, () => { done = true; });
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/**
 * A copy of a captured kernel datagram as the answer to `req`: every message in it re-stamped
 * with the request's sequence number and this fake's port id (a capture carries its own).
 */
export function restamp(datagram: Uint8Array, req: NlMessage): Uint8Array {
  const out = Uint8Array.from(datagram);
  const dv = new DataView(out.buffer);
  for (let off = 0; off + 16 <= out.length;) {
    const len = dv.getUint32(off, true);
    dv.setUint32(off + 8, req.seq, true);
    dv.setUint32(off + 12, PORT_ID, true);
    if (len < 16) break;
    off += (len + 3) & ~3;
  }
  return out;
}
