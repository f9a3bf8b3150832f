/**
 * Layer: netlink/socket.
 *
 * How a family's handle (Rtnl, Nft, Conntrack) gets its socket: made inside a namespace named by a
 * path (opened here, owned by the handle), by an open fd (the caller's, kept open by the caller
 * until the handle closes), or by nothing (the caller's namespace); or adopted, already bound
 * in there. Whatever fails on the way is undone, and an adopted socket is closed then too:
 * adopting means owning.
 */
import { close, closeNetns, openNetns } from '../sys/index.js';
import type { NetlinkFamily } from './family.js';
import type { NetlinkSocket, NetlinkSocketOptions } from './socket.js';
import { openNetlinkSocket } from './native-transport.js';

/** What a handle's `open` takes: the namespace, and the socket's own options. */
export interface NetnsSocketOptions extends Omit<NetlinkSocketOptions, 'netnsFd'> {
  /**
   * The namespace: a path to a netns file (opened and owned by the handle), an open netns fd
   * (which the caller keeps open until close), or omitted for the caller's namespace.
   */
  netns?: string | number;
}

/** A socket of one family in one namespace, and who closes the namespace fd. */
export interface NetnsSocket {
  readonly socket: NetlinkSocket;
  /** The namespace fd the socket was made in (-1: the caller's namespace). */
  readonly netnsFd: number;
  /** Whether the fd was opened here from a path (and so is closed with the socket). */
  readonly ownsFd: boolean;
}

/** Open a socket of `family` inside the namespace of `options.netns` (synchronous). */
export function openNetnsSocket(family: NetlinkFamily, options: NetnsSocketOptions = {}): NetnsSocket {
  const { netns, ...socketOptions } = options;
  const ownsFd = typeof netns === 'string';
  let fd: number;
  try {
    fd = typeof netns === 'string' ? openNetns(netns) : netns ?? -1;
  } catch (err) {
    try {
      if (options.adopt) close(options.adopt.fd); // adopted means owned, also when this fails
    } catch {
      // the error that matters is the one above
    }
    throw err;
  }
  try {
    return { socket: openNetlinkSocket(family, { ...socketOptions, netnsFd: fd }), netnsFd: fd, ownsFd };
  } catch (err) {
    if (ownsFd) closeNetns(fd);
    throw err;
  }
}

/** Close what openNetnsSocket opened: the socket, and the namespace fd if it opened that. Idempotent. */
export function closeNetnsSocket(s: NetnsSocket): void {
  if (s.socket.closed) return;
  s.socket.close();
  if (s.ownsFd) closeNetns(s.netnsFd);
}
