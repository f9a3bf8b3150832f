/**
 * Test helper: conntrack-tools as the oracle. Runs `conntrack -L -o xml` inside a test namespace
 * (nsenter) and parses its XML, so tests check what the kernel's table holds without going
 * through nsbox's own decoder.
 */
import { execFileSync } from 'node:child_process';

export interface ToolTuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** ICMP */
  type?: number;
  code?: number;
  id?: number;
}

/** One flow as `conntrack -L -o xml` prints it. */
export interface ToolEntry {
  family: 4 | 6;
  /** protoname: tcp, udp, icmp, icmpv6, … */
  proto: string;
  orig: ToolTuple;
  reply: ToolTuple;
  /** TCP state (ESTABLISHED, …) */
  state?: string;
  timeout: number;
  mark: number;
  use: number;
  id: number;
  zone?: number;
  assured: boolean;
  unreplied: boolean;
}

/** Run `conntrack ARGS…` in the namespace /run/netns/NAME; stdout. */
export function conntrackTool(ns: string, ...args: string[]): string {
  return execFileSync('nsenter', [`--net=/run/netns/${ns}`, 'conntrack', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const field = (xml: string, tag: string): string | undefined => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
const num = (xml: string, tag: string): number | undefined => {
  const v = field(xml, tag);
  return v === undefined ? undefined : Number(v);
};

function tuple(meta: string): ToolTuple {
  const t: ToolTuple = { src: field(meta, 'src') ?? '', dst: field(meta, 'dst') ?? '' };
  for (const key of ['sport', 'dport', 'type', 'code', 'id'] as const) {
    const v = num(meta, key);
    if (v !== undefined) t[key] = v;
  }
  return t;
}

/** `conntrack -L -o xml` in /run/netns/NAME, parsed (optionally with more `conntrack -L` options). */
export function conntrackList(ns: string, ...filter: string[]): ToolEntry[] {
  const xml = conntrackTool(ns, '-L', '-o', 'xml', ...filter);
  return [...xml.matchAll(/<flow>(.*?)<\/flow>/gs)].map(([, flow]) => {
    const meta = (direction: string): string => new RegExp(`<meta direction="${direction}">(.*?)</meta>`, 's').exec(flow!)?.[1] ?? '';
    const orig = meta('original');
    const independent = meta('independent');
    const l3 = /<layer3 protonum="(\d+)"/.exec(orig)?.[1];
    const e: ToolEntry = {
      family: l3 === '10' ? 6 : 4,
      proto: /<layer4 protonum="\d+" protoname="([^"]+)"/.exec(orig)?.[1] ?? '',
      orig: tuple(orig),
      reply: tuple(meta('reply')),
      timeout: num(independent, 'timeout') ?? -1,
      mark: num(independent, 'mark') ?? 0,
      use: num(independent, 'use') ?? 0,
      id: num(independent, 'id') ?? -1,
      assured: independent.includes('<assured/>'),
      unreplied: independent.includes('<unreplied/>'),
    };
    const state = field(independent, 'state');
    if (state !== undefined) e.state = state;
    const zone = num(independent, 'zone');
    if (zone !== undefined) e.zone = zone;
    return e;
  });
}
