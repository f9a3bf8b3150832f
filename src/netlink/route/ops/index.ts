/**
 * Layer: netlink/route/ops — rtnetlink operations.
 *
 * An rtnetlink handle bound to one network namespace: `rtnl.link.*`, `rtnl.addr.*`,
 * `rtnl.route.*`, `rtnl.neigh.*`, `rtnl.nsid.*`, `rtnl.qdisc.*`, `rtnl.tclass.*` and
 * `rtnl.subscribe()`. The socket is made
 * inside the namespace once and reused; no call ever switches the thread's namespace.
 */
import type { NetlinkSocketOptions } from '../../socket.js';
import { closeNetnsSocket, openNetnsSocket, type NetnsSocket } from '../../netns-socket.js';
import { RTNETLINK } from '../family.js';
import { LinkOps } from './link.js';
import { AddrOps } from './addr.js';
import { RouteOps } from './route.js';
import { NeighOps } from './neigh.js';
import { NsidOps } from './nsid.js';
import { QdiscOps } from './qdisc.js';
import { ClassOps } from './tclass.js';
import { subscribe, type RtEvent, type SubscribeOptions } from './subscribe.js';

export interface RtnlOptions extends Omit<NetlinkSocketOptions, 'netnsFd' | 'groups'> {
  /**
   * The namespace: a path to a netns file (opened and owned by the handle), an open netns fd
   * (which the caller keeps open until close), or omitted for the caller's namespace.
   */
  netns?: string | number;
}

export class Rtnl {
  readonly link: LinkOps;
  readonly addr: AddrOps;
  readonly route: RouteOps;
  readonly neigh: NeighOps;
  readonly nsid: NsidOps;
  /** Queueing disciplines (`tc qdisc`). */
  readonly qdisc: QdiscOps;
  /** Traffic classes (`tc class`; `class` is a keyword). */
  readonly tclass: ClassOps;
  readonly #handle: NetnsSocket;

  private constructor(handle: NetnsSocket) {
    this.#handle = handle;
    const { socket } = handle;
    this.link = new LinkOps(socket);
    this.addr = new AddrOps(socket);
    this.route = new RouteOps(socket);
    this.neigh = new NeighOps(socket);
    this.nsid = new NsidOps(socket);
    this.qdisc = new QdiscOps(socket);
    this.tclass = new ClassOps(socket);
  }

  /** Open a handle (synchronous: one socket made inside the namespace). */
  static open(options: RtnlOptions = {}): Rtnl {
    return new Rtnl(openNetnsSocket(RTNETLINK, options));
  }

  /** Run `fn` with a handle opened for it (`options` as for `open`), closed afterwards whatever happens. */
  static async with<T>(options: RtnlOptions, fn: (rtnl: Rtnl) => Promise<T>): Promise<T> {
    const rtnl = Rtnl.open(options);
    try {
      return await fn(rtnl);
    } finally {
      rtnl.close();
    }
  }

  /** The namespace fd this handle works in (-1: the caller's namespace). */
  get netnsFd(): number {
    return this.#handle.netnsFd;
  }

  get closed(): boolean {
    return this.#handle.socket.closed;
  }

  /** Stream link/addr/route/neigh/nsid changes in this namespace. */
  subscribe(options: SubscribeOptions): AsyncIterableIterator<RtEvent> {
    return subscribe(this.#handle.netnsFd, options);
  }

  /** Close the socket (and the netns fd if the handle opened it). Idempotent. */
  close(): void {
    closeNetnsSocket(this.#handle);
  }
}

export type { LinkRef } from './ref.js';
export type { Link, LinkAddOptions, LinkSetOptions, LinkListOptions, LinkCommonOptions, LinkGetOptions } from './link.js';
export type { Address, AddressOptions, AddressListOptions, Scope } from './addr.js';
export type { Route, RouteOptions, RouteListOptions, RouteGetOptions, RouteType } from './route.js';
export type { Neighbor, NeighborOptions, NeighborListOptions } from './neigh.js';
export type { Qdisc, QdiscSpec, QdiscRef, QdiscKindOptions, QdiscListOptions, TcPlace } from './qdisc.js';
export type { TrafficClass, ClassSpec, ClassKindOptions } from './tclass.js';
export type { RtEvent, ResyncEvent, SubscribeOptions, SubscriptionGroup } from './subscribe.js';
export { NO_STATS } from '../schema/link.js';
export { checkLinkName } from './ref.js';
