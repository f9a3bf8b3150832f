/**
 * Layer: netlink/wire — pure codec, no I/O.
 *
 * The NLMSG_ERROR payload, `struct nlmsgerr` (an errno and the echoed request), followed by the
 * extended-ack TLVs (NLMSGERR_ATTR_*) when the kernel sets NLM_F_ACK_TLVS. error 0 is an ack.
 */
import { DecodeError } from '../../errors.js';
import { decodeAttrs, readString, readU32 } from './attr.js';
import type { AttrWriter } from './attr-writer.js';
import { NLMSG_HDRLEN, NLM_F, type NlHeader, decodeHeader, encodeHeader, nlmsgAlign } from './header.js';

/** enum nlmsgerr_attrs (NLMSGERR_ATTR_*). */
export const NLMSGERR_ATTRS = { MSG: 1, OFFS: 2, COOKIE: 3, POLICY: 4, MISS_TYPE: 5, MISS_NEST: 6 } as const;

/** The decoded extended ack. `offset` is a byte offset into the request (header included). */
export interface NlExtack {
  /** NLMSGERR_ATTR_MSG */
  message?: string;
  /** NLMSGERR_ATTR_OFFS */
  offset?: number;
  /** NLMSGERR_ATTR_MISS_TYPE */
  missType?: number;
  /** NLMSGERR_ATTR_MISS_NEST */
  missNest?: number;
}

export interface NlErrorPayload {
  /** 0 for an ack, else a negative errno. */
  error: number;
  /** The echoed request header. */
  request: NlHeader;
  /** The echoed request body after its header — only when the kernel did not cap the echo. A view into the input. */
  requestPayload?: Uint8Array;
  /** Present when NLM_F_ACK_TLVS brought at least one known TLV. */
  extack: NlExtack | undefined;
}

const ERRNO_LEN = 4;

/**
 * Decode an NLMSG_ERROR payload; `flags` are that message's nlmsg_flags. With NLM_F_CAPPED (always
 * the case for acks) only the request header is echoed; otherwise the whole request is, and the TLVs
 * start after it, 4-byte aligned. A 20-byte payload without NLM_F_CAPPED (kernels before 4.12 with
 * NETLINK_CAP_ACK, or any ack) is read as capped.
 */
export function decodeError(payload: Uint8Array, flags: number): NlErrorPayload {
  if (payload.length < ERRNO_LEN + NLMSG_HDRLEN) {
    throw new DecodeError('nlmsgerr', 0, `needs ${ERRNO_LEN + NLMSG_HDRLEN} bytes, got ${payload.length}`);
  }
  const error = new DataView(payload.buffer, payload.byteOffset, ERRNO_LEN).getInt32(0, true);
  const request = decodeHeader(payload, ERRNO_LEN);
  const capped = (flags & NLM_F.CAPPED) !== 0 || payload.length === ERRNO_LEN + NLMSG_HDRLEN;
  let tlvStart = ERRNO_LEN + NLMSG_HDRLEN;
  let requestPayload: Uint8Array | undefined;
  if (!capped) {
    if (request.length < NLMSG_HDRLEN || ERRNO_LEN + request.length > payload.length) {
      throw new DecodeError('nlmsgerr', ERRNO_LEN, `echoed nlmsg_len ${request.length} does not fit in ${payload.length - ERRNO_LEN} bytes`);
    }
    requestPayload = payload.subarray(ERRNO_LEN + NLMSG_HDRLEN, ERRNO_LEN + request.length);
    tlvStart = ERRNO_LEN + nlmsgAlign(request.length);
  }
  const extack = (flags & NLM_F.ACK_TLVS) !== 0 ? decodeExtack(payload, tlvStart) : undefined;
  const out: NlErrorPayload = { error, request, extack };
  if (requestPayload !== undefined) out.requestPayload = requestPayload;
  return out;
}

/** The extended-ack TLVs from `start` to the end of `payload`, or undefined if none is known. */
function decodeExtack(payload: Uint8Array, start: number): NlExtack | undefined {
  if (start >= payload.length) return undefined;
  const found: NlExtack = {};
  let any = false;
  for (const a of decodeAttrs(payload, start, payload.length)) {
    if (a.type === NLMSGERR_ATTRS.MSG) found.message = readString(a.value, 'NLMSGERR_ATTR_MSG');
    else if (a.type === NLMSGERR_ATTRS.OFFS) found.offset = readU32(a.value, 'NLMSGERR_ATTR_OFFS');
    else if (a.type === NLMSGERR_ATTRS.MISS_TYPE) found.missType = readU32(a.value, 'NLMSGERR_ATTR_MISS_TYPE');
    else if (a.type === NLMSGERR_ATTRS.MISS_NEST) found.missNest = readU32(a.value, 'NLMSGERR_ATTR_MISS_NEST');
    else continue;
    any = true;
  }
  return any ? found : undefined;
}

/**
 * Decode an NLMSG_DONE payload: the dump's status (0, or a negative errno when the dump
 * failed part way) and, with NLM_F_ACK_TLVS, the extended ack after it. An empty payload
 * (old kernels) is success.
 */
export function decodeDone(payload: Uint8Array, flags: number): { error: number; extack: NlExtack | undefined } {
  if (payload.length === 0) return { error: 0, extack: undefined };
  if (payload.length < ERRNO_LEN) throw new DecodeError('NLMSG_DONE', 0, `needs ${ERRNO_LEN} bytes, got ${payload.length}`);
  const error = new DataView(payload.buffer, payload.byteOffset, ERRNO_LEN).getInt32(0, true);
  return { error, extack: (flags & NLM_F.ACK_TLVS) !== 0 ? decodeExtack(payload, ERRNO_LEN) : undefined };
}

function hasExtack(e: NlErrorPayload): boolean {
  const x = e.extack;
  return x !== undefined && (x.message !== undefined || x.offset !== undefined || x.missType !== undefined || x.missNest !== undefined);
}

/** The nlmsg_flags an NLMSG_ERROR carrying `e` needs: NLM_F_CAPPED unless the request body is echoed, NLM_F_ACK_TLVS with an extack. */
export function errorFlags(e: NlErrorPayload): number {
  return (e.requestPayload === undefined ? NLM_F.CAPPED : 0) | (hasExtack(e) ? NLM_F.ACK_TLVS : 0);
}

/**
 * Write an NLMSG_ERROR payload (for tests and fakes); put `errorFlags(e)` in the message header.
 * With `requestPayload`, `request.length` must be 16 + its length (RangeError otherwise).
 */
export function encodeError(w: AttrWriter, e: NlErrorPayload): void {
  if (e.requestPayload !== undefined && e.request.length !== NLMSG_HDRLEN + e.requestPayload.length) {
    throw new RangeError(`request.length ${e.request.length} must be ${NLMSG_HDRLEN + e.requestPayload.length} when the request body is echoed`);
  }
  const at = w.reserve(ERRNO_LEN + NLMSG_HDRLEN);
  w.view().setInt32(at, e.error, true);
  encodeHeader(e.request, w.view(), at + ERRNO_LEN);
  if (e.requestPayload !== undefined) w.raw(e.requestPayload);
  const x = e.extack;
  if (x === undefined) return;
  if (x.message !== undefined) w.string(NLMSGERR_ATTRS.MSG, x.message);
  if (x.offset !== undefined) w.u32(NLMSGERR_ATTRS.OFFS, x.offset);
  if (x.missType !== undefined) w.u32(NLMSGERR_ATTRS.MISS_TYPE, x.missType);
  if (x.missNest !== undefined) w.u32(NLMSGERR_ATTRS.MISS_NEST, x.missNest);
}

