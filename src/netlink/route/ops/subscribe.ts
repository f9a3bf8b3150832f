/**
 * Layer: netlink/route/ops — rtnetlink operations.
 *
 * Change notifications as an async iterable (`ip monitor link address route neigh nsid`).
 * The subscription has its own socket, joined to the multicast groups asked for. When the
 * kernel drops notifications (ENOBUFS) the stream yields a 'resync' event: whoever keeps a
 * picture of kernel state must dump again.
 */
import type { NotificationSink } from '../../socket.js';
import { openNetlinkSocket } from '../../native-transport.js';
import { RTNETLINK } from '../family.js';
import type { NlMessage } from '../../wire/message.js';
import { SysError } from '../../../errors.js';
import { errnoNumber } from '../../../errno.js';
import { RTM, RTNLGRP } from '../schema/constants.js';
import { NO_STATS, decodeLinkMessage } from '../schema/link.js';
import { decodeAddrMessage } from '../schema/addr.js';
import { decodeRouteMessage } from '../schema/route.js';
import { decodeNeighMessage } from '../schema/neigh.js';
import { decodeNsidMessage, type NsidMessage } from '../schema/nsid.js';
import { toAddress, type Address } from './addr.js';
import { toRoute, type Route } from './route.js';
import type { Link } from './link.js';
import type { Neighbor } from './neigh.js';

export type SubscriptionGroup = 'link' | 'addr' | 'route' | 'neigh' | 'nsid';

export type RtEvent =
  | { type: 'link'; action: 'new' | 'del'; link: Link }
  | { type: 'addr'; action: 'new' | 'del'; addr: Address }
  | { type: 'route'; action: 'new' | 'del'; route: Route }
  | { type: 'neigh'; action: 'new' | 'del'; neigh: Neighbor }
  | { type: 'nsid'; action: 'new' | 'del'; nsid: NsidMessage }
  | ResyncEvent;

/**
 * Events were lost: whoever keeps a picture of kernel state must dump again. `reason` says where:
 * 'kernel', the kernel dropped notifications (the socket's receive buffer overran, recv failed
 * with ENOBUFS); 'reader', this subscription dropped the events queued past `maxQueued` because
 * nobody read them, reported with the same ENOBUFS error.
 */
export interface ResyncEvent {
  type: 'resync';
  reason: 'kernel' | 'reader';
  error: SysError;
}

export interface SubscribeOptions {
  groups: readonly SubscriptionGroup[];
  /** Ends the iteration (cleanly) and closes the socket. */
  signal?: AbortSignal;
  /** Receive buffer for the subscription socket (default 4 MiB). */
  recvBufferBytes?: number;
  /** Events queued beyond this many, unread, are dropped for one 'resync' event. */
  maxQueued?: number;
}

const GROUPS: Record<SubscriptionGroup, number[]> = {
  link: [RTNLGRP.LINK],
  addr: [RTNLGRP.IPV4_IFADDR, RTNLGRP.IPV6_IFADDR],
  route: [RTNLGRP.IPV4_ROUTE, RTNLGRP.IPV6_ROUTE],
  neigh: [RTNLGRP.NEIGH],
  nsid: [RTNLGRP.NSID],
};

function decodeEvent(msg: NlMessage): RtEvent | undefined {
  switch (msg.type) {
    case RTM.NEWLINK: case RTM.DELLINK:
      // Without the counters: a notification's snapshot of them is of little use, and a burst
      // of events (a namespace torn down takes all its links) should stay cheap.
      return { type: 'link', action: msg.type === RTM.NEWLINK ? 'new' : 'del', link: decodeLinkMessage(msg.payload, NO_STATS) as Link };
    case RTM.NEWADDR: case RTM.DELADDR:
      return { type: 'addr', action: msg.type === RTM.NEWADDR ? 'new' : 'del', addr: toAddress(decodeAddrMessage(msg.payload)) };
    case RTM.NEWROUTE: case RTM.DELROUTE:
      return { type: 'route', action: msg.type === RTM.NEWROUTE ? 'new' : 'del', route: toRoute(decodeRouteMessage(msg.payload)) };
    case RTM.NEWNEIGH: case RTM.DELNEIGH:
      return { type: 'neigh', action: msg.type === RTM.NEWNEIGH ? 'new' : 'del', neigh: decodeNeighMessage(msg.payload) };
    case RTM.NEWNSID: case RTM.DELNSID:
      return { type: 'nsid', action: msg.type === RTM.NEWNSID ? 'new' : 'del', nsid: decodeNsidMessage(msg.payload) };
    default:
      return undefined;
  }
}

/** Open a subscription socket in the namespace behind `netnsFd` and stream its events. */
export function subscribe(netnsFd: number, options: SubscribeOptions): AsyncIterableIterator<RtEvent> {
  const groups = new Set<number>();
  for (const g of options.groups) {
    const numbers = GROUPS[g];
    if (numbers === undefined) throw new TypeError(`unknown subscription group ${JSON.stringify(g)}: link, addr, route, neigh or nsid`);
    numbers.forEach((n) => groups.add(n));
  }
  if (options.signal?.aborted) return (async function* () {})();

  const socket = openNetlinkSocket(RTNETLINK, { netnsFd, groups: [...groups], recvBufferBytes: options.recvBufferBytes });
  const maxQueued = options.maxQueued ?? 100_000;
  const queue: RtEvent[] = [];
  let wake: (() => void) | undefined;
  let done = false;

  const push = (ev: RtEvent): void => {
    if (queue.length >= maxQueued) {
      // The reader fell too far behind: what it would read is stale anyway. Start over.
      queue.length = 0;
      queue.push({ type: 'resync', reason: 'reader', error: new SysError(errnoNumber('ENOBUFS'), 'recv') });
    }
    queue.push(ev);
    wake?.();
  };
  const sink: NotificationSink = {
    message(msg) {
      try {
        const ev = decodeEvent(msg);
        if (ev) push(ev);
      } catch {
        // A notification we cannot decode is skipped; the codec is tested against the kernel.
      }
    },
    overrun(err) {
      queue.length = 0;
      push({ type: 'resync', reason: 'kernel', error: err });
    },
  };
  socket.setNotificationSink(sink);

  const finish = (): void => {
    if (done) return;
    done = true;
    socket.close();
    wake?.();
  };
  options.signal?.addEventListener('abort', finish, { once: true });

  const iterator: AsyncIterableIterator<RtEvent> = {
    async next(): Promise<IteratorResult<RtEvent>> {
      while (queue.length === 0 && !done) {
        socket.holdOpen(true);
        try {
          await new Promise<void>((resolve) => { wake = resolve; });
        } finally {
          wake = undefined;
          if (!socket.closed) socket.holdOpen(false);
        }
      }
      const ev = queue.shift();
      if (ev !== undefined) return { value: ev, done: false };
      return { value: undefined, done: true };
    },
    async return(): Promise<IteratorResult<RtEvent>> {
      options.signal?.removeEventListener('abort', finish);
      finish();
      queue.length = 0;
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
