/**
 * Layer: firewall.
 *
 * The host ports published ports take. Each is bound in the host namespace by a socket made
 * natively (bound, never listening, without SO_REUSEADDR; IPv6 ones IPV6_V6ONLY, so 0.0.0.0 and
 * [::] are separate claims): a port a host process already holds is refused up front, since a
 * DNAT would silently shadow that process, and nothing else on the host can take the port while
 * the claim is held. Port 0 asks the kernel for a free one. A claim lives as long as its
 * sockets: `nsbox run -p` holds it for the command's life.
 */
import { NsboxError } from '../errors.js';
import { errnoNumber } from '../errno.js';
import { encodeIp } from '../net/ip.js';
import {
  AF_INET, AF_INET6, IPPROTO_IPV6, IPV6_V6ONLY, SOCK_DGRAM, SOCK_STREAM, bind, close, setsockoptInt, sockName, socketIn,
} from '../sys/index.js';

export interface HostPortRequest {
  protocol: 'tcp' | 'udp';
  family: 4 | 6;
  /** The host address, or undefined for every address of the family. */
  hostIp: string | undefined;
  /** 0 for a free port picked by the kernel. */
  hostPort: number;
}

/** A held host port: the request with the port it got. */
export interface HostPortClaim extends HostPortRequest {
  hostPort: number;
}

const EADDRINUSE = errnoNumber('EADDRINUSE');
const EADDRNOTAVAIL = errnoNumber('EADDRNOTAVAIL');

/** struct sockaddr_in / sockaddr_in6 for `address` (or the wildcard) and `port`. */
function sockaddr(family: 4 | 6, address: string | undefined, port: number): Uint8Array {
  const out = new Uint8Array(family === 4 ? 16 : 28);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, family === 4 ? AF_INET : AF_INET6, true);
  dv.setUint16(2, port, false);
  if (address !== undefined) out.set(encodeIp(address), family === 4 ? 4 : 8);
  return out;
}

function describe(r: HostPortRequest): string {
  const host = r.hostIp === undefined ? (r.family === 4 ? '0.0.0.0' : '[::]') : r.family === 6 ? `[${r.hostIp}]` : r.hostIp;
  return `${host}:${r.hostPort}/${r.protocol}`;
}

/** Bind one host port; the socket's fd and the port it got. */
function claim(r: HostPortRequest): { fd: number; port: number } {
  const fd = socketIn(-1, r.family === 4 ? AF_INET : AF_INET6, r.protocol === 'tcp' ? SOCK_STREAM : SOCK_DGRAM, 0);
  try {
    if (r.family === 6) setsockoptInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    try {
      bind(fd, sockaddr(r.family, r.hostIp, r.hostPort));
    } catch (err) {
      const errno = -((err as { errno?: number }).errno ?? 0);
      if (errno === EADDRINUSE) {
        throw new NsboxError(`host port ${describe(r)} is in use on the host (a process or another published port holds it); pick another host port`, 'NSBOX_ERR_IN_USE', { cause: err });
      }
      if (errno === EADDRNOTAVAIL) {
        throw new TypeError(`host address ${r.hostIp ?? ''} is not an address of this host, so nothing can be published on it`, { cause: err });
      }
      throw err;
    }
    return { fd, port: new DataView(sockName(fd).buffer).getUint16(2, false) };
  } catch (err) {
    close(fd);
    throw err;
  }
}

/** Host ports held by sockets; release() closes them (idempotent). */
export class HostPortHold {
  readonly #claims: HostPortClaim[] = [];
  readonly #fds: number[] = [];

  /** The ports held, in the order they were taken, each with the port it got. */
  get claims(): readonly HostPortClaim[] {
    return this.#claims;
  }

  /** Bind every requested port, or none: the first that cannot be bound releases the others and throws. */
  static take(requests: readonly HostPortRequest[]): HostPortHold {
    const hold = new HostPortHold();
    try {
      for (const r of requests) hold.add(r);
    } catch (err) {
      hold.release();
      throw err;
    }
    return hold;
  }

  /** Bind one more port into this hold; its claim (with the port it got). */
  add(request: HostPortRequest): HostPortClaim {
    const { fd, port } = claim(request);
    this.#fds.push(fd);
    const c = { ...request, hostPort: port };
    this.#claims.push(c);
    return c;
  }

  release(): void {
    for (const fd of this.#fds.splice(0)) close(fd);
    this.#claims.length = 0;
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
