/**
 * Layer: network.
 *
 * NetworkDriver: what one kind of network does to the kernel (netavark's NetworkDriver trait,
 * with its Bridge and Vlan; here bridge.ts and macvlan.ts, looked up in drivers.ts). The
 * Networks facade keeps everything the kinds share: records, subnets and gateways, address
 * leases, MACs, the sandbox's interface (addInterface with the leased addresses) and its
 * default route. A driver owns the links: the network's host side and each sandbox's link.
 *
 * What an implementation owes the facade:
 * - validate() checks the driver's own options, and the host where they name something in
 *   it, before anything is made; it changes nothing, and refuses with a ConfigError naming
 *   the option. It returns the subnets the network gets (it may add one) and the driver's
 *   part of the record.
 * - conflict() runs inside the insert transaction, once per other network: what may not be
 *   shared (a bridge) is refused there, so two processes cannot both take it.
 * - setUp() makes sure the network's host side exists as the record says. Idempotent, and
 *   safe against another process doing the same at once (EEXIST from a race is success). It
 *   says whether it made something (restore reports the network as recreated). It runs on
 *   create, on restore and before each attach, so state lost with a reboot comes back.
 * - attach() makes the sandbox's link, born inside the sandbox's namespace with the name,
 *   MAC and MTU asked for (no move, no rename). If it throws, it leaves no link for the
 *   sandbox (the host side it may have set up first stays: it is the network's).
 * - detach() removes what attach() left outside the sandbox (a bridge's host veth end); the
 *   facade has removed the sandbox's end already. It also undoes an attach() whose later
 *   steps (addInterface, the gateway) failed. Already gone is success.
 * - tearDown() removes what setUp() made and only that (a bridge nsbox made, never one it
 *   adopted). It also runs when setUp() fails in create. Already gone is success.
 * No method keeps state between calls: everything a driver needs is in the record.
 *
 * Firewall hooks (the NAT issue) attach to this seam and nowhere else: a network's elements
 * (its bridge, its masqueraded subnets) are added in setUp() and removed in tearDown(), a
 * sandbox's published ports in attach() and detach(). Restore calls setUp() for every network,
 * so what a reboot flushed is put back by the same code.
 */
import type { ConfigError } from '../errors.js';
import type { Rtnl } from '../netlink/route/ops/index.js';
import type { NetworkConfig, NetworkRecord } from '../store/index.js';
import type { NetworkCreateOptions, NetworkDriverName } from './create-options.js';
import type { Subnet } from './ipam.js';

/** What the facade lends a driver. */
export interface DriverContext {
  /** rtnetlink in the host namespace, opened on first use. */
  host(): Rtnl;
  /** The state root's scope: bridge tags carry it, so two roots never take each other's bridges. */
  readonly scope: string;
  /** Every network on record. */
  networks(): NetworkRecord[];
}

/** What create() hands validate(). */
export interface CreateRequest {
  name: string;
  options: NetworkCreateOptions;
  /** The subnets given, parsed (at most one per family). */
  subnets: readonly Subnet[];
}

/** The driver's part of a network's record. */
export type DriverConfig = Pick<NetworkConfig, 'bridge' | 'managedBridge' | 'parent' | 'macvlanMode' | 'overlay'>;

/** validate()'s answer. */
export interface DriverPlan {
  /** The subnets the network gets: those given, and any the driver picked. */
  subnets: Subnet[];
  config: DriverConfig;
  /** The MTU the network gets when none was given (overlay: the underlay's less the encapsulation). */
  mtu?: number;
}

/** The link attach() makes for a sandbox. */
export interface LinkRequest {
  /** The sandbox's namespace, where the link is born. */
  netnsFd: number;
  /** Who holds the leases (the sandbox's key): names and tags what the driver makes for it. */
  owner: string;
  /** The link's name inside the sandbox. */
  ifname: string;
  mac: string;
  /** bridge: the hairpin flag of the host end (default on: a sandbox reaches its own published ports). */
  hairpin?: boolean;
}

export interface NetworkDriver {
  readonly name: NetworkDriverName;
  /** Check the driver's options against the host; returns the subnets and the driver's config. Changes nothing. */
  validate(request: CreateRequest, ctx: DriverContext): Promise<DriverPlan>;
  /** Why a new network with `config` may not coexist with `other`, or undefined. Synchronous: runs in a transaction. */
  conflict(config: DriverConfig, other: NetworkRecord): ConfigError | undefined;
  /** Make sure the host side exists and is configured (idempotent); true if this call made it. */
  setUp(network: NetworkRecord, ctx: DriverContext): Promise<boolean>;
  /**
   * Make the sandbox's link; returns the name of its host-side end, if it has one, and the
   * per-interface sysctls the sandbox's end should get ('net.X.Y.IFNAME.Z=value').
   */
  attach(network: NetworkRecord, link: LinkRequest, ctx: DriverContext): Promise<{ hostIf: string | undefined; sysctls?: string[] }>;
  /**
   * The links attach() leaves outside the sandbox for `owner` (they die with the sandbox's
   * namespace, a moment later: teardown waits for them). Pure: names only.
   */
  hostLinks(network: NetworkRecord, owner: string): string[];
  /** Remove what attach() left outside the sandbox; already gone is success. */
  detach(network: NetworkRecord, owner: string, ctx: DriverContext): Promise<void>;
  /** Remove what setUp() made (only that); already gone is success. */
  tearDown(network: NetworkRecord, ctx: DriverContext): Promise<void>;
}
