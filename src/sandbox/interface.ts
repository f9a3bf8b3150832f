/**
 * Layer: sandbox.
 *
 * osl Interface: one link configured into a sandbox. Accessors hand out copies; the mutable
 * state lives in an InterfaceState the sandbox modules reach through stateOf().
 */
import { cidrText } from '../net/cidr.js';
import type { ResolvedOptions } from './options.js';

/** The counters osl reports for an interface (`docker stats` network I/O). */
export interface InterfaceStatistics {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  rxDropped: number;
  txDropped: number;
}

/** What the sandbox keeps per interface: its validated options plus identity. Internal. */
export interface InterfaceState extends Omit<ResolvedOptions, 'dstName' | 'isBridge'> {
  srcName: string;
  dstPrefix: string;
  dstName: string;
  /** dstName of the master bridge inside the sandbox. */
  dstMaster: string | undefined;
  bridge: boolean;
  /** Made on first use by stopSignal() (an AbortController is not free); see stopInterface(). */
  stop: AbortController | undefined;
  stopped: boolean;
}

/** The operations an Interface forwards to its sandbox. */
export interface InterfaceOwner {
  removeInterface(iface: Interface): Promise<void>;
  interfaceStatistics(iface: Interface): Promise<InterfaceStatistics>;
}

const states = new WeakMap<Interface, InterfaceState>();
const owners = new WeakMap<Interface, InterfaceOwner>();

export function stateOf(iface: Interface): InterfaceState {
  const s = states.get(iface);
  if (s === undefined) throw new TypeError('not an nsbox Interface');
  return s;
}

export function newInterfaceState(srcName: string, dstPrefix: string, dstName: string, o: ResolvedOptions, dstMaster: string | undefined): InterfaceState {
  // Spelled out rather than spread: one object shape for every interface.
  return {
    srcName, dstPrefix, dstName, dstMaster, bridge: o.isBridge, master: o.master, mac: o.mac, ipv4: o.ipv4, ipv6: o.ipv6,
    linkLocal: o.linkLocal, routes: o.routes, sysctls: o.sysctls, createdInContainer: o.createdInContainer,
    advertiseAddrNMsgs: o.advertiseAddrNMsgs, advertiseAddrIntervalMs: o.advertiseAddrIntervalMs, stop: undefined, stopped: false,
  };
}

/** Take an interface off its sandbox's list (nothing if it is not on it). */
export function unregister(core: { ifaces: Interface[] }, iface: Interface): void {
  const i = core.ifaces.indexOf(iface);
  if (i >= 0) core.ifaces.splice(i, 1);
}

/** Aborted when the interface is removed: cancels pending unsolicited ARP/NA. */
export function stopSignal(st: InterfaceState): AbortSignal {
  st.stop ??= new AbortController();
  if (st.stopped) st.stop.abort();
  return st.stop.signal;
}

/** The interface is being removed (or its sandbox closed): abort what waits on stopSignal(). */
export function stopInterface(st: InterfaceState): void {
  st.stopped = true;
  st.stop?.abort();
}

export class Interface {
  /** Internal: sandboxes create interfaces; users get them from addInterface/interfaces(). */
  constructor(owner: InterfaceOwner, state: InterfaceState) {
    states.set(this, state);
    owners.set(this, owner);
  }

  /** The link's name in the host (or the bridge's name), and the name it goes back to. */
  get srcName(): string { return stateOf(this).srcName; }
  /** The link's name inside the sandbox. */
  get dstName(): string { return stateOf(this).dstName; }
  get dstPrefix(): string { return stateOf(this).dstPrefix; }
  /** srcName of the bridge this link is enslaved to. */
  get master(): string | undefined { return stateOf(this).master; }
  /** dstName of that bridge inside the sandbox. */
  get dstMaster(): string | undefined { return stateOf(this).dstMaster; }
  get bridge(): boolean { return stateOf(this).bridge; }
  get mac(): string | undefined { return stateOf(this).mac; }
  /** Primary IPv4 address as 'ip/prefix'. */
  get address(): string | undefined { const a = stateOf(this).ipv4; return a && cidrText(a); }
  /** Primary IPv6 address as 'ip/prefix'; undefined when a sysctl disabled IPv6 on the link. */
  get addressIPv6(): string | undefined { const a = stateOf(this).ipv6; return a && cidrText(a); }
  get linkLocalAddresses(): string[] { return stateOf(this).linkLocal.map(cidrText); }
  get routes(): string[] { return stateOf(this).routes.map(cidrText); }
  get createdInContainer(): boolean { return stateOf(this).createdInContainer; }

  /** Same as `sandbox.removeInterface(this)`. */
  remove(): Promise<void> {
    return owners.get(this)!.removeInterface(this);
  }

  /** 64-bit counters of the link (`ip -s link show DEV`). */
  statistics(): Promise<InterfaceStatistics> {
    return owners.get(this)!.interfaceStatistics(this);
  }

  toJSON(): Record<string, unknown> {
    return {
      srcName: this.srcName, dstName: this.dstName, dstPrefix: this.dstPrefix, master: this.master, bridge: this.bridge,
      mac: this.mac, address: this.address, addressIPv6: this.addressIPv6, linkLocalAddresses: this.linkLocalAddresses, routes: this.routes,
    };
  }
}
