/**
 * Layer: lab (pure).
 *
 * A lab network as `nsbox network create` options. nsbox networks always give the host an
 * address on a bridge (the gateway), while a lab's segment is its own unless the file gives a
 * `gateway` (docs/labs.md). Without one, the host still gets an address on the bridge, but
 * never one a node may want: the highest host address of the subnet that no interface of the
 * file uses; and the network is internal (no default route in the nodes, nothing forwarded
 * out of the host) and not masqueraded. Without a subnet (IPAM picks a /16 and every address)
 * the host takes nsbox's usual gateway, also internal.
 */
import { NsboxError } from '../errors.js';
import { bigIntToIp, cidrText, ipToBigInt } from '../net/cidr.js';
import type { NetworkCreateOptions, Subnet } from '../network/index.js';
import type { LabSpec, NetworkSpec } from './model.js';


/** Addresses the file gives to interfaces on this network. */
function usedOn(spec: LabSpec, network: string): Set<string> {
  const used = new Set<string>();
  for (const node of spec.nodes) {
    for (const i of node.interfaces) if (i.network === network && i.address !== undefined) used.add(String(ipToBigInt(i.address.address)));
  }
  return used;
}

/** The highest host address of `subnet` not in `used` (the network and broadcast addresses excluded for IPv4). */
function freeHostAddress(subnet: Subnet, used: Set<string>, network: string): string {
  const bits = subnet.family === 4 ? 32 : 128;
  const size = 1n << BigInt(bits - subnet.prefixLen);
  const base = ipToBigInt(subnet.address);
  const last = base + size - (subnet.family === 4 ? 2n : 1n);
  for (let n = last; n > base; n--) if (!used.has(String(n))) return bigIntToIp(n, subnet.family);
  throw new NsboxError(`lab network ${network}: every address of ${subnet.cidr} is a node's, none is left for the host's end of the bridge (give the network a gateway, or a larger subnet)`, 'NSBOX_ERR_CONFIG');
}

export interface LabNetworkOptions {
  options: NetworkCreateOptions;
  /** The host's addresses on the segment, and whether the file gave them. */
  gateway: string | undefined;
  gateway6: string | undefined;
  hostAddress: 'file' | 'picked';
}

export function labNetworkOptions(spec: LabSpec, n: NetworkSpec): LabNetworkOptions {
  const given = n.gateway !== undefined || n.gateway6 !== undefined;
  const used = usedOn(spec, n.name);
  const pick = (family: 4 | 6, fileValue: string | undefined): string | undefined => {
    if (fileValue !== undefined) return fileValue;
    const subnet = n.subnets.find((s) => s.family === family);
    return subnet === undefined || n.driver !== 'bridge' || given ? undefined : freeHostAddress(subnet, used, n.name);
  };
  const gateway = pick(4, n.gateway);
  const gateway6 = pick(6, n.gateway6);
  const options: NetworkCreateOptions = {
    driver: n.driver,
    subnets: n.subnets.map((s) => s.cidr ?? cidrText(s)),
    ...(gateway === undefined ? {} : { gateway }),
    ...(gateway6 === undefined ? {} : { gateway6 }),
    ...(n.ipv6 ? { ipv6: true } : {}),
    ...(n.mtu === undefined ? {} : { mtu: n.mtu }),
    internal: given ? n.internal : true,
    ...(n.driver === 'bridge' ? { masquerade: given ? n.masquerade : false } : {}),
    ...(n.bridgeName === undefined ? {} : { bridgeName: n.bridgeName }),
    ...(n.parent === undefined ? {} : { parent: n.parent }),
    ...(n.mode === undefined ? {} : { macvlanMode: n.mode }),
  };
  return { options, gateway, gateway6, hostAddress: given ? 'file' : 'picked' };
}
