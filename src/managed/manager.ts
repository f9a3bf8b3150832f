/**
 * Layer: managed.
 *
 * The typed API of nsbox's crash-safe orchestration, over one state root: sandboxes with
 * records (create, remove, interfaces, routes, gateways, neighbours), networks, connect and
 * disconnect, exec and run, gc and restore, and checks of the host (doctor). Every change is recorded before the kernel is
 * touched and marked done after, under the sandbox's cross-process lock, so a process killed
 * at any point leaves what gc finishes or undoes. The CLI, the CNI plugin and labs call this;
 * each method is one line into the module that does the work.
 */
import type { ChildProcess } from 'node:child_process';
import { DB_FILE_NAME, explainStoreError, type InterfaceRecord, type LabRecords, type PortRecord, type SandboxRecord } from '../store/index.js';
import { join } from 'node:path';
import type { NetworkCreateOptions, NetworkInfo } from '../network/index.js';
import type { ForwardFinding, HostChange } from '../firewall/index.js';
import { DEFAULT_ROOT, StateRoot, type RootOptions } from './root.js';
import {
  createSandbox, kernelView, removeSandbox, removeSandboxes, statusOf, type CreateSandboxOptions, type KernelView, type RemoveOutcome, type SandboxStatus,
} from './sandboxes.js';
import { addInterface, removeInterface, type AddInterfaceOptions } from './interfaces.js';
import {
  addNeighbor, addRoute, removeNeighbor, removeRoute, setGateway, unsetGateway, type Gateways, type Neighbor, type NeighborSpec, type RouteSpec,
} from './settings.js';
import { connect, disconnect, type ConnectOptions, type Connection } from './connect.js';
import { addVethPair, type VethPair, type VethPairEnd } from './veth-pair.js';
import { deferNames, refreshNames, type NamesScope } from './names.js';
import { listPorts, publish, unpublish } from './ports.js';
import type { PortMapping } from './port-spec.js';
import { networkView, removeNetworks, viewOf, type NetworkView } from './networks.js';
import {
  exec, execInPlace, execTarget, run, type LaunchInfo, type ChildOutcome, type ExecInPlaceOptions, type ExecOptions, type RunOptions, type RunOutcome,
} from './run.js';
import { spawnIn, tcpConnectsIn, type SpawnInOptions } from './spawn-in.js';
import { readSysctls, setSysctls, type SysctlChange } from './sysctls.js';
import { gc, gcSandboxes, type GcOptions, type GcResult } from './gc.js';
import { restore, type RestoreOptions, type RestoreOutcome } from './restore.js';
import { doctor, type DoctorReport } from './doctor.js';
import { attachExternal, type AttachExternalOptions, type ExternalAttachment } from './external.js';
import { installFirewallHook, type FirewallHook, type FirewallHookOptions } from './firewall-hook.js';

export class Manager {
  readonly #root: StateRoot;

  private constructor(root: StateRoot) {
    this.#root = root;
  }

  /** Work on the state root `root` (default NSBOX_ROOT, else /var/lib/nsbox). Nothing is opened yet. */
  static open(options: RootOptions = {}): Manager {
    return new Manager(new StateRoot(options));
  }

  /** The state directory. */
  get root(): string {
    return this.#root.dir;
  }

  /** The root's host name (--host / NSBOX_HOST, kept in ROOT/host), or undefined. */
  get hostName(): string | undefined {
    return this.#root.host;
  }

  /** A SQLite error of this root's database as one saying what is wrong and what to do (store/db.ts), else undefined. */
  explainStoreError(err: unknown): Error | undefined {
    return explainStoreError(err, join(this.#root.dir, DB_FILE_NAME));
  }

  /** The labs' records (src/lab/): each lab's validated file, its state and its active faults. */
  get labs(): LabRecords {
    return this.#root.labs;
  }

  /** Hold a lab's cross-process lock while `fn` runs. */
  labLocked<T>(lab: string, fn: () => Promise<T>): Promise<T> { return this.#root.labLocked(lab, fn); }

  /** Try a lab's lock without waiting: undefined when another process holds it. */
  tryLabLocked<T>(lab: string, fn: () => Promise<T>): Promise<T | undefined> { return this.#root.tryLabLocked(lab, fn); }

  /** The directory of a lab's files: ROOT/labs/LAB. */
  labDir(lab: string): string { return this.#root.labDir(lab); }

  /** Close the database and host handles (they open again on next use). */
  close(): void {
    this.#root.close();
  }

  /** Host-wide settings changed since the last call (forwarding turned on …), for the caller to say once. */
  takeHostChanges(): HostChange[] { return this.#root.takeHostChanges(); }

  /** Forward chains of other firewalls that drop the traffic of networks created since the last call, with the commands that let it through. */
  takeForwardFindings(): ForwardFinding[] { return this.#root.takeForwardFindings(); }

  /** Warnings since the last call, each once (e.g. a sandbox on a network with no DNS server it can reach), for the caller to say. */
  takeWarnings(): string[] { return this.#root.takeWarnings(); }

  /** The namespace file (key) of a sandbox name. */
  keyOf(name: string): string { return this.#root.keyOf(name); }

  // Sandboxes
  createSandbox(name: string, options?: CreateSandboxOptions): Promise<SandboxRecord> { return createSandbox(this.#root, name, options); }
  removeSandbox(name: string): Promise<RemoveOutcome> { return removeSandbox(this.#root, name); }
  removeSandboxes(names: readonly string[], onProgress?: (name: string, done: number, total: number) => void): Promise<RemoveOutcome[]> {
    return removeSandboxes(this.#root, names, onProgress);
  }
  sandbox(name: string): SandboxStatus { return statusOf(this.#root.record(name)); }
  sandboxes(): SandboxStatus[] { return this.#root.records.list().map(statusOf); }
  kernelView(name: string): Promise<KernelView> { return kernelView(this.#root.record(name)); }
  /** A sandbox over a namespace made outside nsbox (a container runtime's), attached to one network: all or nothing. `removeSandbox` undoes it (and unpins, never destroys, the namespace). */
  attachExternal(name: string, options: AttachExternalOptions): Promise<ExternalAttachment> { return attachExternal(this.#root, name, options); }

  // Interfaces, routes, gateways, neighbours
  addInterface(name: string, src: string, options?: AddInterfaceOptions): Promise<InterfaceRecord> { return addInterface(this.#root, name, src, options); }
  removeInterface(name: string, ifname: string): Promise<InterfaceRecord> { return removeInterface(this.#root, name, ifname); }
  /** A veth pair between two sandboxes, born in their namespaces (no end in the host), recorded in both (veth-pair.ts). */
  addVethPair(a: VethPairEnd, b: VethPairEnd): Promise<VethPair> { return addVethPair(this.#root, a, b); }
  /**
   * Run `fn` with the names refreshes it causes (connect, interfaces, removals: each rewrites the
   * hosts files of a network's members) merged into one, done when it ends (names-defer.ts).
   */
  deferNames<T>(fn: () => Promise<T>): Promise<T> { return deferNames(this.#root, fn); }
  /** Rewrite the names files of these sandboxes and of every member of these networks now (deferred inside deferNames). */
  refreshNames(scope: Pick<NamesScope, 'sandboxes' | 'networks'>): void { refreshNames(this.#root, scope); }
  addRoute(name: string, route: RouteSpec): Promise<RouteSpec> { return addRoute(this.#root, name, route); }
  removeRoute(name: string, route: RouteSpec): Promise<RouteSpec> { return removeRoute(this.#root, name, route); }
  setGateway(name: string, ip: string): Promise<Gateways> { return setGateway(this.#root, name, ip); }
  unsetGateway(name: string, family?: 4 | 6): Promise<Gateways> { return unsetGateway(this.#root, name, family); }
  addNeighbor(name: string, neighbor: NeighborSpec): Promise<Neighbor> { return addNeighbor(this.#root, name, neighbor); }
  removeNeighbor(name: string, neighbor: NeighborSpec): Promise<Neighbor> { return removeNeighbor(this.#root, name, neighbor); }

  /** Network sysctls (`net.*`) inside a sandbox, written where they differ (not recorded: the caller writes them again). */
  setSysctls(name: string, sysctls: readonly { key: string; value: string }[], dryRun?: boolean): Promise<SysctlChange[]> { return setSysctls(this.#root, name, sysctls, dryRun); }
  readSysctls(name: string, keys: readonly string[]): Promise<Map<string, string | undefined>> { return readSysctls(this.#root, name, keys); }

  // Networks
  async createNetwork(name: string, options?: NetworkCreateOptions): Promise<NetworkView> { return viewOf(this.#root, await this.#root.networks.create(name, options)); }
  networks(): NetworkView[] { return this.#root.networks.list().map((n) => viewOf(this.#root, n)); }
  network(name: string): NetworkView { return networkView(this.#root, name); }
  removeNetworks(names: readonly string[]): Promise<{ name: string; removed: boolean }[]> { return removeNetworks(this.#root, names); }
  ensureDefaultNetwork(): Promise<NetworkInfo> { return this.#root.networks.ensureDefault(); }
  connect(network: string, name: string, options?: ConnectOptions): Promise<Connection> { return connect(this.#root, network, name, options); }
  disconnect(network: string, name: string): Promise<boolean> { return disconnect(this.#root, network, name); }

  /** Every published port, or a sandbox's. */
  ports(name?: string): PortRecord[] { if (name !== undefined) this.#root.record(name); return listPorts(this.#root, name); }
  publish(name: string, mappings: readonly PortMapping[]): Promise<PortRecord[]> { return publish(this.#root, name, mappings); }
  unpublish(name: string, which?: (p: PortRecord) => boolean): Promise<PortRecord[]> { return unpublish(this.#root, name, which); }

  // Processes
  exec(name: string, argv: readonly string[], options?: ExecOptions): Promise<ChildOutcome> { return exec(this.#root, name, argv, options); }
  /** `exec` with this process replaced by the command (no child; never returns, throws when nothing was replaced). For a process with nothing left to do: the CLI. */
  execInPlace(name: string, argv: readonly string[], options?: ExecInPlaceOptions): never { return execInPlace(this.#root, name, argv, options); }
  run(argv: readonly string[], options?: RunOptions): Promise<RunOutcome> { return run(this.#root, argv, options); }
  /** Where `exec NAME` would start its command, its names files brought up to date (for a command started by another process). */
  execTarget(name: string): LaunchInfo { return execTarget(this.#root, name); }
  /** Start a process inside a sandbox as `exec` does (the nsbox-exec helper), with the caller's stdio, cwd and env; not waited for. */
  spawnIn(name: string, argv: readonly string[], options?: SpawnInOptions): Promise<ChildProcess> { return spawnIn(this.#root, name, argv, options); }
  /** Whether a TCP connect to host:port (an IP address) made inside the sandbox succeeds within `timeoutMs`. */
  tcpConnects(name: string, host: string, port: number, timeoutMs: number): Promise<boolean> { return tcpConnectsIn(this.#root, name, host, port, timeoutMs); }

  // Repair
  gc(options?: GcOptions): Promise<GcResult> { return gc(this.#root, options); }
  /** gc of these sandboxes' records only (interrupted create/rm, half-added interfaces): a lab's `up` resuming. */
  gcSandboxes(names: readonly string[], options?: Pick<GcOptions, 'dryRun'>): Promise<GcResult> { return gcSandboxes(this.#root, names, options); }
  restore(options?: RestoreOptions): Promise<RestoreOutcome[]> { return restore(this.#root, options); }

  // The host
  /** Read-only checks of what the networks need from the host (nf_tables, the table, other firewalls, forwarding …). */
  doctor(): Promise<DoctorReport> { return doctor(this.#root); }
  /** The systemd drop-in that runs `nsbox restore --firewall-only` after nftables.service (re)loads the ruleset. */
  installFirewallHook(options: Pick<FirewallHookOptions, 'unitDir'> = {}): FirewallHook {
    return installFirewallHook({ ...options, ...(this.#root.dir === DEFAULT_ROOT ? {} : { root: this.#root.dir }) });
  }
}
