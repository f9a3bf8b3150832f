/**
 * Layer: network.
 *
 * The options of `Networks.create` and the checks every driver shares: the MTU, the subnets
 * (at most one per family, IPv6 only when asked for) and their gateways. A driver checks its
 * own fields in its `validate` (driver.ts). Nothing here touches the host.
 */
import { ConfigError } from '../errors.js';
import { ipVersion } from '../net/ip.js';
import type { MacvlanMode } from '../netlink/route/schema/link-macvlan.js';
import type { NetworkRecord, OverlayConfig } from '../store/index.js';
import { checkGateway, defaultGateway, parseSubnet, type Subnet } from './ipam.js';

export type { MacvlanMode } from '../netlink/route/schema/link-macvlan.js';

/** The kinds of network, as records and `--driver` name them. */
export type NetworkDriverName = NetworkRecord['driver'];

export interface NetworkCreateOptions {
  driver?: NetworkDriverName;
  /** One IPv4 and/or one IPv6 subnet; a bridge network without an IPv4 one gets a free /16. */
  subnets?: readonly string[];
  /** IPv4 gateway (default: the subnet's first address). */
  gateway?: string;
  /** IPv6 gateway (default: the IPv6 subnet's first address). */
  gateway6?: string;
  /** Require an IPv6 subnet. */
  ipv6?: boolean;
  /** bridge: the host bridge (default: defaultBridgeName of the network). */
  bridgeName?: string;
  /** macvlan: the host link the sandboxes' links hang off. */
  parent?: string;
  /** macvlan: the mode (default bridge). */
  macvlanMode?: MacvlanMode;
  mtu?: number;
  /** No default route in the sandboxes, and (bridge) no way out of the host at all. */
  internal?: boolean;
  /** bridge: masquerade the sandboxes' traffic to the outside (default true; false to route it as it is). */
  masquerade?: boolean;
  /**
   * bridge: the CNI IPAM plugin that gives the addresses (nsbox-cni with a delegated `ipam`).
   * No subnets are given: they are learned from the plugin's answers (`Networks.attach` with
   * `assign`), and `nsbox connect` refuses the network.
   */
  ipamPlugin?: string;
  /**
   * overlay: the network as etcd holds it and this host's block in it, claimed by the caller
   * (src/overlay/join.ts) before the record is made.
   */
  overlay?: OverlayConfig;
}

export const DEFAULT_MTU = 1500;
const MIN_MTU = 68;
const MAX_MTU = 65535;

/** The shared options, checked: the MTU and the subnets given (not yet those a driver adds). */
export interface CheckedCreateOptions {
  mtu: number;
  subnets: Subnet[];
}

/** A subnet with the gateway the network gives it. */
export interface SubnetWithGateway {
  subnet: Subnet;
  gateway: string;
}

/** Check the options every driver shares; ConfigError naming the field. */
export function checkCreateOptions(options: NetworkCreateOptions): CheckedCreateOptions {
  const mtu = options.mtu ?? DEFAULT_MTU;
  if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) throw new ConfigError(`invalid MTU ${String(options.mtu)}: ${MIN_MTU} to ${MAX_MTU}`, 'mtu');
  const subnets = (options.subnets ?? []).map(parseSubnet);
  if (options.ipamPlugin !== undefined) {
    if (options.driver !== undefined && options.driver !== 'bridge') throw new ConfigError('addresses from an IPAM plugin need a bridge network', 'driver');
    if (subnets.length > 0 || options.ipv6 || options.gateway !== undefined || options.gateway6 !== undefined) {
      throw new ConfigError(`the subnets of a network whose addresses come from the IPAM plugin ${options.ipamPlugin} are learned from its answers; give none`, 'subnet');
    }
    return { mtu, subnets };
  }
  if (subnets.filter((s) => s.family === 4).length > 1 || subnets.filter((s) => s.family === 6).length > 1) {
    throw new ConfigError('give at most one IPv4 and one IPv6 subnet', 'subnet');
  }
  const v6 = subnets.some((s) => s.family === 6);
  if (options.ipv6 && !v6) throw new ConfigError('--ipv6 needs an IPv6 --subnet (e.g. fd00:89::/64)', 'subnet');
  if (!options.ipv6 && v6) throw new ConfigError('an IPv6 subnet needs --ipv6', 'subnet');
  return { mtu, subnets };
}

/** The gateway of each subnet: the one given for its family, checked, or its first host address. */
export function withGateways(subnets: readonly Subnet[], options: Pick<NetworkCreateOptions, 'gateway' | 'gateway6'>): SubnetWithGateway[] {
  const out = subnets.map((subnet) => {
    const given = subnet.family === 4 ? options.gateway : options.gateway6;
    if (given !== undefined && ipVersion(given) !== subnet.family) throw new ConfigError(`invalid gateway ${JSON.stringify(given)} for ${subnet.cidr}`, 'gateway');
    const gateway = given ?? defaultGateway(subnet);
    checkGateway(subnet, gateway);
    return { subnet, gateway };
  });
  if (options.gateway !== undefined && !subnets.some((s) => s.family === 4)) throw new ConfigError('--gateway needs an IPv4 subnet', 'gateway');
  return out;
}
