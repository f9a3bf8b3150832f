/**
 * Layer: netlink/socket. Imports: sys (not its binding), netlink/socket, errors.ts.
 *
 * A real netlink socket: made inside a namespace by socketIn (CLOEXEC|NONBLOCK), with
 * extended ACKs and strict dump checking on, a large receive buffer, optional multicast
 * groups, and uv_poll readiness.
 */
import {
  AF_NETLINK, MSG_TRUNC, NETLINK_ADD_MEMBERSHIP, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK, NETLINK_ROUTE, Poller,
  SOCK_RAW, SOL_NETLINK, SOL_SOCKET, SO_RCVBUF, SO_RCVBUFFORCE, bind, close, netlinkPortId, recv, send, setsockoptInt,
  sockaddrNl, socketIn,
} from '../sys/index.js';
import { SysError } from '../errors.js';
import { NetlinkSocket, type NetlinkSocketOptions } from './socket.js';
import type { Transport } from './transport.js';

const DEFAULT_RCVBUF = 4 * 1024 * 1024;

function setRecvBuffer(fd: number, bytes: number): void {
  try {
    setsockoptInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, bytes);
  } catch (err) {
    if (!(err instanceof SysError) || err.code !== 'EPERM') throw err;
    setsockoptInt(fd, SOL_SOCKET, SO_RCVBUF, bytes);
  }
}

class NativeTransport implements Transport {
  readonly portId: number;
  readonly #fd: number;
  #poller: Poller | undefined;

  constructor(fd: number, portId: number) {
    this.#fd = fd;
    this.portId = portId;
  }

  send(bytes: Uint8Array): number {
    return send(this.#fd, bytes);
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
    close(this.#fd);
  }
}

/** Open a netlink socket in the namespace given by `netnsFd` (or the caller's). */
export function openTransport(options: NetlinkSocketOptions = {}): Transport {
  const fd = socketIn(options.netnsFd ?? -1, AF_NETLINK, SOCK_RAW, options.protocol ?? NETLINK_ROUTE);
  try {
    setsockoptInt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
    setsockoptInt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);
    setRecvBuffer(fd, options.recvBufferBytes ?? DEFAULT_RCVBUF);
    bind(fd, sockaddrNl());
    const portId = netlinkPortId(fd);
    for (const group of options.groups ?? []) setsockoptInt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group);
    return new NativeTransport(fd, portId);
  } catch (err) {
    close(fd);
    throw err;
  }
}

/** A NetlinkSocket over a real netlink socket. */
export function openNetlinkSocket(options: NetlinkSocketOptions = {}): NetlinkSocket {
  const transport = openTransport(options);
  try {
    return new NetlinkSocket(transport, { timeoutMs: options.timeoutMs });
  } catch (err) {
    transport.close();
    throw err;
  }
}
