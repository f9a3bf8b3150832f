/**
 * Layer: netlink/socket.
 *
 * What NetlinkSocket needs from the thing underneath: datagrams out and in, readiness, and
 * a port id. Implementations: native-transport.ts (a real netlink socket inside a namespace)
 * and test fakes that play the kernel.
 *
 * Obligations: send and recv never block (-1 means "would block"); recv reports the real
 * datagram size even when it exceeds the buffer (MSG_TRUNC); a recv error (e.g. ENOBUFS when
 * the kernel dropped messages) is thrown as a SysError; watch() (called at most once, and only
 * when the socket first needs readiness) calls back whenever recv may return data;
 * ref(false) lets the process exit while nothing waits; close() is final and stops the
 * callbacks before releasing the socket.
 */
export interface Transport {
  /** The netlink port id replies to this socket carry in nlmsg_pid. */
  readonly portId: number;
  send(bytes: Uint8Array): number;
  /**
   * Send off the caller's thread (libuv's pool), for a request the kernel answers only after a
   * long wait inside sendmsg (a link's deletion waits there for an RCU barrier: ~10–25 ms):
   * `done` gets the error, if any. The bytes are the transport's from the call on. close()
   * leaves the socket open until every such send has returned. Optional: a transport without it
   * sends in place.
   */
  sendInBackground?(bytes: Uint8Array, done: (err: Error | undefined) => void): void;
  recv(buffer: Uint8Array): number;
  watch(onReadable: () => void): void;
  ref(on: boolean): void;
  close(): void;
}
