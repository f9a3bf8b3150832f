/**
 * Layer: firewall.
 *
 * What a network and a published port are in the nsbox table: set and map elements (the rules
 * of firewall/layout.ts never change). A bridge network is its bridge in `bridges` and
 * `same_net`, its subnets in `own_net4/6` (bridge . subnet), in `nat_nets4/6` when it is
 * masqueraded, and its bridge in `internal` when it has no way out. A published port is one
 * element of `dnat4`/`dnat6` (a host address given) or `dnat4_any`/`dnat6_any`, keyed by
 * protocol, host address and host port, mapping to the sandbox's address and port, with a
 * comment naming its sandbox so `nft list` explains itself.
 *
 * Every state root on a host shares the one table: each element's comment ends with its root's
 * tag (` root=` and 8 hex digits of the root directory's hash, `rootTag`), so that a root's gc
 * and restore repair only their own elements (`ownedElements`).
 */
import type { ElementSpec, SetElement, SetSpec } from '../netlink/nftables/schema/index.js';
import { cidrText, parseNetwork } from '../net/cidr.js';
import { SETS } from './layout.js';
import { nodeCrypto } from '../builtins.js';

/** A bridge network as the firewall sees it. */
export interface FirewallNetwork {
  name: string;
  bridge: string;
  /** 'network/len' */
  subnets: readonly string[];
  /** Its sandboxes' traffic to the outside is masqueraded. */
  masquerade: boolean;
  /** No way out of the host at all. */
  internal: boolean;
}

/** A published port as the firewall sees it. */
export interface FirewallPort {
  family: 4 | 6;
  protocol: 'tcp' | 'udp';
  /** A host address, or undefined for every address of the family. */
  hostIp: string | undefined;
  hostPort: number;
  /** The sandbox's address and port it goes to, and the sandbox's name (the element's comment). */
  address: string;
  port: number;
  sandbox: string;
}

/** Elements grouped by the set they belong to. */
export type ElementsBySet = Map<SetSpec, ElementSpec[]>;

function push(out: ElementsBySet, set: SetSpec, element: ElementSpec): void {
  const list = out.get(set);
  if (list === undefined) out.set(set, [element]);
  else list.push(element);
}

/** A state root's tag in its elements' comments: from the root directory's real path. */
export function rootTag(rootDir: string): string {
  return nodeCrypto().createHash('sha256').update(rootDir).digest('hex').slice(0, 8);
}

const withTag = (comment: string, tag: string | undefined): string => (tag === undefined ? comment : `${comment} root=${tag}`);
const TAG = / root=([0-9a-f]{8})$/;

/** NFT_SET_ELEM_INTERVAL_END: the end of a range in a plain interval set (carries no comment). */
const INTERVAL_END = 1;

const compareBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined): number => {
  const x = a ?? new Uint8Array();
  const y = b ?? new Uint8Array();
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
};

/**
 * The elements of one set (as the kernel lists them) that the root tagged `tag` may repair:
 * those with its tag, those with no tag (written before elements were tagged, or by a handle
 * with no root), and the interval ends of those (an end has no comment: it goes with the start
 * it follows in key order; an end with no start before it is nobody's and so anyone's).
 * With no tag, every element.
 */
export function ownedElements(elements: readonly SetElement[], tag: string | undefined): Set<SetElement> {
  if (tag === undefined) return new Set(elements);
  const mine = (e: SetElement): boolean => {
    const m = TAG.exec(e.comment ?? '');
    return m === null || m[1] === tag;
  };
  // ends sort before starts at equal keys: the end of one range may be the start of the next
  const sorted = [...elements].sort((a, b) => compareBytes(a.key, b.key) || ((b.flags ?? 0) & INTERVAL_END) - ((a.flags ?? 0) & INTERVAL_END));
  const out = new Set<SetElement>();
  let previousStart: SetElement | undefined;
  for (const e of sorted) {
    if (((e.flags ?? 0) & INTERVAL_END) !== 0) {
      if (previousStart === undefined || mine(previousStart)) out.add(e);
      previousStart = undefined;
      continue;
    }
    previousStart = e;
    if (mine(e)) out.add(e);
  }
  return out;
}

/** The elements of bridge networks, set by set (their comments tagged with `tag`, a root's). */
export function networkElements(networks: readonly FirewallNetwork[], out: ElementsBySet = new Map(), tag?: string): ElementsBySet {
  for (const n of networks) {
    const comment = withTag(`network=${n.name}`, tag);
    push(out, SETS.bridges, { key: n.bridge, comment });
    push(out, SETS.same_net, { key: [n.bridge, n.bridge], comment });
    if (n.internal) push(out, SETS.internal, { key: n.bridge, comment });
    for (const text of n.subnets) {
      const subnet = parseNetwork(text, 'subnet');
      const cidr = cidrText(subnet);
      push(out, subnet.family === 4 ? SETS.own_net4 : SETS.own_net6, { key: [n.bridge, cidr], comment });
      if (n.masquerade && !n.internal) push(out, subnet.family === 4 ? SETS.nat_nets4 : SETS.nat_nets6, { key: cidr, comment });
    }
  }
  return out;
}

/** The map a published port belongs in. */
export function portSet(p: Pick<FirewallPort, 'family' | 'hostIp'>): SetSpec {
  if (p.family === 4) return p.hostIp === undefined ? SETS.dnat4_any : SETS.dnat4;
  return p.hostIp === undefined ? SETS.dnat6_any : SETS.dnat6;
}

/** One published port's element. */
export function portElement(p: FirewallPort, tag?: string): ElementSpec {
  const key = p.hostIp === undefined ? [p.protocol, p.hostPort] : [p.protocol, p.hostIp, p.hostPort];
  return { key, data: [p.address, p.port], comment: withTag(`sandbox=${p.sandbox} port=${p.hostPort}/${p.protocol}`, tag) };
}

/** The elements of published ports, map by map. */
export function portElements(ports: readonly FirewallPort[], out: ElementsBySet = new Map(), tag?: string): ElementsBySet {
  for (const p of ports) push(out, portSet(p), portElement(p, tag));
  return out;
}
