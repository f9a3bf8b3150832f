/**
 * Layer: sandbox.
 *
 * osl Namespace: a network sandbox bound to a file (its key). It owns one fd of its
 * namespace (carrying the liveness lease) and one rtnetlink socket made inside it, for its
 * whole life; no operation switches the caller's namespace except invoke() and spawn().
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { nodeChildProcess } from '../builtins.js';
import { writeFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { NETLINK_ROUTE, closeNetns, destroyNetns, netnsReplaced, withNetns, type CreatedNetns } from '../sys/index.js';
import { Rtnl } from '../netlink/route/ops/index.js';
import { DEFAULT_RECV_BUFFER_BYTES } from '../netlink/native-transport.js';
import { ClosedError, SandboxError, SysError } from '../errors.js';
import { Mutex } from './mutex.js';
import { stateOf, stopInterface, type Interface, type InterfaceOwner, type InterfaceStatistics } from './interface.js';
import type { InterfaceOptions } from './options.js';
import { addInterface } from './interface-add.js';
import { removeInterface, type RemoveInterfaceOptions } from './interface-remove.js';
import {
  addStaticRoute, removeStaticRoute, setDefaultRoute, setGateway, unsetDefaultRoute, unsetGateway, type StaticRoute,
} from './routes.js';
import { addNeighbor, deleteNeighbor, type AddNeighborOptions } from './neighbors.js';
import { restoreInterfaces, type RestoreInterface } from './restore.js';
import { applyKernelKnobs } from './sysctl.js';
import { createNamespaceFile, openNamespaceFile, type NamespaceSource } from './namespace-file.js';
import { releaseSandboxSysctlRoot } from './sysctl-root.js';
import { wrap } from './wrap.js';
import type { SandboxCore } from './core.js';

/** osl SandboxType: which kernel tweaks applyOSTweaks applies. */
export const SandboxType = { Ingress: 0, LoadBalancer: 1 } as const;
export type SandboxType = (typeof SandboxType)[keyof typeof SandboxType];

export interface SandboxCreateOptions {
  /** Create a new namespace (default), or alias the host's (false: the "default" sandbox). */
  osCreate?: boolean;
  /** Adopt the namespace already mounted at the key (after a restart) instead of creating one. */
  isRestore?: boolean;
}

const LB_KNOBS = {
  'net.ipv4.vs.conn_reuse_mode': { value: '0' },
  'net.ipv4.vs.expire_nodest_conn': { value: '1' },
  'net.ipv4.vs.expire_quiescent_template': { value: '1' },
};

/** The sandbox's rtnetlink socket, as Rtnl.open would make it. */
const NETLINK_SPEC = { protocol: NETLINK_ROUTE, recvBufferBytes: DEFAULT_RECV_BUFFER_BYTES };

/** The syscalls of the netlink socket made with a new namespace. */
const NETLINK_STEPS = new Set(['socket', 'setsockopt', 'bind', 'getsockname']);

/** A new namespace on `key` with the sandbox's netlink socket made inside it. */
function createSandboxNamespace(key: string): CreatedNetns {
  try {
    return createNamespaceFile(key, NETLINK_SPEC);
  } catch (err) {
    // Reported as when the socket was opened separately (osl's message).
    if (err instanceof SysError && NETLINK_STEPS.has(err.syscall)) throw wrap('failed to create a netlink handle', err);
    throw err;
  }
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || !isAbsolute(key) || key.includes('\0') || key.endsWith('/')) {
    throw new TypeError(`invalid sandbox key ${JSON.stringify(key)}: an absolute file path, e.g. from generateKey()`);
  }
}

export class Sandbox implements InterfaceOwner {
  readonly #core: SandboxCore;

  private constructor(core: SandboxCore) {
    this.#core = core;
  }

  /**
   * osl NewSandbox: create a network namespace bound to `key` (replacing a previous mount
   * there), or with `isRestore` adopt the one already mounted; bring `lo` up. On failure
   * nothing this call made is left behind.
   */
  static async create(key: string, options: SandboxCreateOptions = {}): Promise<Sandbox> {
    checkKey(key);
    const osCreate = options.osCreate ?? true;
    const source: NamespaceSource = options.isRestore ? { kind: 'existing' } : osCreate ? { kind: 'new' } : { kind: 'host' };
    return Sandbox.#open(key, source, !osCreate);
  }

  /**
   * osl GetSandboxForExternalKey: pin the namespace at `sourceNsPath` (usually
   * /proc/PID/ns/net of a container's task) on `key` and manage it as a sandbox.
   */
  static async fromExternal(sourceNsPath: string, key: string): Promise<Sandbox> {
    checkKey(key);
    if (typeof sourceNsPath !== 'string' || !isAbsolute(sourceNsPath)) throw new TypeError(`invalid namespace path ${JSON.stringify(sourceNsPath)}`);
    return Sandbox.#open(key, { kind: 'external', path: sourceNsPath }, false);
  }

  static async #open(key: string, source: NamespaceSource, isDefault: boolean): Promise<Sandbox> {
    // A new namespace comes with its netlink socket already made inside.
    const { nsFd, netlink } = source.kind === 'new' ? createSandboxNamespace(key) : { nsFd: openNamespaceFile(key, source), netlink: undefined };
    let rtnl: Rtnl | undefined;
    try {
      try {
        rtnl = Rtnl.open({ netns: nsFd, adopt: netlink });
      } catch (err) {
        throw wrap('failed to create a netlink handle', err);
      }
      await rtnl.link.set({ name: 'lo' }, { up: true });
    } catch (err) {
      rtnl?.close();
      closeNetns(nsFd);
      if (source.kind !== 'existing') {
        try {
          destroyNetns(key);
        } catch {
          // gc() reclaims it
        }
      }
      throw err;
    }
    return new Sandbox({
      key, nsFd, rtnl, isDefault, ifaces: [], lock: new Mutex(), gateway: undefined, gatewayIPv6: undefined,
      defRoute4SrcName: undefined, defRoute6SrcName: undefined, staticRoutes: [], ipv6LoEnabled: undefined, sysctlRoot: undefined,
      destroyed: false,
    });
  }

  #live(): SandboxCore {
    if (this.#core.destroyed) throw new ClosedError(`sandbox ${this.#core.key}`);
    return this.#core;
  }

  /** The key: the absolute path of the sandbox's netns file. */
  get key(): string {
    return this.#core.key;
  }

  /** The rtnetlink handle inside the sandbox, for what the osl API does not cover. */
  get netlink(): Rtnl {
    return this.#live().rtnl;
  }

  /** The sandbox's namespace fd (valid until destroy). */
  get netnsFd(): number {
    return this.#live().nsFd;
  }

  get destroyed(): boolean {
    return this.#core.destroyed;
  }

  /** The registered interfaces, in the order they were added (a snapshot). */
  interfaces(): Interface[] {
    return [...this.#core.ifaces];
  }

  /** The first registered interface with this srcName. */
  interfaceBySrcName(srcName: string): Interface | undefined {
    return this.#core.ifaces.find((i) => stateOf(i).srcName === srcName);
  }

  /**
   * osl AddInterface: move the host link `srcName` into the sandbox (or create a bridge, or
   * adopt a link created inside), name it `dstName` or dstPrefix + the lowest free index,
   * configure, bring up, route and advertise it.
   */
  async addInterface(srcName: string, dstPrefix: string, options?: InterfaceOptions): Promise<Interface> {
    return addInterface(this.#live(), this, srcName, dstPrefix, options);
  }

  /** osl RemoveInterface. */
  async removeInterface(iface: Interface, options?: RemoveInterfaceOptions): Promise<void> {
    return removeInterface(this.#live(), iface, options);
  }

  /** osl Interface.Statistics. */
  async interfaceStatistics(iface: Interface): Promise<InterfaceStatistics> {
    const core = this.#live();
    const dst = stateOf(iface).dstName;
    let s;
    try {
      s = await core.rtnl.link.stats({ name: dst });
    } catch (err) {
      throw wrap(`failed to retrieve the statistics for ${dst} in netns ${core.key}`, err);
    }
    return {
      rxBytes: s.rxBytes, txBytes: s.txBytes, rxPackets: s.rxPackets, txPackets: s.txPackets, rxDropped: s.rxDropped, txDropped: s.txDropped,
    };
  }

  get gateway(): string | undefined { return this.#core.gateway; }
  get gatewayIPv6(): string | undefined { return this.#core.gatewayIPv6; }

  /** osl SetGateway: default route via `gw`, out of the interface that reaches it directly. */
  async setGateway(gw: string | undefined): Promise<void> { return setGateway(this.#live(), gw, 4); }
  async setGatewayIPv6(gw: string | undefined): Promise<void> { return setGateway(this.#live(), gw, 6); }
  async unsetGateway(): Promise<void> { return unsetGateway(this.#live(), 4); }
  async unsetGatewayIPv6(): Promise<void> { return unsetGateway(this.#live(), 6); }

  /** osl SetDefaultRouteIPv4: a connected default route out of the interface `srcName`. */
  async setDefaultRouteIPv4(srcName: string): Promise<void> { return setDefaultRoute(this.#live(), srcName, 4); }
  async setDefaultRouteIPv6(srcName: string): Promise<void> { return setDefaultRoute(this.#live(), srcName, 6); }
  async unsetDefaultRouteIPv4(): Promise<void> { return unsetDefaultRoute(this.#live(), 4); }
  async unsetDefaultRouteIPv6(): Promise<void> { return unsetDefaultRoute(this.#live(), 6); }

  /** osl AddStaticRoute: `destination` via `nextHop`. */
  async addStaticRoute(route: StaticRoute): Promise<void> { return addStaticRoute(this.#live(), route); }
  /** osl RemoveStaticRoute: removes the route and forgets the object given to addStaticRoute. */
  async removeStaticRoute(route: StaticRoute): Promise<void> { return removeStaticRoute(this.#live(), route); }
  /** Copies of the static routes. */
  staticRoutes(): StaticRoute[] { return this.#core.staticRoutes.map((r) => ({ ...r })); }

  /** osl AddNeighbor: a permanent entry; NeighborSearchError if it exists. */
  async addNeighbor(ip: string, mac: string, options?: AddNeighborOptions): Promise<void> { return addNeighbor(this.#live(), ip, mac, options); }
  /** osl DeleteNeighbor; NeighborSearchError if it is missing. */
  async deleteNeighbor(ip: string, mac: string, options?: AddNeighborOptions): Promise<void> { return deleteNeighbor(this.#live(), ip, mac, options); }

  /** osl AddAliasIP: add `cidr` to the link named `ifName` inside the sandbox. */
  async addAliasIP(ifName: string, cidr: string): Promise<void> {
    const core = this.#live();
    const link = await core.rtnl.link.get({ name: ifName });
    await core.rtnl.addr.add({ index: link.index, address: cidr });
  }

  /** osl RemoveAliasIP. */
  async removeAliasIP(ifName: string, cidr: string): Promise<void> {
    const core = this.#live();
    const link = await core.rtnl.link.get({ name: ifName });
    await core.rtnl.addr.del({ index: link.index, address: cidr });
  }

  /** osl DisableARPForVIP: arp_ignore=1 and arp_announce=2 on the interface `srcName`. */
  async disableARPForVIP(srcName: string): Promise<void> {
    const core = this.#live();
    const iface = this.interfaceBySrcName(srcName);
    if (iface === undefined) throw new SandboxError(`failed to find interface ${srcName} in sandbox`, 'NSBOX_ERR_NOT_FOUND');
    const dst = stateOf(iface).dstName;
    withNetns(core.nsFd, () => {
      for (const [knob, value] of [['arp_ignore', '1'], ['arp_announce', '2']] as const) {
        const path = `/proc/sys/net/ipv4/conf/${dst}/${knob}`;
        try {
          writeFileSync(path, `${value}\n`);
        } catch (err) {
          throw wrap(`Failed to set ${path} to ${value}`, err);
        }
      }
    });
  }

  /** osl InvokeFunc: run `fn` synchronously with the thread inside the sandbox. */
  invoke<T>(fn: () => T): T {
    return withNetns(this.#live().nsFd, fn);
  }

  /** Start a child process inside the sandbox (child_process.spawn semantics). */
  spawn(command: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
    return withNetns(this.#live().nsFd, () => nodeChildProcess().spawn(command, args, options));
  }

  /** osl IPv6LoEnabled: whether `lo` has an IPv6 address (IPv6 works here); cached. */
  async ipv6LoEnabled(): Promise<boolean> {
    const core = this.#live();
    if (core.ipv6LoEnabled === undefined) await this.refreshIPv6LoEnabled();
    return core.ipv6LoEnabled ?? false;
  }

  /** osl RefreshIPv6LoEnabled. */
  async refreshIPv6LoEnabled(): Promise<boolean> {
    const core = this.#live();
    core.ipv6LoEnabled = false;
    try {
      const lo = await core.rtnl.link.get({ name: 'lo' });
      core.ipv6LoEnabled = (await core.rtnl.addr.list({ index: lo.index, family: 6 })).length > 0;
    } catch {
      // as upstream: a lookup failure means "not enabled"
    }
    return core.ipv6LoEnabled;
  }

  /** osl ApplyOSTweaks: load-balancer knobs, inside the sandbox only. */
  applyOSTweaks(types: readonly SandboxType[]): void {
    const core = this.#live();
    if (types.some((t) => t === SandboxType.LoadBalancer || t === SandboxType.Ingress)) {
      withNetns(core.nsFd, () => applyKernelKnobs(LB_KNOBS));
    }
  }

  /** osl RestoreInterfaces: re-register the interfaces of an adopted (isRestore) sandbox. */
  async restoreInterfaces(list: readonly RestoreInterface[], signal?: AbortSignal): Promise<Interface[]> {
    return restoreInterfaces(this.#live(), this, list, signal);
  }

  /** osl RestoreRoutes: remember static routes (nothing is programmed). */
  restoreRoutes(routes: readonly StaticRoute[]): void {
    this.#live().staticRoutes.push(...routes);
  }

  /** osl RestoreGateway: remember the gateway, or (no gw) the interface of the default route. */
  restoreGateway(isIPv4: boolean, gw: string | undefined, srcName: string): void {
    const core = this.#live();
    if (gw === undefined || gw === '') {
      if (isIPv4) core.defRoute4SrcName = srcName;
      else core.defRoute6SrcName = srcName;
    } else if (isIPv4) core.gateway = gw;
    else core.gatewayIPv6 = gw;
  }

  /**
   * Let go of the sandbox without destroying it: close the netlink socket and the namespace
   * fd (dropping the liveness lease); the namespace and its file stay. A tool that keeps its
   * own records (the nsbox CLI) re-adopts it later with `create(key, { isRestore: true })`.
   */
  close(): void {
    const core = this.#core;
    if (core.destroyed) return;
    core.destroyed = true;
    for (const iface of core.ifaces) stopInterface(stateOf(iface));
    core.rtnl.close();
    closeNetns(core.nsFd);
    core.nsFd = -1;
    releaseSandboxSysctlRoot(core);
  }

  /**
   * osl Destroy: close the netlink socket and the namespace fd (dropping the lease), unmount
   * and remove the file (unless a later create() on the key replaced this namespace there).
   * The kernel then frees the namespace and every link in it. Runs every step and reports all
   * failures; a second call does nothing.
   */
  destroy(): Promise<void> {
    const core = this.#core;
    if (core.destroyed) return Promise.resolve();
    core.destroyed = true;
    for (const iface of core.ifaces) stopInterface(stateOf(iface));
    const failures: unknown[] = [];
    const attempt = (fn: () => unknown): void => {
      try {
        fn();
      } catch (err) {
        failures.push(err);
      }
    };
    // A later create() on the same key replaced ours there: destroying ours must not take that one down.
    const replaced = netnsReplaced(core.nsFd, core.key);
    attempt(() => core.rtnl.close());
    attempt(() => closeNetns(core.nsFd));
    if (!replaced) attempt(() => destroyNetns(core.key));
    core.nsFd = -1;
    attempt(() => releaseSandboxSysctlRoot(core));
    if (failures.length === 1) return Promise.reject(wrap(`destroy sandbox ${core.key}`, failures[0]));
    if (failures.length > 1) return Promise.reject(new AggregateError(failures, `destroy sandbox ${core.key}: ${failures.length} steps failed`));
    return Promise.resolve();
  }
}
