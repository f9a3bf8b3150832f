/**
 * Layer: sandbox.
 *
 * A TCP connection made from inside a namespace: the socket is created natively with the
 * thread in the namespace (socketIn), then handed to node:net, which connects it from the
 * event loop. `net.connect(port, host)` inside a netns window would not do: Node makes the fd
 * later, on another tick, in whatever namespace the thread is in by then
 * (research/node-feasibility.md, the second trap). Used by labs' `ready: { tcp }` checks.
 */
import type { Socket } from 'node:net';
import { nodeNet } from '../builtins.js';
import { AF_INET, AF_INET6, SOCK_STREAM, close, socketIn } from '../sys/index.js';

/** How a TCP connect ended: accepted, refused (a reset: the host is reachable, the port closed), or neither. */
export type TcpProbe = 'connected' | 'refused' | 'timeout' | 'failed';

/**
 * Whether a TCP connect to host:port (an IP address) from inside the namespace behind `nsFd`
 * succeeds within `timeoutMs`; the connection is closed at once.
 */
export async function tcpConnects(nsFd: number, host: string, port: number, timeoutMs: number): Promise<boolean> {
  return (await tcpProbe(nsFd, host, port, timeoutMs)) === 'connected';
}

/**
 * A TCP connect to host:port from inside the namespace behind `nsFd`, and how it ended within
 * `timeoutMs` ('refused' proves a round trip as well as 'connected' does; 'failed' is any other
 * error, e.g. no route).
 */
export function tcpProbe(nsFd: number, host: string, port: number, timeoutMs: number): Promise<TcpProbe> {
  const net = nodeNet(); // loaded here: node:net is not in Node's startup snapshot (builtins.ts)
  const fd = socketIn(nsFd, net.isIPv6(host) ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  let socket: Socket;
  try {
    // manualStart: no read is started before the socket is connected (an unconnected TCP socket polls as hung up).
    socket = new net.Socket({ fd, manualStart: true } as ConstructorParameters<typeof Socket>[0]);
  } catch (err) {
    close(fd);
    throw err;
  }
  return new Promise<TcpProbe>((resolve) => {
    const done = (how: TcpProbe): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(how);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.once('connect', () => done('connected'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'failed'));
    socket.connect(port, host);
  });
}
