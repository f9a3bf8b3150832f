/**
 * Layer: lab (pure).
 *
 * The graph of a lab (docs/labs.md, "Graph"), built from its validated spec: the one model
 * every renderer (mermaid.ts, dot.ts, json.ts, html.ts) draws. Vertices are the nodes (with
 * their addresses) and the networks (a bridge or macvlan network is one segment, a hub);
 * edges are a node's interface on a network (node–network) and the point-to-point links
 * (node–node, with both ends and the impairments per direction); the faults form a legend,
 * each marked active or not when the lab's live state is known. Everything is sorted by name
 * (natural order: leaf2 before leaf10; text.ts naturalCompare), so the same lab always gives the same graph whatever the order of
 * the file's maps. Absent values are null, so the JSON form always has every key.
 */
import { cidrText } from '../../net/cidr.js';
import type { Direction, EndpointSpec, FaultSpec, Impairment, LabSpec } from '../model.js';
import { directionText, impairmentText, naturalCompare } from './text.js';

export const GRAPH_FORMAT = 'nsbox-lab-graph';
export const GRAPH_VERSION = 1;

export interface GraphAddress {
  iface: string;
  /** On a network, or a link's end. */
  on: 'network' | 'link';
  /** ADDRESS/PREFIX, or null: none (a link end), or IPAM gives one when the lab comes up (on a network). */
  address: string | null;
}

export interface GraphNode {
  /** 'node:NAME' */
  id: string;
  name: string;
  /** The nsbox sandbox LAB.NAME. */
  sandbox: string;
  forwarding: boolean;
  /** Its interfaces on networks and its link ends, by interface name. */
  addresses: GraphAddress[];
  /** Names of its processes. */
  processes: string[];
}

export interface GraphNetwork {
  /** 'network:NAME' */
  id: string;
  name: string;
  /** The nsbox network LAB.NAME. */
  nsboxName: string;
  driver: 'bridge' | 'macvlan';
  /** Empty: a free /16 is picked when the lab comes up. */
  subnets: string[];
  gateway: string | null;
}

export interface GraphImpairment {
  /** bits per second */
  rate: number | null;
  /** fraction 0..1 */
  loss: number | null;
  /** ms */
  delay: number | null;
  /** ms */
  jitter: number | null;
  /** As the file spells it: '10mbit 5% 20ms ±5ms'. */
  text: string;
}

export interface GraphEnd {
  node: string;
  iface: string;
  address: string | null;
}

export interface InterfaceEdge {
  /** 'iface:NODE/IF' */
  id: string;
  kind: 'interface';
  /** The node's id and the network's id: the edge's two vertices. */
  source: string;
  target: string;
  node: string;
  network: string;
  iface: string;
  address: string | null;
  mtu: number | null;
  /** 'eth0 10.10.0.11/24' ('eth0 IPAM' without a fixed address). */
  label: string;
}

export interface LinkEdge {
  /** 'link:NAME' */
  id: string;
  kind: 'link';
  /** The a end's node id and the b end's. */
  source: string;
  target: string;
  name: string;
  a: GraphEnd;
  b: GraphEnd;
  mtu: number | null;
  impair: Record<Direction, GraphImpairment | null>;
  /** 'eth1 10.30.0.1/30 — eth1 10.30.0.2/30' */
  label: string;
  /** One line per impaired direction: 'a->b 10mbit 5% 20ms'. */
  impairLines: string[];
}

export type GraphEdge = InterfaceEdge | LinkEdge;

export interface GraphFault {
  /** 'fault:NAME' */
  id: string;
  name: string;
  /** true or false from the lab's live state; null when not known (a graph of a file). */
  active: boolean | null;
  /** false: applied ad hoc (e.g. `lab partition`), not a fault of the file. */
  defined: boolean;
  /** What it does, in one line: 'partition n1 | r1, n2'. */
  summary: string;
  /** Ids of the nodes and links it touches. */
  touches: string[];
}

export interface LabGraph {
  format: typeof GRAPH_FORMAT;
  version: typeof GRAPH_VERSION;
  lab: string;
  /** Whether `faults[].active` comes from the lab's live state. */
  live: boolean;
  nodes: GraphNode[];
  networks: GraphNetwork[];
  /** The interfaces on networks (by node, then interface), then the links (by name). */
  edges: GraphEdge[];
  /** The file's faults by name, then active faults that are not in the file. */
  faults: GraphFault[];
}

/** Live state to overlay: the names of the lab's active faults. */
export interface GraphLive {
  activeFaults: readonly string[];
}

const byName = <T extends { name: string }>(a: T, b: T): number => naturalCompare(a.name, b.name);
const cmp = naturalCompare;
const addressOf = (c: Parameters<typeof cidrText>[0] | undefined): string | null => (c === undefined ? null : cidrText(c));
const endText = (e: GraphEnd): string => (e.address === null ? e.iface : `${e.iface} ${e.address}`);
const nodeId = (name: string): string => `node:${name}`;
const linkId = (name: string): string => `link:${name}`;

function impairment(i: Impairment | undefined): GraphImpairment | null {
  if (i === undefined) return null;
  const text = impairmentText(i);
  if (text === '') return null;
  return { rate: i.rate ?? null, loss: i.loss ?? null, delay: i.delay ?? null, jitter: i.jitter ?? null, text };
}

function end(e: EndpointSpec): GraphEnd {
  return { node: e.node, iface: e.iface, address: addressOf(e.address) };
}

function faultSummary(f: FaultSpec): { summary: string; touches: string[] } {
  const parts: string[] = [];
  const touches = new Set<string>();
  if (f.partition !== undefined) {
    const sep = f.partition.oneway ? ' -> ' : ' | ';
    parts.push(`${f.partition.oneway ? 'one-way partition' : 'partition'} ${f.partition.groups.map((g) => g.join(', ')).join(sep)}`);
    for (const g of f.partition.groups) for (const n of g) touches.add(nodeId(n));
  }
  if (f.linkDown !== undefined) {
    parts.push(`link-down ${f.linkDown.link}${f.linkDown.side === 'both' ? '' : ` (end ${f.linkDown.side})`}`);
    touches.add(linkId(f.linkDown.link));
  }
  for (const { link, impair } of f.impair) {
    const lines = (['a->b', 'b->a'] as const).map((d) => directionText(d, impair[d])).filter((x) => x !== undefined);
    parts.push(`impair ${link}: ${lines.join(', ')}`);
    touches.add(linkId(link));
  }
  if (f.signal !== undefined) {
    parts.push(`signal ${f.signal.signal} to ${f.signal.node}/${f.signal.process}`);
    touches.add(nodeId(f.signal.node));
  }
  return { summary: parts.join('; '), touches: [...touches].sort(cmp) };
}

/** The graph of a validated lab, with its live state when given. */
export function buildGraph(spec: LabSpec, live?: GraphLive): LabGraph {
  const ends = new Map<string, GraphAddress[]>();
  const addEnd = (node: string, a: GraphAddress): void => {
    ends.set(node, [...(ends.get(node) ?? []), a]);
  };
  for (const n of spec.nodes) for (const i of n.interfaces) addEnd(n.name, { iface: i.name, on: 'network', address: addressOf(i.address) });
  for (const l of spec.links) for (const e of [l.a, l.b]) addEnd(e.node, { iface: e.iface, on: 'link', address: addressOf(e.address) });

  const nodes: GraphNode[] = [...spec.nodes].sort(byName).map((n) => ({
    id: nodeId(n.name), name: n.name, sandbox: n.sandbox, forwarding: n.forwarding,
    addresses: [...(ends.get(n.name) ?? [])].sort((a, b) => cmp(a.iface, b.iface)),
    processes: n.processes.map((p) => p.name),
  }));
  const networks: GraphNetwork[] = [...spec.networks].sort(byName).map((n) => ({
    id: `network:${n.name}`, name: n.name, nsboxName: n.nsboxName, driver: n.driver,
    subnets: n.subnets.map((s) => s.cidr), gateway: n.gateway ?? n.gateway6 ?? null,
  }));
  const ifaceEdges: InterfaceEdge[] = [...spec.nodes].sort(byName).flatMap((n) => [...n.interfaces].sort(byName).map((i) => {
    const address = addressOf(i.address);
    return {
      id: `iface:${n.name}/${i.name}`, kind: 'interface' as const, source: nodeId(n.name), target: `network:${i.network}`,
      node: n.name, network: i.network, iface: i.name, address, mtu: i.mtu ?? null, label: `${i.name} ${address ?? 'IPAM'}`,
    };
  }));
  const linkEdges: LinkEdge[] = [...spec.links].sort(byName).map((l) => {
    const a = end(l.a);
    const b = end(l.b);
    const impair = { 'a->b': impairment(l.impair['a->b']), 'b->a': impairment(l.impair['b->a']) };
    const impairLines = (['a->b', 'b->a'] as const).flatMap((d) => (impair[d] === null ? [] : [`${d} ${impair[d].text}`]));
    return {
      id: linkId(l.name), kind: 'link' as const, source: nodeId(a.node), target: nodeId(b.node), name: l.name, a, b,
      mtu: l.mtu ?? null, impair, label: `${endText(a)} — ${endText(b)}`, impairLines,
    };
  });

  const active = live === undefined ? undefined : new Set(live.activeFaults);
  const faults: GraphFault[] = [...spec.faults].sort(byName).map((f) => ({
    id: `fault:${f.name}`, name: f.name, active: active === undefined ? null : active.has(f.name), defined: true, ...faultSummary(f),
  }));
  const known = new Set(spec.faults.map((f) => f.name));
  for (const name of [...(active ?? [])].filter((n) => !known.has(n)).sort(cmp)) {
    faults.push({ id: `fault:${name}`, name, active: true, defined: false, summary: 'applied ad hoc (not a fault of the lab file)', touches: [] });
  }
  return { format: GRAPH_FORMAT, version: GRAPH_VERSION, lab: spec.lab, live: active !== undefined, nodes, networks, edges: [...ifaceEdges, ...linkEdges], faults };
}

/** One line of a node's addresses ('eth0 10.10.0.11/24, eth1 10.30.0.2/30'); '' without any. */
export const addressLine = (n: GraphNode): string => n.addresses.map(addressText).join(', ');

/** 'eth0 10.10.0.11/24', 'eth0 IPAM' (on a network, no fixed address), 'eth1' (a link end without one). */
export const addressText = (a: GraphAddress): string => (a.address !== null ? `${a.iface} ${a.address}` : a.on === 'network' ? `${a.iface} IPAM` : a.iface);

/** A fault's legend line: 'split (active): partition n1 | r1, n2'. */
export const faultLine = (f: GraphFault): string => `${f.name}${f.active === true ? ' (active)' : f.active === false ? ' (inactive)' : ''}: ${f.summary}`;
