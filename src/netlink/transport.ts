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
  recv(buffer: Uint8Array): number;
  watch(onReadable: () => void): void;
  ref(on: boolean): void;
  close(): void;
}
