/**
 * Layer: sys.
 *
 * Sockets made inside a network namespace, and the few calls the netlink client needs on
 * them. Every socket is SOCK_CLOEXEC|SOCK_NONBLOCK; send/recv never block and return -1
 * instead of throwing EAGAIN.
 */
import { close as fsClose } from 'node:fs';
import { native, type PollHandle } from './binding.js';
import { UV_READABLE } from './constants.js';

/**
 * Create a socket inside the namespace behind `nsFd` (or in the caller's namespace for -1).
 * The thread switches in and straight back inside one native call; no JS runs in between.
 */
export function socketIn(nsFd: number, domain: number, type: number, protocol: number): number {
  return native().socketIn(nsFd, domain, type, protocol);
}

/**
 * A netlink socket of `protocol` made inside the namespace behind `nsFd` (-1: the caller's),
 * bound, with extended ACKs and strict dump checking on and a receive buffer of
 * `recvBufferBytes` (forced past rmem_max when the process may). One native call.
 */
export function openNetlink(nsFd: number, protocol: number, recvBufferBytes: number): { fd: number; portId: number } {
  const [fd, portId] = native().openNetlink(nsFd, protocol, recvBufferBytes);
  return { fd, portId };
}

/** Bind to a raw sockaddr. */
export function bind(fd: number, sockaddr: Uint8Array): void {
  native().bind(fd, sockaddr);
}

/** The socket's own address (getsockname) as raw sockaddr bytes; the kernel's port after a bind to port 0. */
export function sockName(fd: number): Uint8Array {
  const out = new Uint8Array(128); // sockaddr_storage
  const len = native().sockName(fd, out);
  return out.subarray(0, Math.min(len, out.length));
}

export function setsockoptInt(fd: number, level: number, name: number, value: number): void {
  native().setsockoptInt(fd, level, name, value);
}

export function setsockoptBytes(fd: number, level: number, name: number, value: Uint8Array): void {
  native().setsockoptBytes(fd, level, name, value);
}

/** Send one datagram; -1 when the socket would block. */
export function send(fd: number, data: Uint8Array, sockaddr: Uint8Array | null = null): number {
  return native().sendTo(fd, data, sockaddr);
}

/** Receive one datagram into `buffer`; -1 when nothing is queued. */
export function recv(fd: number, buffer: Uint8Array, flags = 0): number {
  return native().recv(fd, buffer, flags);
}

export function close(fd: number): void {
  native().close(fd);
}

/**
 * Close an fd on libuv's thread pool: for a socket whose release waits in the kernel, as an
 * AF_PACKET socket's does (packet_release → synchronize_net, one RCU grace period: 10–19 ms on
 * this project's machines). The caller goes on at once; a process that exits meanwhile waits
 * for it beside its other work. A failure (EBADF) is not reported: the fd is gone either way.
 */
export function closeInBackground(fd: number): void {
  fsClose(fd, () => undefined);
}

/**
 * Readiness of an fd on the event loop (uv_poll). Stop it before closing the fd. Starts
 * referenced; `ref(false)` lets the process exit while it waits.
 */
export class Poller {
  #handle: PollHandle | undefined;

  constructor(fd: number, onReadable: () => void) {
    this.#handle = native().pollStart(fd, UV_READABLE, (status) => {
      // A negative status (e.g. EBADF) still means "look at the fd": recv reports the error.
      void status;
      onReadable();
    });
  }

  ref(on: boolean): void {
    if (this.#handle !== undefined) native().pollRef(this.#handle, on);
  }

  stop(): void {
    if (this.#handle === undefined) return;
    native().pollStop(this.#handle);
    this.#handle = undefined;
  }
}
