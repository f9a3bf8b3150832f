/**
 * Layer: netlink/socket.
 *
 * A real netlink socket: made inside a namespace by openNetlink (CLOEXEC|NONBLOCK), with
 * extended ACKs and strict dump checking on, a large receive buffer, optional multicast
 * groups, capped acks and a larger send buffer, and uv_poll readiness; sends in place or on
 * libuv's thread pool.
 */
import { write as fsWrite } from 'node:fs';
import {
  MSG_TRUNC, NETLINK_ADD_MEMBERSHIP, NETLINK_CAP_ACK, Poller, SOL_NETLINK, SOL_SOCKET, SO_SNDBUF, SO_SNDBUFFORCE, close, openNetlink, recv, send,
  setsockoptInt,
} from '../sys/index.js';
import { SysError } from '../errors.js';
import { errnoNumber } from '../errno.js';
import { NetlinkSocket, type NetlinkSocketOptions } from './socket.js';
import type { NetlinkFamily } from './family.js';
import type { Transport } from './transport.js';

/** The receive buffer every netlink socket asks for unless told otherwise. */
export const DEFAULT_RECV_BUFFER_BYTES = 4 * 1024 * 1024;

class NativeTransport implements Transport {
  readonly portId: number;
  readonly #fd: number;
  #poller: Poller | undefined;
  /** Sends on the thread pool not yet returned: the fd is closed only after them (its number could be reused under them). */
  #inBackground = 0;
  #closeWhenIdle = false;

  constructor(fd: number, portId: number) {
    this.#fd = fd;
    this.portId = portId;
  }

  send(bytes: Uint8Array): number {
    return send(this.#fd, bytes);
  }

  sendInBackground(bytes: Uint8Array, done: (err: Error | undefined) => void): void {
    this.#inBackground++;
    // write(2) on a netlink socket is a sendmsg to the kernel (nlmsg_pid 0).
    fsWrite(this.#fd, bytes, 0, bytes.length, null, (err) => {
      if (--this.#inBackground === 0 && this.#closeWhenIdle) close(this.#fd);
      done(err === null ? undefined : new SysError(err.errno ?? errnoNumber('EIO'), 'sendmsg'));
    });
  }

  recv(buffer: Uint8Array): number {
    return recv(this.#fd, buffer, MSG_TRUNC);
  }

  watch(onReadable: () => void): void {
    this.#poller?.stop();
    this.#poller = new Poller(this.#fd, onReadable);
  }

  ref(on: boolean): void {
    this.#poller?.ref(on);
  }

  close(): void {
    this.#poller?.stop(); // before the fd goes, or uv_poll would watch a reused number
    this.#poller = undefined;
    if (this.#inBackground > 0) this.#closeWhenIdle = true;
    else close(this.#fd);
  }
}

/** SO_SNDBUFFORCE (needs CAP_NET_ADMIN), else SO_SNDBUF (capped by net.core.wmem_max). */
function setSendBuffer(fd: number, bytes: number): void {
  try {
    setsockoptInt(fd, SOL_SOCKET, SO_SNDBUFFORCE, bytes);
  } catch (err) {
    if (!(err instanceof SysError && err.code === 'EPERM')) throw err;
    setsockoptInt(fd, SOL_SOCKET, SO_SNDBUF, bytes);
  }
}

/** Open a netlink socket of `protocol` in the namespace given by `netnsFd` (or the caller's), or adopt one. */
export function openTransport(protocol: number, options: NetlinkSocketOptions = {}): Transport {
  const { fd, portId } =
    options.adopt ?? openNetlink(options.netnsFd ?? -1, protocol, options.recvBufferBytes ?? DEFAULT_RECV_BUFFER_BYTES);
  try {
    for (const group of options.groups ?? []) setsockoptInt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group);
    if (options.capAck) setsockoptInt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
    if (options.sendBufferBytes !== undefined) setSendBuffer(fd, options.sendBufferBytes);
    return new NativeTransport(fd, portId);
  } catch (err) {
    close(fd);
    throw err;
  }
}

/** A NetlinkSocket of `family` over a real netlink socket of its protocol. */
export function openNetlinkSocket(family: NetlinkFamily, options: NetlinkSocketOptions = {}): NetlinkSocket {
  const transport = openTransport(family.protocol, options);
  try {
    return new NetlinkSocket(transport, family, { timeoutMs: options.timeoutMs });
  } catch (err) {
    transport.close();
    throw err;
  }
}
