/**
 * Layer: netlink/nfqueue/schema — nfnetlink_queue schema, pure.
 *
 * The message bodies of nfnetlink_queue (<linux/netfilter/nfnetlink_queue.h>), each after a
 * struct nfgenmsg whose res_id is the queue number:
 *
 * - CONFIG (to the kernel): NFQA_CFG_CMD {command u8, pad, pf be16}, NFQA_CFG_PARAMS {copy_range
 *   be32, copy_mode u8} (packed, 5 bytes: nla_len 9), NFQA_CFG_QUEUE_MAXLEN be32, NFQA_CFG_FLAGS
 *   and NFQA_CFG_MASK be32 (the values, and which flags to change), in libnetfilter_queue's order;
 * - PACKET (from the kernel): NFQA_PACKET_HDR {packet_id be32, hw_protocol be16, hook u8}, the
 *   interfaces (NFQA_IFINDEX_*), NFQA_TIMESTAMP {sec, usec be64} when the skb has one, NFQA_MARK,
 *   NFQA_SKB_INFO, NFQA_CAP_LEN, NFQA_PAYLOAD (as much as copy_range allows; none in META mode);
 * - VERDICT: NFQA_VERDICT_HDR {verdict be32, id be32} (optionally NFQA_MARK), for one packet;
 * - VERDICT_BATCH: the same header, for every packet still queued whose id is <= id.
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { NLA_HDRLEN, NLA_TYPE_MASK } from '../../wire/attr.js';
import { NFGENMSG_LEN, NFPROTO, encodeNfgenmsg } from '../../wire/nfgen.js';
import { NFQA, NFQA_CFG, NFQNL_CFG_CMD, NFQNL_CONFIG_PARAMS_LEN, NFQNL_COPY, NFQNL_PACKET_HDR_LEN, NF } from './constants.js';

export type NfqCommand = Lowercase<keyof typeof NFQNL_CFG_CMD>;
export type NfqCopyMode = Lowercase<keyof typeof NFQNL_COPY>;
export type NfqVerdict = 'accept' | 'drop';

/** What a CONFIG message sets; each part is optional (the kernel takes them in one message). */
export interface NfqConfig {
  /** NFQA_CFG_CMD: bind this socket to the queue, or unbind it */
  command?: NfqCommand;
  /** NFQA_CFG_CMD's pf (only PF_BIND/PF_UNBIND read it; 0 otherwise) */
  pf?: number;
  /** NFQA_CFG_PARAMS: what of each packet is copied, and at most how many bytes */
  copy?: { mode: NfqCopyMode; range: number };
  /** NFQA_CFG_QUEUE_MAXLEN: packets the kernel holds for the queue before dropping (or failing open) */
  maxLen?: number;
  /** NFQA_CFG_MASK + NFQA_CFG_FLAGS: the NFQA_CFG_F_* bits in `mask` are set to their value in `flags` */
  flags?: { mask: number; value: number };
}

/** One packet message: its header and what the kernel says about the packet. */
export interface NfqPacket {
  /** The queue (nfgenmsg res_id) */
  queue: number;
  /** packet_id: per queue, increasing by one for each packet queued */
  id: number;
  /** hw_protocol: the link-layer protocol (ETH_P_IP 0x0800, ETH_P_IPV6 0x86dd), host order here */
  hwProtocol: number;
  /** The netfilter hook (NF_INET_PRE_ROUTING 0 …) */
  hook: number;
  /** nfgen_family: the packet's protocol family (NFPROTO_IPV4, NFPROTO_IPV6 …) */
  family: number;
  /** NFQA_IFINDEX_INDEV / OUTDEV */
  indev?: number;
  outdev?: number;
  /** NFQA_TIMESTAMP, in microseconds since the epoch (only when the skb was timestamped) */
  timestampUs?: bigint;
  /** NFQA_MARK */
  mark?: number;
  /** NFQA_SKB_INFO (NFQA_SKB_*) */
  skbInfo?: number;
  /** NFQA_CAP_LEN: the packet's length when the payload was cut to copy_range */
  capLen?: number;
  /** NFQA_PAYLOAD (a view into the message; copy it to keep it) */
  payload?: Uint8Array;
}

const cmdCode = (c: NfqCommand): number => {
  const v = NFQNL_CFG_CMD[c.toUpperCase() as keyof typeof NFQNL_CFG_CMD];
  if (v === undefined) throw new TypeError(`unknown nfqueue command ${JSON.stringify(c)}`);
  return v;
};
const copyCode = (m: NfqCopyMode): number => {
  const v = NFQNL_COPY[m.toUpperCase() as keyof typeof NFQNL_COPY];
  if (v === undefined) throw new TypeError(`unknown nfqueue copy mode ${JSON.stringify(m)}`);
  return v;
};

function checkU16(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`${what} must be an integer from 0 to 65535, got ${n}`);
}
function checkU32(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`${what} must be an integer from 0 to 4294967295, got ${n}`);
}

/** A CONFIG message body for queue `queue` (nfgen_family AF_UNSPEC, as libnetfilter_queue sends). */
export function encodeConfig(w: AttrWriter, queue: number, c: NfqConfig): void {
  checkU16(queue, 'queue number');
  encodeNfgenmsg(w, { family: NFPROTO.UNSPEC, resId: queue });
  if (c.command !== undefined) {
    const code = cmdCode(c.command);
    w.struct(NFQA_CFG.CMD, (x) => {
      const at = x.reserve(4);
      const dv = x.view();
      dv.setUint8(at, code);
      dv.setUint8(at + 1, 0);
      dv.setUint16(at + 2, c.pf ?? 0, false);
    });
  }
  if (c.copy !== undefined) {
    const mode = copyCode(c.copy.mode);
    checkU32(c.copy.range, 'copy range');
    w.struct(NFQA_CFG.PARAMS, (x) => {
      const at = x.reserve(8); // 5 bytes and their padding, zeroed
      const dv = x.view();
      dv.setUint32(at, c.copy!.range, false);
      dv.setUint8(at + 4, mode);
      for (let i = NFQNL_CONFIG_PARAMS_LEN; i < 8; i++) dv.setUint8(at + i, 0);
    });
    fixLength(w, NFQNL_CONFIG_PARAMS_LEN);
  }
  if (c.maxLen !== undefined) {
    checkU32(c.maxLen, 'queue maxlen');
    w.be32(NFQA_CFG.QUEUE_MAXLEN, c.maxLen);
  }
  if (c.flags !== undefined) {
    checkU32(c.flags.mask, 'flags mask');
    checkU32(c.flags.value, 'flags');
    w.be32(NFQA_CFG.FLAGS, c.flags.value);
    w.be32(NFQA_CFG.MASK, c.flags.mask);
  }
}

/**
 * The attribute just written holds `len` bytes of value (its 8-byte reservation keeps the next
 * attribute aligned): nla_len says 4 + len, as libmnl writes a packed struct.
 */
function fixLength(w: AttrWriter, len: number): void {
  const end = w.length;
  const at = end - 8 - NLA_HDRLEN;
  w.view().setUint16(at, NLA_HDRLEN + len, true);
}

const VERDICT_CODE: Record<NfqVerdict, number> = { accept: NF.ACCEPT, drop: NF.DROP };

function verdictCode(v: NfqVerdict): number {
  const code = VERDICT_CODE[v];
  if (code === undefined) throw new TypeError(`unknown verdict ${JSON.stringify(v)}: accept or drop`);
  return code;
}

/** A VERDICT (one packet) or VERDICT_BATCH (every queued packet with id <= `id`) body. */
export function encodeVerdict(w: AttrWriter, queue: number, id: number, verdict: NfqVerdict): void {
  checkU16(queue, 'queue number');
  checkU32(id, 'packet id');
  const code = verdictCode(verdict);
  encodeNfgenmsg(w, { family: NFPROTO.UNSPEC, resId: queue });
  w.struct(NFQA.VERDICT_HDR, (x) => {
    const at = x.reserve(8);
    const dv = x.view();
    dv.setUint32(at, code, false);
    dv.setUint32(at + 4, id, false);
  });
}

/** Read a PACKET message body. DecodeError when it has no packet header or a malformed attribute. */
export function decodePacket(payload: Uint8Array): NfqPacket {
  if (payload.length < NFGENMSG_LEN) throw new DecodeError('NFQNL_MSG_PACKET', 0, `needs ${NFGENMSG_LEN} bytes, got ${payload.length}`);
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const p: NfqPacket = { queue: dv.getUint16(2, false), id: -1, hwProtocol: 0, hook: 0, family: payload[0]! };
  // One pass over the attributes, reading the fixed ones in place (this runs for every packet).
  let off = NFGENMSG_LEN;
  const end = payload.length;
  while (off < end) {
    if (end - off < NLA_HDRLEN) throw new DecodeError('nlattr', off, `${end - off} stray bytes after the last attribute`);
    const len = dv.getUint16(off, true);
    const type = dv.getUint16(off + 2, true) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN || off + len > end) throw new DecodeError('nlattr', off, `nla_len ${len} is outside the message`);
    const v = off + NLA_HDRLEN;
    const n = len - NLA_HDRLEN;
    const need = (size: number, name: string): void => {
      if (n < size) throw new DecodeError(name, off, `expected at least ${size} bytes, got ${n}`);
    };
    switch (type) {
      case NFQA.PACKET_HDR:
        need(NFQNL_PACKET_HDR_LEN, 'NFQA_PACKET_HDR');
        p.id = dv.getUint32(v, false);
        p.hwProtocol = dv.getUint16(v + 4, false);
        p.hook = dv.getUint8(v + 6);
        break;
      case NFQA.IFINDEX_INDEV:
        need(4, 'NFQA_IFINDEX_INDEV');
        p.indev = dv.getUint32(v, false);
        break;
      case NFQA.IFINDEX_OUTDEV:
        need(4, 'NFQA_IFINDEX_OUTDEV');
        p.outdev = dv.getUint32(v, false);
        break;
      case NFQA.TIMESTAMP:
        need(16, 'NFQA_TIMESTAMP');
        p.timestampUs = dv.getBigUint64(v, false) * 1_000_000n + dv.getBigUint64(v + 8, false);
        break;
      case NFQA.MARK:
        need(4, 'NFQA_MARK');
        p.mark = dv.getUint32(v, false);
        break;
      case NFQA.SKB_INFO:
        need(4, 'NFQA_SKB_INFO');
        p.skbInfo = dv.getUint32(v, false);
        break;
      case NFQA.CAP_LEN:
        need(4, 'NFQA_CAP_LEN');
        p.capLen = dv.getUint32(v, false);
        break;
      case NFQA.PAYLOAD:
        p.payload = payload.subarray(v, v + n);
        break;
      default:
        break;
    }
    off += (len + 3) & ~3;
  }
  if (p.id < 0) throw new DecodeError('NFQNL_MSG_PACKET', NFGENMSG_LEN, 'no NFQA_PACKET_HDR');
  return p;
}
