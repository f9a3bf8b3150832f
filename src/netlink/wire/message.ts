/**
 * Layer: netlink/wire — pure codec, no I/O.
 *
 * Whole netlink messages: split a received datagram (which may hold several messages, e.g. a
 * multipart dump chunk ending in NLMSG_DONE) and build requests with their lengths filled in,
 * one to a datagram or several (a batch).
 */
import { DecodeError } from '../../errors.js';
import { AttrWriter } from './attr-writer.js';
import { NLMSG_HDRLEN, decodeHeader, encodeHeader, nlmsgAlign } from './header.js';

/** One message; `payload` (everything after the 16-byte header) is a view into the datagram. */
export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Uint8Array;
}

/**
 * Split the first `length` bytes of a datagram into messages. Every nlmsg_len must be at least 16
 * and inside the datagram, and 1–15 stray bytes after the last message are an error; all of these
 * throw DecodeError.
 */
export function splitMessages(buf: Uint8Array, length: number = buf.length): NlMessage[] {
  if (!Number.isInteger(length) || length < 0 || length > buf.length) {
    throw new DecodeError('datagram', 0, `length ${length} is outside the ${buf.length}-byte buffer`);
  }
  const out: NlMessage[] = [];
  let off = 0;
  while (off < length) {
    if (length - off < NLMSG_HDRLEN) {
      throw new DecodeError('nlmsghdr', off, `${length - off} stray bytes after the last message`);
    }
    const h = decodeHeader(buf, off);
    if (h.length < NLMSG_HDRLEN) throw new DecodeError('nlmsghdr', off, `nlmsg_len ${h.length} is shorter than the header`);
    if (off + h.length > length) {
      throw new DecodeError('nlmsghdr', off, `nlmsg_len ${h.length} runs ${off + h.length - length} bytes past the datagram`);
    }
    out.push({ type: h.type, flags: h.flags, seq: h.seq, pid: h.pid, payload: buf.subarray(off + NLMSG_HDRLEN, off + h.length) });
    off += nlmsgAlign(h.length);
  }
  return out;
}

/** The header fields of a message to build; nlmsg_len is filled in, nlmsg_pid is 0 unless given. */
export interface MessageHeader {
  type: number;
  flags: number;
  seq: number;
  pid?: number;
}

/** A message to build: its header and whatever comes after it, written by `body`. */
export interface MessageToEncode extends MessageHeader {
  body: (w: AttrWriter) => void;
}

/**
 * Append one message at the end of `w` (always a 4-byte boundary): a 16-byte header whose
 * nlmsg_len is filled in once `body` has written the rest. Returns the message's offset.
 */
export function appendMessage(w: AttrWriter, h: MessageHeader, body: (w: AttrWriter) => void): number {
  const at = w.reserve(NLMSG_HDRLEN);
  body(w);
  encodeHeader({ length: w.length - at, type: h.type, flags: h.flags, seq: h.seq, pid: h.pid ?? 0 }, w.view(), at);
  return at;
}

/**
 * Build one message. With `into`, that writer is reset and reused and the result is a view of
 * its buffer, valid until its next use.
 */
export function encodeMessage(h: MessageHeader, body: (w: AttrWriter) => void, into?: AttrWriter): Uint8Array {
  const w = into?.reset() ?? new AttrWriter();
  appendMessage(w, h, body);
  return w.finish();
}

/**
 * Build several messages back to back, each aligned to 4 bytes, as one datagram carries them
 * (a batch: the kernel reads them in order from a single sendmsg). `into` as for encodeMessage.
 */
export function encodeMessages(messages: readonly MessageToEncode[], into?: AttrWriter): Uint8Array {
  const w = into?.reset() ?? new AttrWriter();
  for (const m of messages) appendMessage(w, m, m.body);
  return w.finish();
}
