/**
 * Layer: lab.
 *
 * What a running lab is, read back from the store and the kernel (not from its file): its
 * networks, its nodes with their interfaces, addresses and routes, and the live impairments
 * in their namespaces: the root tbf's rate per sending interface, the fault table's loss per
 * receiving interface, and the source addresses each node drops (partitions); its active
 * faults, from the store; its supervisor (processes, delay engines); and with the lab's
 * record: its state, and the drift from the file it was last applied with (drift.ts).
 */
import type { Manager } from '../managed/index.js';
import type { LabState } from '../store/index.js';
import { computeDrift, type DriftItem } from './drift.js';
import { activeFaultStatus, type FaultStatus } from './fault-list.js';
import { readFaults, readRates } from './impair.js';
import { specFromStored } from './spec-json.js';
import { labNetworks, labSandboxes, nodeName } from './members.js';
import { supervisorView, type SupervisorView } from './supervisor/status.js';
import { interfaceImpairments, type DelayView, type Mechanisms } from './status-mechanism.js';
import type { DelayStatus } from './supervisor/delay-service.js';

export interface InterfaceStatus {
  name: string;
  /** The nsbox network, or undefined for a link end. */
  network: string | undefined;
  up: boolean;
  mtu: number | undefined;
  addresses: string[];
  /** bit/s of the tbf on it (what the node sends), if any. */
  rate: number | undefined;
  /** The share of what arrives on it that is dropped, if any. */
  loss: number | undefined;
  /** The delay engine on what arrives on it, if any (status-mechanism.ts). */
  delay: DelayView | undefined;
  /** What enforces each impairment shown. */
  mechanisms: Mechanisms;
}

export interface NodeStatus {
  node: string;
  sandbox: string;
  state: string;
  interfaces: InterfaceStatus[];
  routes: { destination: string; gateway: string | null }[];
  /** Source addresses this node drops (partitions). */
  blocked: string[];
}

export interface LabStatus {
  lab: string;
  up: boolean;
  networks: { name: string; subnets: string[]; hostAddresses: string[] }[];
  nodes: NodeStatus[];
  /** The supervisor and its processes (supervisor/status.ts). */
  supervisor: SupervisorView;
  /** The active faults (fault-list.ts): name, kind, since, heals at, overdue. */
  faults: FaultStatus[];
  /** The lab record's state (`applying`: an `up` is running or was interrupted), undefined with no record. */
  state: LabState | undefined;
  /** Differences from the recorded file, read back from the kernel (empty without a record). */
  drift: DriftItem[];
}

async function nodeStatus(manager: Manager, lab: string, sandbox: string, state: string, networkOf: Map<string, string | undefined>, engines: readonly DelayStatus[]): Promise<NodeStatus> {
  const node = { node: nodeName(lab, sandbox), sandbox, state, interfaces: [], routes: [], blocked: [] };
  if (state !== 'ready') return node;
  const netns = manager.keyOf(sandbox);
  const [view, rates, faults] = await Promise.all([manager.kernelView(sandbox), readRates(netns), readFaults(netns)]);
  const interfaces = view.links.filter((l) => l.name !== 'lo').map((l): InterfaceStatus => ({
    name: l.name, network: networkOf.get(l.name), up: l.up, mtu: l.mtu,
    addresses: view.addresses.filter((a) => a.index === l.index).map((a) => a.address),
    rate: rates.get(l.name), loss: faults.loss[l.name],
    ...interfaceImpairments(sandbox, l.name, { rate: rates.get(l.name), loss: faults.loss[l.name], delayQueue: faults.delayQueues[l.name] }, engines),
  }));
  const routes = view.routes.map((r) => ({ destination: r.destination, gateway: r.gateway }));
  return { ...node, interfaces, routes, blocked: faults.blocked };
}

export async function status(manager: Manager, lab: string): Promise<LabStatus> {
  const sandboxes = labSandboxes(manager, lab).sort((x, y) => (x.record.name < y.record.name ? -1 : 1));
  const supervisor = await supervisorView(manager, lab);
  const nodes: NodeStatus[] = [];
  for (const s of sandboxes) {
    const networkOf = new Map(s.record.config.interfaces.map((i) => [i.dstName, i.network]));
    nodes.push(await nodeStatus(manager, lab, s.record.name, s.state, networkOf, supervisor.delay));
  }
  const networks = labNetworks(manager, lab).map((n) => ({ name: n.name, subnets: n.config.subnets.map((x) => x.subnet), hostAddresses: n.config.subnets.map((x) => x.gateway) }));
  const read: LabStatus = {
    lab, up: nodes.length > 0 || networks.length > 0, networks, nodes, supervisor, faults: activeFaultStatus(manager, lab), state: undefined, drift: [],
  };
  const rec = manager.labs.get(lab);
  if (rec === undefined) return read;
  let spec;
  try {
    spec = specFromStored(rec.spec);
  } catch {
    return { ...read, state: rec.state }; // a record made for faults before any `up` recorded a file
  }
  return { ...read, state: rec.state, drift: computeDrift(spec, read) };
}
