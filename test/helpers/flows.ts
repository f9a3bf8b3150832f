/**
 * Test helper: real traffic between test namespaces, from this process — sockets made inside a
 * namespace by socketIn (no thread moves, no child process), bound to fixed addresses and ports
 * so a test knows every conntrack tuple it causes: UDP endpoints that send and receive
 * datagrams, TCP servers and connections (node:net over the fd). Waits are deadlines that keep a
 * broken run from hanging (helpers/wait.ts), never assertions about time.
 */
import net from 'node:net';
import { AF_INET, AF_INET6, SOCK_DGRAM, bind, close, recv, send, socketIn } from '../../src/sys/index.js';
import { encodeIp, ipFamily } from '../../src/net/ip.js';
import { waitUntil } from './wait.js';

const SOCK_STREAM = 1;

/** struct sockaddr_in / sockaddr_in6 for `address`:`port`. */
export function sockaddr(address: string, port: number): Uint8Array {
  const v6 = ipFamily(address) === 6;
  const out = new Uint8Array(v6 ? 28 : 16);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, v6 ? AF_INET6 : AF_INET, true);
  dv.setUint16(2, port, false);
  out.set(encodeIp(address), v6 ? 8 : 4);
  return out;
}

/** A socket of `type` made in the namespace of `nsFd` and bound to `address`:`port`. */
function boundSocket(nsFd: number, type: number, address: string, port: number): number {
  const fd = socketIn(nsFd, ipFamily(address) === 6 ? AF_INET6 : AF_INET, type, 0);
  try {
    bind(fd, sockaddr(address, port));
    return fd;
  } catch (err) {
    close(fd);
    throw err;
  }
}

/** A UDP socket bound to `address`:`port` in a namespace. */
export class UdpEndpoint implements Disposable {
  readonly address: string;
  readonly port: number;
  readonly #fd: number;
  readonly #buffer = new Uint8Array(2048);

  constructor(nsFd: number, address: string, port: number) {
    this.address = address;
    this.port = port;
    this.#fd = boundSocket(nsFd, SOCK_DGRAM, address, port);
  }

  /** Send `text` to `address`:`port`. */
  send(address: string, port: number, text: string): void {
    if (send(this.#fd, Buffer.from(text), sockaddr(address, port)) < 0) throw new Error(`udp send to ${address}:${port} would block`);
  }

  /** The next datagram, if one is queued now. */
  take(): string | undefined {
    const n = recv(this.#fd, this.#buffer);
    return n < 0 ? undefined : Buffer.from(this.#buffer.subarray(0, n)).toString();
  }

  /** Wait for the next datagram (`what` names it in the deadline's error). */
  async receive(what: string): Promise<string> {
    let got: string | undefined;
    await waitUntil(what, () => (got = this.take()) !== undefined);
    return got!;
  }

  [Symbol.dispose](): void {
    close(this.#fd);
  }
}

/** A TCP server on `address`:`port` in a namespace that echoes what it reads; closing it ends its connections. */
export async function tcpEchoServer(nsFd: number, address: string, port: number): Promise<net.Server & AsyncDisposable> {
  const fd = boundSocket(nsFd, SOCK_STREAM, address, port);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
    c.on('error', () => {});
    c.pipe(c);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, resolve);
  });
  return Object.assign(server, {
    [Symbol.asyncDispose]: async (): Promise<void> => {
      for (const c of sockets) c.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}

/** A TCP connection from `src`:`srcPort` to `dst`:`dstPort`, made in a namespace; resolves once an echo came back (established both ways). */
export async function tcpConnection(nsFd: number, src: string, srcPort: number, dst: string, dstPort: number): Promise<net.Socket & Disposable> {
  const socket = new net.Socket({ fd: boundSocket(nsFd, SOCK_STREAM, src, srcPort) });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect({ host: dst, port: dstPort }, () => {
      socket.once('data', () => resolve());
      socket.write('hello');
    });
  });
  return Object.assign(socket, { [Symbol.dispose]: () => { socket.destroy(); } });
}
