/**
 * Layer: lab.
 *
 * What a running lab has that its file no longer has, and taking it away (`up` does it before
 * it creates anything, so a name or a subnet given up is free again): routes, interfaces on
 * networks, links (both ends of a veth), nodes, networks, in that order (reverse dependency).
 * An interface or a link end that is still in the file but differs in what cannot change in
 * place (its network, its address, its node) is removed here too, and made anew by `up`.
 *
 * `planPrune` is pure over what was observed (the lab's sandbox records and network names);
 * `prune` carries a plan out through the managed layer. A link's ends are recognised by their
 * source names (naming.ts hostVethName); a link's name comes from the spec the lab was last
 * applied with (its record), else it is named by its veth's hash (`link:nlHHHHHHHHH`).
 */
import type { Manager } from '../managed/index.js';
import type { InterfaceRecord } from '../store/index.js';
import { cidrText } from '../net/cidr.js';
import type { EndpointSpec, LabSpec } from './model.js';
import { deleteHostLinks } from './link-veth.js';
import { hostVethName, labPrefix } from './naming.js';

/** A lab sandbox as observed: its node, and its ready interface rows and recorded routes. */
export interface ObservedNode {
  sandbox: string;
  node: string;
  interfaces: Pick<InterfaceRecord, 'srcName' | 'dstName' | 'network' | 'state' | 'options'>[];
  routes: { destination: string; nextHop: string }[];
}

export interface Observed {
  nodes: ObservedNode[];
  /** The lab's nsbox networks (LAB.NET). */
  networks: string[];
}

export type Removal =
  | { kind: 'route'; key: string; detail: string; sandbox: string; route: { destination: string; nextHop: string } }
  | { kind: 'iface'; key: string; detail: string; sandbox: string; ifname: string; network: string }
  | { kind: 'link'; key: string; detail: string; ends: { sandbox: string; ifname: string }[]; hostLinks: string[] }
  | { kind: 'node'; key: string; detail: string; sandbox: string; hostLinks: string[] }
  | { kind: 'network'; key: string; detail: string; network: string };

/** A link end's source name: `nl` + 9 hex digits + `a`|`b`. */
export const LINK_END = /^nl[0-9a-f]{9}[ab]$/;

const addressText = (end: EndpointSpec): string | undefined => (end.address === undefined ? undefined : cidrText(end.address));

function rowAddress(row: ObservedNode['interfaces'][number], family: 4 | 6 | undefined): string | undefined {
  return family === 6 ? row.options.ipv6 : row.options.ipv4;
}

/** Whether a link end row is the file's end: same node, name, address and (if given) MAC. */
function endMatches(row: ObservedNode['interfaces'][number], sandbox: string, want: { sandbox: string; end: EndpointSpec }): boolean {
  if (sandbox !== want.sandbox || row.dstName !== want.end.iface) return false;
  const address = addressText(want.end);
  if (address !== undefined && rowAddress(row, want.end.address?.family) !== address) return false;
  if (want.end.mac !== undefined && row.options.mac?.toLowerCase() !== want.end.mac.toLowerCase()) return false;
  return true;
}

/** What to remove so that the lab holds nothing its file does not (in the order to remove it). */
export function planPrune(lab: string, spec: LabSpec, observed: Observed, previous: LabSpec | undefined): Removal[] {
  const nodes = new Map(spec.nodes.map((n) => [n.name, n]));
  const sandboxOf = (node: string): string => nodes.get(node)?.sandbox ?? `${labPrefix(lab)}${node}`;
  const wantEnds = new Map<string, { sandbox: string; end: EndpointSpec }>();
  for (const l of spec.links) {
    wantEnds.set(hostVethName(lab, l.name, 'a'), { sandbox: sandboxOf(l.a.node), end: l.a });
    wantEnds.set(hostVethName(lab, l.name, 'b'), { sandbox: sandboxOf(l.b.node), end: l.b });
  }
  const previousLinks = new Map((previous?.links ?? []).map((l) => [hostVethName(lab, l.name, 'a').slice(0, -1), l.name]));
  const networkNames = new Map(spec.networks.map((n) => [n.nsboxName, n]));
  const routes: Removal[] = [];
  const ifaces: Removal[] = [];
  const removedNodes: Removal[] = [];
  // Link ends by their veth (the source name without its last letter), and whether any is stale.
  const veths = new Map<string, { ends: { sandbox: string; ifname: string; survives: boolean }[]; stale: boolean }>();

  for (const o of observed.nodes) {
    const node = nodes.get(o.node);
    const survives = node !== undefined && o.sandbox === node.sandbox;
    if (!survives) removedNodes.push({ kind: 'node', key: `node:${o.node}`, detail: `sandbox ${o.sandbox} (not in the file)`, sandbox: o.sandbox, hostLinks: [] });
    for (const row of o.interfaces) {
      if (row.state !== 'ready') continue; // an interrupted add: undone by the managed layer's gc
      if (row.network === undefined) {
        if (!LINK_END.test(row.srcName)) continue; // not a lab link's end (added by hand): left alone
        const veth = row.srcName.slice(0, -1);
        const entry = veths.get(veth) ?? { ends: [], stale: false };
        veths.set(veth, entry);
        entry.ends.push({ sandbox: o.sandbox, ifname: row.dstName, survives });
        const want = wantEnds.get(row.srcName);
        if (want === undefined || !endMatches(row, o.sandbox, want)) entry.stale = true;
        continue;
      }
      if (!survives) continue;
      const want = node.interfaces.find((i) => i.name === row.dstName);
      const wantNetwork = want === undefined ? undefined : spec.networks.find((n) => n.name === want.network)?.nsboxName;
      const address = want?.address === undefined ? undefined : cidrText(want.address);
      const reason = want === undefined ? 'not in the file'
        : wantNetwork !== row.network ? `on ${row.network}, the file says ${wantNetwork ?? '?'}: made anew`
          : address !== undefined && rowAddress(row, want.address?.family) !== address ? `address ${rowAddress(row, want.address?.family) ?? 'none'}, the file says ${address}: made anew`
            : undefined;
      if (reason !== undefined) ifaces.push({ kind: 'iface', key: `iface:${o.node}/${row.dstName}`, detail: `${o.sandbox} ${row.dstName} on ${row.network} (${reason})`, sandbox: o.sandbox, ifname: row.dstName, network: row.network });
    }
    if (!survives) continue;
    const destinations = new Set(node.routes.map((r) => r.to));
    for (const r of o.routes) {
      if (destinations.has(r.destination)) continue; // same destination, another gateway: `up` replaces it
      routes.push({ kind: 'route', key: `route:${o.node}/${r.destination}`, detail: `${o.sandbox} ${r.destination} via ${r.nextHop} (not in the file)`, sandbox: o.sandbox, route: r });
    }
  }

  const links: Removal[] = [];
  for (const [veth, entry] of [...veths].sort(([x], [y]) => (x < y ? -1 : 1))) {
    const stillWanted = wantEnds.has(`${veth}a`);
    if (!entry.stale && entry.ends.every((e) => e.survives)) continue;
    const name = previousLinks.get(veth) ?? spec.links.find((l) => hostVethName(lab, l.name, 'a').startsWith(veth))?.name ?? veth;
    const where = entry.ends.map((e) => `${e.sandbox} ${e.ifname}`).join(' <-> ');
    links.push({
      kind: 'link', key: `link:${name}`, detail: `veth ${where} (${stillWanted ? 'its ends differ from the file: made anew' : 'not in the file'})`,
      ends: entry.ends.filter((e) => e.survives).map(({ sandbox, ifname }) => ({ sandbox, ifname })), hostLinks: [`${veth}a`, `${veth}b`],
    });
  }
  // The ends a removed node holds come back to the host when it goes: deleted after it.
  for (const n of removedNodes) {
    if (n.kind !== 'node') continue;
    const held = observed.nodes.find((o) => o.sandbox === n.sandbox)!.interfaces.filter((r) => r.network === undefined && LINK_END.test(r.srcName));
    n.hostLinks = held.map((r) => r.srcName);
  }
  const networks: Removal[] = observed.networks.filter((n) => !networkNames.has(n)).sort().map((n) => ({
    kind: 'network', key: `network:${n.slice(labPrefix(lab).length)}`, detail: `network ${n} (not in the file)`, network: n,
  }));
  const byKey = (x: Removal, y: Removal): number => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);
  return [...routes.sort(byKey), ...ifaces.sort(byKey), ...links, ...removedNodes.sort(byKey), ...networks];
}

/** The sandboxes and networks of a lab as `planPrune` observes them. */
export function observe(lab: string, sandboxes: readonly { record: { name: string; config: { interfaces: InterfaceRecord[]; routes: { destination: string; nextHop: string }[] } } }[], networks: readonly string[]): Observed {
  return {
    nodes: sandboxes.map((s) => ({
      sandbox: s.record.name, node: s.record.name.slice(labPrefix(lab).length),
      interfaces: s.record.config.interfaces, routes: s.record.config.routes,
    })),
    networks: [...networks],
  };
}

/** Carry out a plan in its order; every host link a removed link or node gave back is deleted last. */
export async function prune(manager: Manager, removals: readonly Removal[]): Promise<void> {
  const hostLinks: string[] = [];
  for (const r of removals) {
    switch (r.kind) {
      case 'route': await manager.removeRoute(r.sandbox, r.route); break;
      case 'iface': await manager.disconnect(r.network, r.sandbox); break;
      case 'link':
        for (const e of r.ends) await manager.removeInterface(e.sandbox, e.ifname);
        hostLinks.push(...r.hostLinks);
        break;
      case 'node': {
        const [outcome] = await manager.removeSandboxes([r.sandbox]);
        if (outcome !== undefined && outcome.errors.length > 0) throw new Error(`removing ${r.sandbox}: ${outcome.errors.join('; ')}`);
        hostLinks.push(...r.hostLinks);
        break;
      }
      case 'network':
        await deleteHostLinks(hostLinks.splice(0));
        await manager.removeNetworks([r.network]);
        break;
    }
  }
  await deleteHostLinks(hostLinks);
}
