/**
 * Layer: lab (pure).
 *
 * A validated lab: the file's values checked against each other, units turned into numbers
 * (rates in bit/s, loss as a fraction, durations in ms), names resolved, defaults filled.
 * check.ts builds it; compile.ts turns it into resources. Maps keep the file's order.
 */
import type { Cidr } from '../net/cidr.js';
import type { Subnet } from '../network/ipam.js';

export type Direction = 'a->b' | 'b->a';
export type Signal = 'HUP' | 'INT' | 'QUIT' | 'KILL' | 'USR1' | 'USR2' | 'TERM' | 'STOP' | 'CONT';

export interface LabSpec {
  version: 1;
  lab: string;
  seed: number | undefined;
  networks: NetworkSpec[];
  nodes: NodeSpec[];
  links: LinkSpec[];
  faults: FaultSpec[];
  /** Sorted by time (stable: the file's order within one instant). */
  schedule: ScheduleStep[];
}

export interface NetworkSpec {
  name: string;
  /** The nsbox network: LAB.NAME. */
  nsboxName: string;
  driver: 'bridge' | 'macvlan';
  /** At most one per family; empty: a bridge network picks a free /16. */
  subnets: Subnet[];
  gateway: string | undefined;
  gateway6: string | undefined;
  ipv6: boolean;
  mtu: number | undefined;
  internal: boolean;
  masquerade: boolean;
  bridgeName: string | undefined;
  parent: string | undefined;
  mode: 'bridge' | 'private' | 'vepa' | 'passthru' | 'source' | undefined;
}

export interface InterfaceSpec {
  name: string;
  network: string;
  /** With the prefix of the network's subnet; undefined: IPAM gives one. */
  address: Cidr | undefined;
  mac: string | undefined;
  mtu: number | undefined;
}

export interface RouteSpec {
  /** Canonical NETWORK/PREFIX ('0.0.0.0/0' or '::/0' for `default`). */
  to: string;
  family: 4 | 6;
  via: string;
  /** The node's interface whose subnet holds `via` (undefined: its subnet is picked at apply time). */
  iface: string | undefined;
}

export interface Sysctl {
  key: string;
  value: string;
}

export type ReadyCheck =
  | { kind: 'tcp'; host: string; port: number; timeoutMs: number; intervalMs: number }
  | { kind: 'command'; argv: string[]; timeoutMs: number; intervalMs: number }
  | { kind: 'log'; text: string; timeoutMs: number };

export interface ProcessSpec {
  name: string;
  /** A string `cmd` is ['/bin/sh', '-c', cmd]. */
  argv: string[];
  cwd: string | undefined;
  /** The node's env with the process's over it. */
  env: Record<string, string>;
  ready: ReadyCheck | undefined;
  restart: 'never' | 'on-failure' | 'always';
  backoff: { initialMs: number; maxMs: number } | undefined;
}

export interface NodeSpec {
  name: string;
  /** The nsbox sandbox: LAB.NAME. */
  sandbox: string;
  /** Interfaces on networks (link ends are in links). */
  interfaces: InterfaceSpec[];
  routes: RouteSpec[];
  /** The file's sysctls, with forwarding's two when it is on. */
  sysctls: Sysctl[];
  forwarding: boolean;
  env: Record<string, string>;
  processes: ProcessSpec[];
}

export interface EndpointSpec {
  node: string;
  iface: string;
  address: Cidr | undefined;
  mac: string | undefined;
  /** This end's MTU, else the link's. */
  mtu: number | undefined;
}

/** What one direction of a link does to packets; a field left out is not impaired. */
export interface Impairment {
  /** bits per second */
  rate?: number;
  /** fraction 0..1 */
  loss?: number;
  /** ms */
  delay?: number;
  /** ms */
  jitter?: number;
}

/** Per direction, `both` merged in. */
export type Impairments = Partial<Record<Direction, Impairment>>;

export interface LinkSpec {
  name: string;
  a: EndpointSpec;
  b: EndpointSpec;
  mtu: number | undefined;
  impair: Impairments;
  /** The link's seed, else the lab's. */
  seed: number | undefined;
}

export interface FaultSpec {
  name: string;
  partition: { groups: string[][]; oneway: boolean } | undefined;
  linkDown: { link: string; side: 'a' | 'b' | 'both' } | undefined;
  /** Per link, merged over the link's own while active. */
  impair: { link: string; impair: Impairments }[];
  signal: { node: string; process: string; signal: Signal } | undefined;
}

export interface ScheduleStep {
  atMs: number;
  action: 'apply' | 'heal';
  fault: string;
}
