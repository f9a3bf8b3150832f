/**
 * Layer: netlink/nfqueue/ops — nfnetlink_queue operations.
 *
 * One NFQUEUE queue of one network namespace, bound to a NETLINK_NETFILTER socket made inside
 * it (queue numbers are per namespace): bind it (copy mode, maxlen, flags), receive its packet
 * messages as they come (the socket's readiness on the event loop, delivered to `onPacket`),
 * send verdicts without acks (one packet, or every packet up to an id in one
 * NFQNL_MSG_VERDICT_BATCH; many in one datagram), read the kernel's counters of the queue from
 * /proc/net/netfilter/nfnetlink_queue in that namespace, and unbind. The kernel keeps the
 * packets; in META copy mode only their metadata crosses.
 *
 * Packet messages come from the kernel (port id 0, sequence 0), so the socket hands them to its
 * notification sink; a receive buffer overrun (ENOBUFS: the kernel could not deliver, and
 * counted the packet in user_dropped) is reported to `onOverrun`.
 */
import { SysError } from '../../../errors.js';
import { readFileIn } from '../../../sys/index.js';
import type { RequestOptions } from '../../socket.js';
import { closeNetnsSocket, openNetnsSocket, type NetnsSocket, type NetnsSocketOptions } from '../../netns-socket.js';
import type { NlMessage } from '../../wire/message.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { NFQUEUE, nfqType } from '../family.js';
import {
  NFQA_CFG_F, NFQNL_MSG, decodePacket, encodeConfig, encodeVerdict, parseNfqProcStats,
  type NfqConfig, type NfqCopyMode, type NfqPacket, type NfqProcStats, type NfqVerdict,
} from '../schema/index.js';

/** The receive buffer a queue's socket asks for: room for tens of thousands of META packet messages. */
export const NFQUEUE_RECV_BUFFER_BYTES = 32 * 1024 * 1024;
/** Where the kernel lists the bound queues of the reading thread's namespace. */
const PROC_PATH = '/proc/thread-self/net/netfilter/nfnetlink_queue';

const PACKET = nfqType(NFQNL_MSG.PACKET);
const VERDICT = nfqType(NFQNL_MSG.VERDICT);
const VERDICT_BATCH = nfqType(NFQNL_MSG.VERDICT_BATCH);
const CONFIG = nfqType(NFQNL_MSG.CONFIG);

export interface NfQueueOptions extends Omit<NetnsSocketOptions, 'groups'> {
  /** The queue number (0–65535), as the NFQUEUE rule names it */
  queue: number;
  /** What of each packet is copied (default 'meta': nothing of the packet, only its metadata) */
  copy?: NfqCopyMode;
  /** At most this many bytes of payload (default 0xffff) */
  copyRange?: number;
  /** Packets the kernel holds before it drops new ones (or accepts them, with failOpen); default 1024 (the kernel's) */
  maxLen?: number;
  /** NFQA_CFG_F_FAIL_OPEN: accept packets instead of dropping them while the queue is full */
  failOpen?: boolean;
  /** NFQA_CFG_F_GSO: take GSO packets whole instead of having the kernel segment them (default true) */
  gso?: boolean;
  /** Called for each packet message, in order */
  onPacket(packet: NfqPacket): void;
  /** Called when the kernel could not deliver packet messages (ENOBUFS) */
  onOverrun?(err: SysError): void;
}

export class NfQueue {
  readonly queue: number;
  readonly #handle: NetnsSocket;
  #bound = false;

  private constructor(handle: NetnsSocket, queue: number) {
    this.#handle = handle;
    this.queue = queue;
  }

  /**
   * Open a socket in the namespace and bind it to the queue, with the copy mode, maxlen and flags
   * in the same CONFIG message. EBUSY when another socket holds the queue. Keeps the event loop
   * alive until unbind or close.
   */
  static async bind(options: NfQueueOptions, req?: RequestOptions): Promise<NfQueue> {
    const { queue, copy, copyRange, maxLen, failOpen, gso, onPacket, onOverrun, ...socketOptions } = options;
    if (!Number.isInteger(queue) || queue < 0 || queue > 0xffff) throw new RangeError(`queue must be an integer from 0 to 65535, got ${String(queue)}`);
    if (typeof onPacket !== 'function') throw new TypeError('NfQueue.bind needs an onPacket callback');
    const handle = openNetnsSocket(NFQUEUE, { recvBufferBytes: NFQUEUE_RECV_BUFFER_BYTES, ...socketOptions });
    const q = new NfQueue(handle, queue);
    handle.socket.setNotificationSink({
      message: (msg: NlMessage) => {
        if (msg.type === PACKET) onPacket(decodePacket(msg.payload));
      },
      overrun: (err) => onOverrun?.(err),
    });
    const flagsMask = NFQA_CFG_F.FAIL_OPEN | NFQA_CFG_F.GSO;
    const flags = (failOpen === true ? NFQA_CFG_F.FAIL_OPEN : 0) | (gso === false ? 0 : NFQA_CFG_F.GSO);
    const config: NfqConfig = { command: 'bind', copy: { mode: copy ?? 'meta', range: copyRange ?? 0xffff }, flags: { mask: flagsMask, value: flags } };
    if (maxLen !== undefined) config.maxLen = maxLen;
    try {
      await q.#config(config, req);
    } catch (err) {
      q.close();
      throw err;
    }
    q.#bound = true;
    handle.socket.holdOpen(true);
    return q;
  }

  #config(c: NfqConfig, req?: RequestOptions): Promise<unknown> {
    return this.#handle.socket.request(CONFIG, 0, (w) => encodeConfig(w, this.queue, c), undefined, req);
  }

  /** The namespace fd the queue is in (-1: the caller's namespace). */
  get netnsFd(): number {
    return this.#handle.netnsFd;
  }

  get bound(): boolean {
    return this.#bound && !this.#handle.socket.closed;
  }

  /** Change the maxlen or the copy mode of the bound queue. */
  async configure(c: Omit<NfqConfig, 'command'>, req?: RequestOptions): Promise<void> {
    await this.#config(c, req);
  }

  /** A verdict for one packet. False when the socket's send buffer was full (nothing sent). */
  verdict(id: number, verdict: NfqVerdict): boolean {
    return this.#handle.socket.send([{ type: VERDICT, body: (w: AttrWriter) => encodeVerdict(w, this.queue, id, verdict) }]);
  }

  /** One verdict for every packet still queued whose id is <= `id` (NFQNL_MSG_VERDICT_BATCH). */
  verdictUpTo(id: number, verdict: NfqVerdict): boolean {
    return this.#handle.socket.send([{ type: VERDICT_BATCH, body: (w: AttrWriter) => encodeVerdict(w, this.queue, id, verdict) }]);
  }

  /** Several verdicts in one datagram, in order: `upTo` ones are batches. */
  verdicts(list: readonly { id: number; verdict: NfqVerdict; upTo?: boolean }[]): boolean {
    return this.#handle.socket.send(list.map((v) => ({
      type: v.upTo === true ? VERDICT_BATCH : VERDICT,
      body: (w: AttrWriter) => encodeVerdict(w, this.queue, v.id, v.verdict),
    })));
  }

  /**
   * The kernel's counters of this queue (held now, dropped when full, dropped undelivered, the
   * last id), from /proc/net/netfilter/nfnetlink_queue read inside the namespace; undefined when
   * the queue is not bound.
   */
  procStats(): NfqProcStats | undefined {
    return readNfqProcStats(this.#handle.netnsFd).find((s) => s.queue === this.queue);
  }

  /**
   * Unbind the queue (the kernel drops what it still holds for it, since no verdict can come;
   * with the rule's bypass, new packets pass). Idempotent.
   */
  async unbind(req?: RequestOptions): Promise<void> {
    if (!this.bound) return;
    this.#bound = false;
    this.#handle.socket.holdOpen(false);
    await this.#config({ command: 'unbind' }, req);
  }

  /** Close the socket (the kernel unbinds the queue when its socket goes). Idempotent. */
  close(): void {
    if (this.#bound) this.#handle.socket.holdOpen(false);
    this.#bound = false;
    closeNetnsSocket(this.#handle);
  }
}

/** Every bound queue of a namespace (netnsFd -1: the caller's), from /proc; [] when nfnetlink_queue is not loaded. */
export function readNfqProcStats(netnsFd: number): NfqProcStats[] {
  let text: string;
  try {
    text = readFileIn(netnsFd, PROC_PATH);
  } catch (err) {
    if (err instanceof SysError && err.code === 'ENOENT') return [];
    throw err;
  }
  return parseNfqProcStats(text);
}

export type { NfqPacket, NfqProcStats, NfqVerdict, NfqCopyMode } from '../schema/index.js';
