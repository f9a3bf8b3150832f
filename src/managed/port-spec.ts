/**
 * Layer: managed.
 *
 * Published ports in Docker's `-p` syntax: `[HOSTIP:]HOSTPORT[-END]:PORT[-END][/tcp|udp]`, or
 * `PORT[-END][/proto]` alone (the host port picked free by the kernel). An IPv6 host address is
 * written in brackets (`[::]:8080:80`). Parsed into one mapping per port, checked before
 * anything is recorded or touches the kernel.
 */
import { parseIp } from '../net/cidr.js';
import { decodeIp, encodeIp } from '../net/ip.js';

export type PortProtocol = 'tcp' | 'udp';

/** One host port forwarded to one sandbox port. */
export interface PortMapping {
  protocol: PortProtocol;
  /** A host address the port is published on, or undefined for every address. */
  hostIp: string | undefined;
  /** The host port; 0 when the kernel is to pick a free one. */
  hostPort: number;
  /** The port inside the sandbox. */
  port: number;
}

const PROTOCOLS: readonly PortProtocol[] = ['tcp', 'udp'];

function usage(spec: string, why: string): TypeError {
  return new TypeError(`invalid port mapping ${JSON.stringify(spec)}: ${why}; expected [HOSTIP:]HOSTPORT[-END]:PORT[-END][/tcp|udp], e.g. 8080:80 or 127.0.0.1:5353:53/udp`);
}

/** 'N' or 'N-M' → [first, last], each 1..65535 and first <= last. */
function parseRange(text: string, spec: string, what: string): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (m === null) throw usage(spec, `${what} ${JSON.stringify(text)} is not a port or a range of ports`);
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  for (const p of [first, last]) if (p < 1 || p > 65535) throw usage(spec, `${what} ${p} is not between 1 and 65535`);
  if (last < first) throw usage(spec, `${what} range ${text} runs backwards`);
  return [first, last];
}

/** Split off a leading host address: 'IP:rest' or '[IPv6]:rest'; undefined when there is none. */
function splitHostIp(text: string, spec: string): { hostIp: string | undefined; rest: string } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']:');
    if (close < 0) throw usage(spec, 'a bracketed IPv6 host address must be followed by ":"');
    return { hostIp: text.slice(1, close), rest: text.slice(close + 2) };
  }
  const parts = text.split(':');
  if (parts.length === 3) return { hostIp: parts[0], rest: `${parts[1]}:${parts[2]}` };
  if (parts.length > 3) throw usage(spec, 'an IPv6 host address must be written in brackets, e.g. [::1]:8080:80');
  return { hostIp: undefined, rest: text };
}

/** Parse one `-p` value into one mapping per port (a range of N ports gives N mappings). */
export function parsePortSpec(spec: string): PortMapping[] {
  if (typeof spec !== 'string' || spec === '') throw usage(String(spec), 'it is empty');
  const slash = spec.lastIndexOf('/');
  const protocolText = slash < 0 ? 'tcp' : spec.slice(slash + 1).toLowerCase();
  if (!PROTOCOLS.includes(protocolText as PortProtocol)) throw usage(spec, `protocol ${JSON.stringify(protocolText)} is not tcp or udp`);
  const protocol = protocolText as PortProtocol;
  const body = slash < 0 ? spec : spec.slice(0, slash);
  const { hostIp: hostIpText, rest } = splitHostIp(body, spec);
  let hostIp: string | undefined;
  if (hostIpText !== undefined && hostIpText !== '') {
    try {
      hostIp = decodeIp(encodeIp(parseIp(hostIpText, 'host address').address)); // canonical text: one key per address
    } catch {
      throw usage(spec, `host address ${JSON.stringify(hostIpText)} is not an IPv4 or IPv6 address`);
    }
  }
  const colon = rest.indexOf(':');
  const hostText = colon < 0 ? undefined : rest.slice(0, colon);
  const portText = colon < 0 ? rest : rest.slice(colon + 1);
  const [first, last] = parseRange(portText, spec, 'sandbox port');
  if (hostText === undefined || hostText === '') {
    // `-p PORT[-END]`: every host port picked free.
    return range(first, last).map((port) => ({ protocol, hostIp, hostPort: 0, port }));
  }
  const [hostFirst, hostLast] = parseRange(hostText, spec, 'host port');
  if (hostLast - hostFirst !== last - first) {
    throw usage(spec, `the host range ${hostText} and the sandbox range ${portText} are not the same length`);
  }
  return range(first, last).map((port, i) => ({ protocol, hostIp, hostPort: hostFirst + i, port }));
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** The mappings of several `-p` values; a host port given twice (same protocol and address) is refused. */
export function parsePortSpecs(specs: readonly string[]): PortMapping[] {
  const all = specs.flatMap(parsePortSpec);
  const seen = new Set<string>();
  for (const m of all) {
    if (m.hostPort === 0) continue;
    const key = `${m.protocol}/${m.hostIp ?? '*'}/${m.hostPort}`;
    if (seen.has(key)) throw new TypeError(`host port ${m.hostPort}/${m.protocol}${m.hostIp ? ` on ${m.hostIp}` : ''} is published twice`);
    seen.add(key);
  }
  return all;
}

/** Docker's text for a mapping: `0.0.0.0:8080->80/tcp`, `[::1]:5353->53/udp`. */
export function portMappingText(m: PortMapping): string {
  const host = m.hostIp === undefined ? '0.0.0.0' : m.hostIp.includes(':') ? `[${m.hostIp}]` : m.hostIp;
  return `${host}:${m.hostPort}->${m.port}/${m.protocol}`;
}
