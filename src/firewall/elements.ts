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
 */
import type { ElementSpec, SetSpec } from '../netlink/nftables/schema/index.js';
import { cidrText, parseNetwork } from '../net/cidr.js';
import { SETS } from './layout.js';

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

/** The elements of bridge networks, set by set. */
export function networkElements(networks: readonly FirewallNetwork[], out: ElementsBySet = new Map()): ElementsBySet {
  for (const n of networks) {
    const comment = `network=${n.name}`;
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
export function portElement(p: FirewallPort): ElementSpec {
  const key = p.hostIp === undefined ? [p.protocol, p.hostPort] : [p.protocol, p.hostIp, p.hostPort];
  return { key, data: [p.address, p.port], comment: `sandbox=${p.sandbox} port=${p.hostPort}/${p.protocol}` };
}

/** The elements of published ports, map by map. */
export function portElements(ports: readonly FirewallPort[], out: ElementsBySet = new Map()): ElementsBySet {
  for (const p of ports) push(out, portSet(p), portElement(p));
  return out;
}
