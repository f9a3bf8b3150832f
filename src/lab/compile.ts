/**
 * Layer: lab (pure).
 *
 * A validated lab as a flat list of resources with stable keys and their dependencies, the
 * input of the planner (observe the store and the kernel, diff, apply in this order, delete
 * in reverse). Keys:
 *
 *   network:NET  node:NODE  iface:NODE/IF  link:LINK  address:NODE/IF/ADDR/PREFIX
 *   sysctl:NODE/KEY  route:NODE/DEST/PREFIX  impair:LINK/a->b  process:NODE/NAME  fault:NAME
 *
 * An interface on a network carries its fixed address (nsbox leases it when it attaches the
 * interface); `address:` resources are the addresses of link ends. The order is by stage
 * (networks, nodes, interfaces and links, addresses and sysctls, routes, impairments,
 * processes, faults), then by key, so the same lab always gives the same list, and every
 * resource comes after what it depends on (checked here: a violation is a bug).
 */
import { cidrText } from '../net/cidr.js';
import type { Direction, FaultSpec, Impairment, InterfaceSpec, LabSpec, LinkSpec, NetworkSpec, NodeSpec, ProcessSpec, RouteSpec, ScheduleStep } from './model.js';

interface Base {
  key: string;
  /** Keys of the resources that must exist first. */
  dependsOn: string[];
}

export type LabResource = Base & (
  | { kind: 'network'; network: NetworkSpec }
  | { kind: 'node'; node: string; sandbox: string; env: Record<string, string> }
  | { kind: 'iface'; node: string; sandbox: string; nsboxNetwork: string; iface: InterfaceSpec }
  | { kind: 'link'; link: Omit<LinkSpec, 'impair' | 'seed'>; sandboxes: { a: string; b: string } }
  | { kind: 'address'; node: string; sandbox: string; iface: string; address: string }
  | { kind: 'sysctl'; node: string; sandbox: string; name: string; value: string }
  | { kind: 'route'; node: string; sandbox: string; route: RouteSpec }
  | { kind: 'impair'; link: string; direction: Direction; from: { node: string; iface: string }; to: { node: string; iface: string }; impairment: Impairment; seed: number | undefined }
  | { kind: 'process'; node: string; sandbox: string; process: ProcessSpec }
  | { kind: 'fault'; fault: FaultSpec }
);

export type ResourceKind = LabResource['kind'];

/** The stage of each kind: resources are applied stage by stage. */
export const STAGES: Readonly<Record<ResourceKind, number>> = {
  network: 0, node: 1, iface: 2, link: 2, address: 3, sysctl: 3, route: 4, impair: 5, process: 6, fault: 7,
};

export interface CompiledLab {
  lab: string;
  resources: LabResource[];
  schedule: ScheduleStep[];
}

const byKey = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/** Per interface of a node: the resource that makes it, and the one after which it has its address. */
function nodeInterfaceKeys(spec: LabSpec, node: NodeSpec): { made: Map<string, string>; ready: Map<string, string> } {
  const made = new Map<string, string>();
  const ready = new Map<string, string>();
  for (const i of node.interfaces) made.set(i.name, `iface:${node.name}/${i.name}`);
  for (const i of node.interfaces) ready.set(i.name, `iface:${node.name}/${i.name}`);
  for (const l of spec.links) {
    for (const end of [l.a, l.b]) {
      if (end.node !== node.name) continue;
      made.set(end.iface, `link:${l.name}`);
      ready.set(end.iface, end.address === undefined ? `link:${l.name}` : `address:${end.node}/${end.iface}/${cidrText(end.address)}`);
    }
  }
  return { made, ready };
}

function routeDeps(node: NodeSpec, route: RouteSpec, ready: Map<string, string>): string[] {
  if (route.iface !== undefined) return [ready.get(route.iface)!];
  // The subnet holding the gateway is picked when the lab comes up: any of the interfaces.
  return [`node:${node.name}`, ...ready.values()];
}

/** A sysctl of one interface (net.ipv4.conf.eth0.rp_filter) needs that interface. */
function sysctlDeps(node: NodeSpec, name: string, made: Map<string, string>): string[] {
  const iface = /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\./.exec(name)?.[1]?.replaceAll('/', '.');
  const key = iface === undefined ? undefined : made.get(iface);
  return key === undefined ? [`node:${node.name}`] : [key];
}

/** Compile a validated lab into its resources, in dependency order. */
export function compileLab(spec: LabSpec): CompiledLab {
  const out: LabResource[] = [];
  const sandboxOf = new Map(spec.nodes.map((n) => [n.name, n.sandbox]));
  const networkOf = new Map(spec.networks.map((n) => [n.name, n]));
  for (const network of spec.networks) out.push({ key: `network:${network.name}`, kind: 'network', dependsOn: [], network });
  for (const link of spec.links) {
    const { impair: _impair, seed: _seed, ...rest } = link;
    out.push({
      key: `link:${link.name}`, kind: 'link', dependsOn: [`node:${link.a.node}`, `node:${link.b.node}`],
      link: rest, sandboxes: { a: sandboxOf.get(link.a.node)!, b: sandboxOf.get(link.b.node)! },
    });
    for (const end of [link.a, link.b]) {
      if (end.address === undefined) continue;
      out.push({
        key: `address:${end.node}/${end.iface}/${cidrText(end.address)}`, kind: 'address', dependsOn: [`link:${link.name}`],
        node: end.node, sandbox: sandboxOf.get(end.node)!, iface: end.iface, address: cidrText(end.address),
      });
    }
    for (const direction of ['a->b', 'b->a'] as const) {
      const impairment = link.impair[direction];
      if (impairment === undefined || Object.keys(impairment).length === 0) continue;
      const [from, to] = direction === 'a->b' ? [link.a, link.b] : [link.b, link.a];
      out.push({
        key: `impair:${link.name}/${direction}`, kind: 'impair', dependsOn: [`link:${link.name}`], link: link.name, direction,
        from: { node: from.node, iface: from.iface }, to: { node: to.node, iface: to.iface }, impairment, seed: link.seed,
      });
    }
  }
  for (const node of spec.nodes) {
    const sandbox = node.sandbox;
    const { made, ready } = nodeInterfaceKeys(spec, node);
    const own: string[] = [];
    out.push({ key: `node:${node.name}`, kind: 'node', dependsOn: [], node: node.name, sandbox, env: node.env });
    for (const iface of node.interfaces) {
      const key = `iface:${node.name}/${iface.name}`;
      own.push(key);
      out.push({ key, kind: 'iface', dependsOn: [`node:${node.name}`, `network:${iface.network}`], node: node.name, sandbox, nsboxNetwork: networkOf.get(iface.network)!.nsboxName, iface });
    }
    for (const { key: name, value } of node.sysctls) {
      const key = `sysctl:${node.name}/${name}`;
      own.push(key);
      out.push({ key, kind: 'sysctl', dependsOn: sysctlDeps(node, name, made), node: node.name, sandbox, name, value });
    }
    for (const route of node.routes) {
      const key = `route:${node.name}/${route.to}`;
      own.push(key);
      out.push({ key, kind: 'route', dependsOn: routeDeps(node, route, ready), node: node.name, sandbox, route });
    }
    // A process starts once its node's network is complete: its interfaces, links and their
    // addresses, routes, sysctls and the impairments of its links.
    const links = spec.links.filter((l) => l.a.node === node.name || l.b.node === node.name);
    const network = [
      ...own, ...ready.values(),
      ...links.flatMap((l) => (['a->b', 'b->a'] as const).filter((d) => Object.keys(l.impair[d] ?? {}).length > 0).map((d) => `impair:${l.name}/${d}`)),
    ];
    for (const process of node.processes) {
      out.push({ key: `process:${node.name}/${process.name}`, kind: 'process', dependsOn: [`node:${node.name}`, ...network], node: node.name, sandbox, process });
    }
  }
  for (const fault of spec.faults) out.push({ key: `fault:${fault.name}`, kind: 'fault', dependsOn: faultDeps(fault), fault });

  for (const r of out) r.dependsOn = [...new Set(r.dependsOn)].sort(byKey);
  out.sort((x, y) => STAGES[x.kind] - STAGES[y.kind] || byKey(x.key, y.key));
  checkOrder(out);
  return { lab: spec.lab, resources: out, schedule: spec.schedule.map((s) => ({ ...s })) };
}

function faultDeps(fault: FaultSpec): string[] {
  return [
    ...(fault.partition?.groups.flat() ?? []).map((n) => `node:${n}`),
    ...(fault.linkDown === undefined ? [] : [`link:${fault.linkDown.link}`]),
    ...fault.impair.map((i) => `link:${i.link}`),
    ...(fault.signal === undefined ? [] : [`process:${fault.signal.node}/${fault.signal.process}`]),
  ];
}

function checkOrder(resources: readonly LabResource[]): void {
  const seen = new Set<string>();
  for (const r of resources) {
    if (seen.has(r.key)) throw new Error(`lab compile: two resources have the key ${r.key}`);
    for (const d of r.dependsOn) if (!seen.has(d)) throw new Error(`lab compile: ${r.key} depends on ${d}, which does not come before it`);
    seen.add(r.key);
  }
}
