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

/**
 * Whether a TCP connect to host:port (an IP address) from inside the namespace behind `nsFd`
 * succeeds within `timeoutMs`; the connection is closed at once.
 */
export function tcpConnects(nsFd: number, host: string, port: number, timeoutMs: number): Promise<boolean> {
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
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}
