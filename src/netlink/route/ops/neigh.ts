/**
 * Layer: netlink/route/ops — rtnetlink operations.
 *
 * Neighbours (RTM_*NEIGH): ARP/NDP entries and bridge FDB entries (family AF_BRIDGE). An FDB
 * entry is permanent as `bridge fdb … permanent` makes it (NUD_PERMANENT|NUD_NOARP); `replace`
 * creates or overwrites (NLM_F_REPLACE: idempotent, and it heals a learned or stale entry).
 */
import type { NetlinkSocket, RequestOptions } from '../../socket.js';
import { NLM_F } from '../../wire/header.js';
import { AF, NTF, NUD, RTM } from '../schema/constants.js';
import { decodeNeighMessage, encodeNeighMessage, type NeighMessage } from '../schema/neigh.js';
import { parseIp } from '../../../net/cidr.js';
import type { AttrWriter } from '../../wire/attr.js';
import type { NetlinkError } from '../../../errors.js';

export type Neighbor = NeighMessage;

export interface NeighborOptions {
  /** ifindex the entry belongs to. */
  index: number;
  /** IP address (for an FDB entry: the remote VTEP, optional). */
  dst?: string;
  /** Link-layer address. */
  lladdr?: string;
  /** NUD_* state; default permanent (for an FDB entry permanent|noarp, as `bridge fdb`). */
  state?: number;
  /** 'inet' (from dst), or 'bridge' for an FDB entry (`bridge fdb`). */
  family?: 'inet' | 'bridge';
  /** NTF_SELF: program the device itself (vxlan FDB). */
  self?: boolean;
  /** NTF_MASTER: program the bridge the device is enslaved to. */
  master?: boolean;
  /** NTF_STICKY: a bridge FDB entry learning never moves to another port (`bridge fdb … sticky`). */
  sticky?: boolean;
  vni?: number;
  vlan?: number;
  /** NDA_PORT: the remote VTEP's UDP port (FDB entries; default: the device's). */
  port?: number;
}

export interface NeighborListOptions {
  index?: number;
  family?: 4 | 6 | 'bridge';
}

function buildMessage(o: NeighborOptions, forDelete: boolean): NeighMessage {
  if (!Number.isInteger(o.index) || o.index <= 0) throw new TypeError(`invalid link index ${String(o.index)}`);
  const dst = o.dst === undefined ? undefined : parseIp(o.dst, 'neighbour address');
  let family: number;
  if (o.family === 'bridge') family = AF.BRIDGE;
  else if (dst !== undefined) family = dst.family === 4 ? AF.INET : AF.INET6;
  else throw new TypeError('a neighbour entry needs dst (or family: bridge for an FDB entry)');
  let flags = 0;
  if (o.self) flags |= NTF.SELF;
  if (o.master) flags |= NTF.MASTER;
  if (o.sticky) flags |= NTF.STICKY;
  return {
    family,
    index: o.index,
    // `bridge fdb del` sends the default state too; `ip neigh del` none
    state: forDelete && family !== AF.BRIDGE ? 0 : o.state ?? (family === AF.BRIDGE ? NUD.PERMANENT | NUD.NOARP : NUD.PERMANENT),
    flags,
    dst: dst?.address,
    lladdr: forDelete ? undefined : o.lladdr,
    vni: o.vni,
    vlan: o.vlan,
    port: o.port,
  };
}

/** How many messages replaceMany/delMany put in one datagram (~60 bytes each, acks 36 bytes each). */
export const NEIGH_BATCH_SIZE = 256;

export class NeighOps {
  readonly #socket: NetlinkSocket;

  constructor(socket: NetlinkSocket) {
    this.#socket = socket;
  }

  /** `ip neigh add IP lladdr MAC dev DEV nud permanent` (exclusive: EEXIST if present). */
  async add(options: NeighborOptions, req?: RequestOptions): Promise<void> {
    const msg = buildMessage(options, false);
    await this.#socket.request(RTM.NEWNEIGH, NLM_F.CREATE | NLM_F.EXCL, (w) => encodeNeighMessage(w, msg), undefined, req);
  }

  /** `ip neigh replace …` / `bridge fdb replace …`. */
  async replace(options: NeighborOptions, req?: RequestOptions): Promise<void> {
    const msg = buildMessage(options, false);
    await this.#socket.request(RTM.NEWNEIGH, NLM_F.CREATE | NLM_F.REPLACE, (w) => encodeNeighMessage(w, msg), undefined, req);
  }

  /** `ip neigh del IP dev DEV` / `bridge fdb del MAC dev DEV [self|master]`. ENOENT if absent. */
  async del(options: NeighborOptions, req?: RequestOptions): Promise<void> {
    const msg = buildMessage(options, true);
    if (msg.family === AF.BRIDGE) msg.lladdr = options.lladdr;
    await this.#socket.request(RTM.DELNEIGH, 0, (w) => encodeNeighMessage(w, msg), undefined, req);
  }

  /**
   * `replace` of many entries, NEIGH_BATCH_SIZE to a datagram (what `ip -batch` / `bridge -batch`
   * do with one process). Every entry is checked before anything is sent; the first refusal
   * rejects (the entries before it are written).
   */
  async replaceMany(entries: readonly NeighborOptions[], req?: RequestOptions): Promise<void> {
    const msgs = entries.map((o) => buildMessage(o, false));
    for (let at = 0; at < msgs.length; at += NEIGH_BATCH_SIZE) {
      await this.#socket.requestBatch(msgs.slice(at, at + NEIGH_BATCH_SIZE).map((m) => ({
        type: RTM.NEWNEIGH, flags: NLM_F.CREATE | NLM_F.REPLACE, body: (w: AttrWriter) => encodeNeighMessage(w, m),
      })), req);
    }
  }

  /** `del` of many entries, NEIGH_BATCH_SIZE to a datagram; an entry already gone (ENOENT) is counted as gone, not an error. */
  async delMany(entries: readonly NeighborOptions[], req?: RequestOptions): Promise<{ deleted: number; gone: number }> {
    const msgs = entries.map((o) => {
      const m = buildMessage(o, true);
      if (m.family === AF.BRIDGE) m.lladdr = o.lladdr;
      return m;
    });
    const report = { deleted: 0, gone: 0 };
    for (let at = 0; at < msgs.length; at += NEIGH_BATCH_SIZE) {
      const replies = await this.#socket.requestBatch(msgs.slice(at, at + NEIGH_BATCH_SIZE).map((m) => ({
        type: RTM.DELNEIGH, body: (w: AttrWriter) => encodeNeighMessage(w, m), tolerate: (e: NetlinkError) => (e.code === 'ENOENT' ? 'gone' : undefined),
      })), req);
      for (const r of replies) {
        if (r.length === 0) report.deleted++;
        else report.gone++;
      }
    }
    return report;
  }

  /** `ip neigh show [dev DEV]` / `bridge fdb show`. */
  async list(options: NeighborListOptions = {}, req?: RequestOptions): Promise<Neighbor[]> {
    const family = options.family === 4 ? AF.INET : options.family === 6 ? AF.INET6 : options.family === 'bridge' ? AF.BRIDGE : AF.UNSPEC;
    // Strict dump checking refuses filters in the ndmsg header; filter here instead.
    const filter: NeighMessage = { family, index: 0 };
    return this.#socket.dump(RTM.GETNEIGH, (w) => encodeNeighMessage(w, filter), (m) => {
      const n = decodeNeighMessage(m.payload);
      if (options.index !== undefined && n.index !== options.index) return undefined;
      return n;
    }, req);
  }
}

export { NTF, NUD };
