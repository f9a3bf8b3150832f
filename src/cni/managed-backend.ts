/**
 * Layer: cni (process edge).
 *
 * The CniBackend over the managed layer (docs/cni.md, "How nsbox-cni keeps attachments"):
 *
 * - the CNI network (`name`, `bridge`, nsbox's IPAM ranges, `ipMasq`, `mtu`) is an nsbox
 *   bridge network of the same name, created on first use and checked against the config on
 *   every ADD (a contradiction is code 7 naming the field);
 * - each attachment (network, CNI_CONTAINERID, CNI_IFNAME) is one sandbox record named
 *   `cni-` + a hash of the three (attachmentName), labelled with them, over the runtime's
 *   namespace (adopted and pinned, never created or destroyed: Manager.attachExternal);
 * - DEL removes that record (interface, host veth, leases, pin), whatever CNI_NETNS says;
 * - CHECK compares the record and prevResult with the namespace;
 * - GC removes, as DEL does, every attachment record of this network (labelled with it, and
 *   named as attachmentName names it) whose (container id, ifname) is not in the valid list;
 *   other networks' attachments and sandboxes that are not CNI attachments are never touched;
 * - STATUS is code 50 when the network exists and some subnet of it has no free address (an
 *   ADD would fail with 100), or when the store cannot be opened; a network not made yet is
 *   fine (ADD makes it).
 *
 * With a delegated IPAM plugin (`ipam.type` host-local, static, dhcp…) the network's addresses
 * are the plugin's: the nsbox network is made without subnets and learns them from its answers
 * (Networks.attach's `assign`); ADD runs the plugin once the interface is inside and up (the
 * reference's order: dhcp needs the link) and its DEL when a later step fails; DEL, CHECK,
 * STATUS and GC are passed on to it with the same stdin and environment (SPEC §4). ADD also
 * honours `ipam.routes` (or the plugin's routes), a MAC asked for, `hairpinMode`, the
 * `portMappings` capability (published through nsbox's firewall, with the attachment) and the
 * `bandwidth` one (a tbf on each end of the veth), and
 * passes `prevResult` through with its own interfaces, addresses and routes after it.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { NsboxError } from '../errors.js';
import { Manager, type ExternalAttachment, type ExtraRoute, type NetworkView } from '../managed/index.js';
import { bigIntToIp, cidrText, ipToBigInt, networkOf, parseCidr } from '../net/cidr.js';
import { ipFamily } from '../net/ip.js';
import { nextFree, parseSubnet, type AssignedAddresses, type NetworkCreateOptions } from '../network/index.js';
import type { AddRequest, CheckRequest, CniBackend, DelRequest, GcRequest, StatusRequest } from './backend.js';
import type { ConfigEnvelope, PluginConfig } from './config.js';
import { delegate, delegateAdd } from './delegate.js';
import { CNI_ERR, CniError, invalidField, unsupportedField } from './errors.js';
import { NSBOX_IPAM, type IpamRange } from './ipam-config.js';
import { checkResultExpressible, type CniInterface, type CniIpConfig, type CniResult, type CniRoute } from './result.js';

export { Manager };

/** Labels of an attachment's sandbox record. */
export const CNI_LABELS = { network: 'nsbox.cni/network', container: 'nsbox.cni/container', ifname: 'nsbox.cni/ifname' } as const;

/** The sandbox record of an attachment: `cni-` and 16 hex digits of SHA-256 over (network, container id, ifname). */
export function attachmentName(network: string, containerId: string, ifname: string): string {
  return `cni-${createHash('sha256').update(`${network}\0${containerId}\0${ifname}`).digest('hex').slice(0, 16)}`;
}


/** The route fields of CNI 1.1 an nsbox route cannot carry: code 2 naming the field. */
function plainRoutes(routes: readonly CniRoute[], field: string): ExtraRoute[] {
  return routes.map((r, i) => {
    for (const key of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) {
      if (r[key] !== undefined) throw unsupportedField(`${field}[${i}].${key}`, r[key], 'nsbox adds routes with a destination and a next hop only');
    }
    return r.gw === undefined ? { dst: r.dst } : { dst: r.dst, gw: r.gw };
  });
}

const isDefault = (dst: string): boolean => dst === '0.0.0.0/0' || dst === '::/0';

/**
 * The routes to add besides the default routes `isDefaultGateway` gives: a default route of
 * the config's is that one already when it goes through the gateway (or names none).
 */
function extraRoutes(routes: readonly ExtraRoute[], isDefaultGateway: boolean, gateways: { v4?: string; v6?: string }): ExtraRoute[] {
  if (!isDefaultGateway) return [...routes];
  return routes.filter((r) => !(isDefault(r.dst) && (r.gw === undefined || r.gw === (r.dst.includes(':') ? gateways.v6 : gateways.v4))));
}

const rangeOf = (ranges: readonly IpamRange[], family: 4 | 6): IpamRange | undefined => ranges.find((r) => r.subnet.family === family);

/** Code 7 naming a field of the config that contradicts the existing network. */
function contradiction(net: NetworkView, field: string, ours: unknown, theirs: unknown): CniError {
  return invalidField(field, `${JSON.stringify(ours)} contradicts the existing nsbox network ${net.name}, which has ${JSON.stringify(theirs)}`);
}

/** The bridge fields against the existing network: the same kind, bridge, masquerade and MTU, a way out. */
function checkSameBridge(config: PluginConfig, net: NetworkView): void {
  if (net.driver !== 'bridge') throw contradiction(net, 'name', 'a bridge network', `a ${net.driver} network`);
  if (net.config.bridge !== config.bridge.bridge) throw contradiction(net, 'bridge', config.bridge.bridge, net.config.bridge);
  const masquerade = net.config.masquerade ?? true;
  if (masquerade !== config.bridge.ipMasq) throw contradiction(net, 'ipMasq', config.bridge.ipMasq, masquerade);
  if (config.bridge.mtu !== undefined && config.bridge.mtu !== net.config.mtu) throw contradiction(net, 'mtu', config.bridge.mtu, net.config.mtu);
  if (net.config.internal) throw contradiction(net, 'name', 'a network with a way out', 'an internal network');
  const ipamType = config.ipam.kind === 'nsbox' ? NSBOX_IPAM : config.ipam.type;
  if ((net.config.ipamPlugin ?? NSBOX_IPAM) !== ipamType) throw contradiction(net, 'ipam.type', ipamType, net.config.ipamPlugin ?? NSBOX_IPAM);
}

/**
 * An overlay network (docs/overlay.md) is made by `nsbox network create --driver overlay`, never
 * from a CNI config: a config naming one attaches to it when its range is the overlay's subnet
 * (each host's gateway is its own block's, so the config's is not compared); the bridge fields
 * do not apply.
 */
function checkSameOverlay(config: PluginConfig, net: NetworkView): void {
  const overlay = net.config.overlay!;
  if (config.ipam.kind !== 'nsbox') throw contradiction(net, 'ipam.type', config.ipam.type, NSBOX_IPAM);
  const ours = config.ipam.ranges.map((r) => r.subnet.cidr);
  if (ours.length !== 1 || ours[0] !== overlay.subnet) throw contradiction(net, 'ipam.ranges', ours, [overlay.subnet]);
}

/** Code 7 naming the first field of the config that contradicts the existing network. */
function checkSameNetwork(config: PluginConfig, net: NetworkView): void {
  if (net.driver === 'overlay' && net.config.overlay !== undefined) return checkSameOverlay(config, net);
  checkSameBridge(config, net);
  if (config.ipam.kind !== 'nsbox') return; // the subnets are the IPAM plugin's
  for (const family of [4, 6] as const) {
    const ours = rangeOf(config.ipam.ranges, family);
    const theirs = net.config.subnets.find((s) => ipFamily(s.subnet.slice(0, s.subnet.indexOf('/'))) === family);
    if (ours?.subnet.cidr !== theirs?.subnet) throw contradiction(net, 'ipam.ranges', ours?.subnet.cidr ?? `no IPv${family} subnet`, theirs?.subnet ?? `no IPv${family} subnet`);
    if (ours !== undefined && theirs !== undefined && ours.gateway !== theirs.gateway) throw contradiction(net, 'ipam.ranges', `gateway ${ours.gateway}`, `gateway ${theirs.gateway}`);
  }
}

/** The nsbox network's options for a CNI network made from its config. */
function networkOptions(config: PluginConfig): NetworkCreateOptions {
  const base: NetworkCreateOptions = { driver: 'bridge', bridgeName: config.bridge.bridge, mtu: config.bridge.mtu, masquerade: config.bridge.ipMasq };
  if (config.ipam.kind !== 'nsbox') return { ...base, ipamPlugin: config.ipam.type };
  const v4 = rangeOf(config.ipam.ranges, 4);
  const v6 = rangeOf(config.ipam.ranges, 6);
  return { ...base, subnets: config.ipam.ranges.map((r) => r.subnet.cidr), gateway: v4?.gateway, gateway6: v6?.gateway, ipv6: v6 !== undefined };
}

/** The nsbox network of a CNI network: made from the config on first use (a racing process's is checked instead), else checked against it. */
async function ensureNetwork(manager: Manager, config: PluginConfig): Promise<void> {
  const existing = (): NetworkView | undefined => manager.networks().find((n) => n.name === config.name);
  let net = existing();
  if (net === undefined) {
    try {
      await manager.createNetwork(config.name, networkOptions(config));
      return;
    } catch (err) {
      // Another process made it meanwhile (its name, or its bridge, taken first): check that one.
      net = existing();
      if (net === undefined) throw err;
    }
  }
  checkSameNetwork(config, net);
}

/**
 * The addresses of a delegated IPAM plugin's result, one per family (an nsbox interface has
 * one of each), each with its gateway: the result's, or the subnet's first address, as the
 * reference bridge plugin computes it for `isGateway`.
 */
function assignedOf(type: string, result: CniResult): AssignedAddresses {
  const out: AssignedAddresses = {};
  for (const ip of result.ips) {
    const cidr = parseCidr(ip.address, `address from IPAM plugin ${type}`);
    const key = cidr.family === 4 ? 'ipv4' : 'ipv6';
    if (out[key] !== undefined) throw unsupportedField('ipam', type, `the IPAM plugin gave more than one IPv${cidr.family} address (${out[key].address}, ${cidr.address}): an nsbox interface has one address per family`);
    const net = networkOf(cidr);
    const gateway = ip.gateway ?? bigIntToIp(ipToBigInt(net.address) + 1n, cidr.family);
    out[key] = { address: cidr.address, prefixLen: cidr.prefixLen, gateway };
  }
  if (out.ipv4 === undefined && out.ipv6 === undefined) throw new CniError(CNI_ERR.NSBOX_INTERNAL, `IPAM plugin ${type} gave no address`);
  return out;
}

/** ADD's result from what the attachment made, after the results before it (prevResult), with its own DNS when it has one. */
function resultOf(request: AddRequest, att: ExternalAttachment, ipam: CniResult | undefined): CniResult {
  const prev = request.config.prevResult;
  const interfaces: CniInterface[] = [...(prev?.interfaces ?? [])];
  const push = (i: CniInterface): number => interfaces.push(i) - 1;
  if (att.bridge !== undefined) push({ name: att.bridge, ...(att.bridgeMac ? { mac: att.bridgeMac } : {}) });
  if (att.hostIf !== undefined) push({ name: att.hostIf, ...(att.hostMac ? { mac: att.hostMac } : {}) });
  const index = push({ name: att.interface.dstName, ...(att.interface.options.mac ? { mac: att.interface.options.mac } : {}), sandbox: request.netns });
  const ips: CniIpConfig[] = [...(prev?.ips ?? [])];
  const routes: CniRoute[] = [...(prev?.routes ?? [])];
  const { isDefaultGateway } = request.config.bridge;
  for (const [address, gateway, dst] of [[att.interface.options.ipv4, att.gateway4, '0.0.0.0/0'], [att.interface.options.ipv6, att.gateway6, '::/0']] as const) {
    if (address === undefined) continue;
    ips.push({ address, ...(gateway ? { gateway } : {}), interface: index });
    if (isDefaultGateway && gateway !== undefined) routes.push({ dst, gw: gateway });
  }
  for (const r of att.routes) routes.push({ dst: r.destination, gw: r.nextHop });
  const own = { ...ipam?.dns, ...request.config.dns, ...request.config.requests.dns };
  const dns = Object.keys(own).length > 0 ? own : prev?.dns ?? {};
  return { interfaces, ips, routes, dns };
}

/** The (device, inode) of a namespace file, or undefined when it is gone. */
function nsIdentity(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** The delegated IPAM plugin of a config's envelope, if it names one. */
function delegatedType(envelope: ConfigEnvelope): string | undefined {
  const type = envelope.ipamType;
  return type === undefined || type === NSBOX_IPAM ? undefined : type;
}

export class ManagedBackend implements CniBackend {
  readonly #manager: Manager;

  constructor(manager: Manager) {
    this.#manager = manager;
  }

  async add(request: AddRequest): Promise<CniResult> {
    const { config, attachment } = request;
    await ensureNetwork(this.#manager, config);
    const name = attachmentName(config.name, attachment.containerId, attachment.ifname);
    const base = {
      netns: request.netns, network: config.name, ifname: attachment.ifname, defaultRoute: config.bridge.isDefaultGateway,
      mac: config.requests.mac, hairpin: config.bridge.hairpinMode, ports: config.requests.portMappings, rateLimits: config.requests.bandwidth,
      labels: { [CNI_LABELS.network]: config.name, [CNI_LABELS.container]: attachment.containerId, [CNI_LABELS.ifname]: attachment.ifname },
    };
    if (config.ipam.kind === 'nsbox') {
      const ipam = config.ipam;
      const gateways = { v4: rangeOf(ipam.ranges, 4)?.gateway, v6: rangeOf(ipam.ranges, 6)?.gateway };
      const att = await this.#manager.attachExternal(name, {
        ...base, routes: extraRoutes(plainRoutes(ipam.routes, 'ipam.routes'), config.bridge.isDefaultGateway, gateways),
        ip: config.requests.ips.find((a) => ipFamily(a) === 4), ip6: config.requests.ips.find((a) => ipFamily(a) === 6),
      });
      return resultOf(request, att, undefined);
    }
    // A delegated IPAM plugin, run once the interface is inside and up (as the reference does:
    // the dhcp plugin needs it); its DEL runs when anything after its ADD fails.
    const type = config.ipam.type;
    let ipam: CniResult | undefined;
    let assigned: AssignedAddresses | undefined;
    try {
      const att = await this.#manager.attachExternal(name, {
        ...base,
        assign: async () => {
          ipam = await delegateAdd(type, request, config.cniVersion);
          checkResultExpressible(ipam, config.cniVersion, `result of IPAM plugin ${type}`);
          assigned = assignedOf(type, ipam);
          return assigned;
        },
        routes: () => extraRoutes(plainRoutes(ipam!.routes, `result of IPAM plugin ${type}.routes`), config.bridge.isDefaultGateway, { v4: assigned?.ipv4?.gateway, v6: assigned?.ipv6?.gateway }),
      });
      return resultOf(request, att, ipam);
    } catch (err) {
      if (ipam !== undefined) await delegate(type, 'DEL', request).catch(() => undefined);
      throw err;
    }
  }

  async del(request: DelRequest): Promise<void> {
    const name = attachmentName(request.config.name, request.attachment.containerId, request.attachment.ifname);
    const rec = this.#manager.sandboxes().find((s) => s.record.name === name)?.record;
    const errors: string[] = [];
    if (rec !== undefined && rec.labels[CNI_LABELS.container] === request.attachment.containerId) { // else unknown: nothing of nsbox's to do
      const outcome = await this.#manager.removeSandbox(name);
      errors.push(...outcome.errors);
    }
    // The delegate's DEL, always: it forgets what it gave (a second DEL is nothing to it either).
    const type = delegatedType(request.config);
    if (type !== undefined) await delegate(type, 'DEL', request).catch((err: Error) => errors.push(err.message));
    if (errors.length > 0) throw new NsboxError(`DEL of ${name} left: ${errors.join('; ')}`, 'NSBOX_ERR_TEARDOWN');
  }

  async check(request: CheckRequest): Promise<void> {
    const { config, attachment } = request;
    if (config.ipam.kind === 'delegate') await delegate(config.ipam.type, 'CHECK', request);
    const name = attachmentName(config.name, attachment.containerId, attachment.ifname);
    const status = this.#manager.sandboxes().find((s) => s.record.name === name);
    if (status === undefined || status.record.labels[CNI_LABELS.container] !== attachment.containerId) {
      throw new CniError(CNI_ERR.UNKNOWN_CONTAINER, `nsbox-cni has no attachment of container ${attachment.containerId} (${attachment.ifname}) on network ${config.name}`);
    }
    const rec = status.record;
    if (!status.mounted || nsIdentity(request.netns) === undefined || nsIdentity(request.netns) !== nsIdentity(rec.key)) {
      throw new CniError(CNI_ERR.UNKNOWN_CONTAINER, `the namespace ${request.netns} is not the one ${attachment.containerId} was attached in (or is gone)`);
    }
    const row = rec.config.interfaces.find((i) => i.dstName === attachment.ifname);
    const view = await this.#manager.kernelView(name);
    const link = view.links.find((l) => l.name === attachment.ifname);
    const missing = (what: string): NsboxError => new NsboxError(`CHECK: ${what} (container ${attachment.containerId}, network ${config.name})`, 'NSBOX_ERR_NOT_FOUND');
    if (row === undefined || link === undefined) throw missing(`no interface ${attachment.ifname} in ${request.netns}`);
    if (!link.up) throw missing(`interface ${attachment.ifname} is down`);
    const have = new Set(view.addresses.filter((a) => a.index === link.index).map((a) => a.address));
    const ifIndex = request.prevResult.interfaces.findIndex((i) => i.name === attachment.ifname && i.sandbox !== undefined);
    const wanted = [row.options.ipv4, row.options.ipv6, ...request.prevResult.ips.filter((i) => i.interface === undefined || i.interface === ifIndex).map((i) => i.address)];
    for (const address of wanted) {
      if (address !== undefined && !have.has(address)) throw missing(`address ${address} is not on ${attachment.ifname}`);
    }
    const wantedRoutes = [
      ...[[rec.config.gateway, '0.0.0.0/0'], [rec.config.gatewayIPv6, '::/0']].flatMap(([gw, dst]) => (gw === undefined ? [] : [{ dst: dst!, gw }])),
      ...rec.config.routes.map((r) => ({ dst: r.destination, gw: r.nextHop })),
      ...request.prevResult.routes,
    ];
    for (const route of wantedRoutes) {
      const net = networkOf(parseCidr(route.dst, 'route destination'));
      const dst = net.prefixLen === 0 ? 'default' : cidrText(net); // as the kernel view names them
      if (!view.routes.some((r) => r.destination === dst && (route.gw === undefined || r.gateway === route.gw))) {
        throw missing(`no route to ${route.dst}${route.gw === undefined ? '' : ` through ${route.gw}`}`);
      }
    }
  }

  async status(request: StatusRequest): Promise<void> {
    const { config } = request;
    const net = this.#manager.networks().find((n) => n.name === config.name); // the store opens (else 50)
    if (config.ipam.kind === 'delegate') return delegate(config.ipam.type, 'STATUS', request); // its pool is its own
    if (net === undefined) return; // ADD makes it
    const taken = new Set(net.leases.map((l) => l.address));
    for (const s of net.config.subnets) {
      if (nextFree(parseSubnet(s.subnet), s.gateway, taken) === undefined) {
        throw new CniError(CNI_ERR.NOT_AVAILABLE, 'IP pool exhausted', { details: `network ${net.name}: subnet ${s.subnet} has no free address left (${net.leases.length} leased)` });
      }
    }
    return Promise.resolve();
  }

  async gc(request: GcRequest): Promise<void> {
    const network = request.config.name;
    const valid = new Set(request.validAttachments.map((a) => attachmentName(network, a.containerId, a.ifname)));
    const stale = this.#manager.sandboxes().map((s) => s.record).filter((rec) => {
      const { labels } = rec;
      if (labels[CNI_LABELS.network] !== network) return false;
      const container = labels[CNI_LABELS.container];
      const ifname = labels[CNI_LABELS.ifname];
      // Only nsbox-cni's own records: the name is the hash of the labels.
      if (container === undefined || ifname === undefined || rec.name !== attachmentName(network, container, ifname)) return false;
      return !valid.has(rec.name);
    });
    const errors: string[] = [];
    for (const rec of stale) {
      try {
        const outcome = await this.#manager.removeSandbox(rec.name);
        for (const e of outcome.errors) errors.push(`${rec.name}: ${e}`);
      } catch (err) {
        errors.push(`${rec.name}: ${(err as Error).message}`);
      }
    }
    const type = delegatedType(request.config);
    if (type !== undefined) await delegate(type, 'GC', request).catch((err: Error) => errors.push(err.message));
    if (errors.length > 0) throw new NsboxError(`GC of network ${network} left: ${errors.join('; ')}`, 'NSBOX_ERR_TEARDOWN');
  }
}
