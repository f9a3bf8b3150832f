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
 * Not yet (code 2 before anything is done): a delegated IPAM plugin, `ipam.routes`, a MAC
 * asked for, published ports.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { NsboxError } from '../errors.js';
import { Manager, type ExternalAttachment, type NetworkView } from '../managed/index.js';
import type { AddRequest, CheckRequest, CniBackend, DelRequest, GcRequest, StatusRequest } from './backend.js';
import type { PluginConfig } from './config.js';
import { CNI_ERR, CniError, invalidField, unsupportedField } from './errors.js';
import type { IpamRange } from './ipam-config.js';
import type { CniInterface, CniIpConfig, CniResult, CniRoute } from './result.js';
import { nextFree, parseSubnet } from '../network/index.js';

export { Manager };
import { ipFamily } from '../net/ip.js';

/** Labels of an attachment's sandbox record. */
export const CNI_LABELS = { network: 'nsbox.cni/network', container: 'nsbox.cni/container', ifname: 'nsbox.cni/ifname' } as const;

/** The sandbox record of an attachment: `cni-` and 16 hex digits of SHA-256 over (network, container id, ifname). */
export function attachmentName(network: string, containerId: string, ifname: string): string {
  return `cni-${createHash('sha256').update(`${network}\0${containerId}\0${ifname}`).digest('hex').slice(0, 16)}`;
}

type NsboxIpam = Extract<PluginConfig['ipam'], { kind: 'nsbox' }>;

/** What nsbox cannot do yet with this config: code 2, before anything is done. */
function nsboxIpamOf(config: PluginConfig): NsboxIpam {
  if (config.ipam.kind !== 'nsbox') throw unsupportedField('ipam.type', config.ipam.type, 'delegation to IPAM plugins is not implemented by this nsbox-cni yet; use "type": "nsbox"');
  if (config.ipam.routes.length > 0) throw unsupportedField('ipam.routes', config.ipam.routes, 'routes from the IPAM section are not implemented by this nsbox-cni yet (isDefaultGateway gives the default route)');
  if (config.requests.mac !== undefined) throw unsupportedField('mac', config.requests.mac, 'choosing the container interface\'s MAC is not implemented by this nsbox-cni yet');
  if (config.requests.portMappings.length > 0) throw unsupportedField('runtimeConfig.portMappings', config.requests.portMappings, 'published ports are not implemented by this nsbox-cni yet');
  return config.ipam;
}

const rangeOf = (ranges: readonly IpamRange[], family: 4 | 6): IpamRange | undefined => ranges.find((r) => r.subnet.family === family);

/** Code 7 naming the first field of the config that contradicts the existing network. */
function checkSameNetwork(config: PluginConfig, ipam: NsboxIpam, net: NetworkView): void {
  const differs = (field: string, ours: unknown, theirs: unknown): CniError => invalidField(field, `${JSON.stringify(ours)} contradicts the existing nsbox network ${net.name}, which has ${JSON.stringify(theirs)}`);
  if (net.driver !== 'bridge') throw differs('name', 'a bridge network', `a ${net.driver} network`);
  if (net.config.bridge !== config.bridge.bridge) throw differs('bridge', config.bridge.bridge, net.config.bridge);
  for (const family of [4, 6] as const) {
    const ours = rangeOf(ipam.ranges, family);
    const theirs = net.config.subnets.find((s) => ipFamily(s.subnet.slice(0, s.subnet.indexOf('/'))) === family);
    if (ours?.subnet.cidr !== theirs?.subnet) throw differs('ipam.ranges', ours?.subnet.cidr ?? `no IPv${family} subnet`, theirs?.subnet ?? `no IPv${family} subnet`);
    if (ours !== undefined && theirs !== undefined && ours.gateway !== theirs.gateway) throw differs('ipam.ranges', `gateway ${ours.gateway}`, `gateway ${theirs.gateway}`);
  }
  const masquerade = net.config.masquerade ?? true;
  if (masquerade !== config.bridge.ipMasq) throw differs('ipMasq', config.bridge.ipMasq, masquerade);
  if (config.bridge.mtu !== undefined && config.bridge.mtu !== net.config.mtu) throw differs('mtu', config.bridge.mtu, net.config.mtu);
  if (net.config.internal) throw differs('name', 'a network with a way out', 'an internal network');
}

/** The nsbox network of a CNI network: made from the config on first use (a racing process's is checked instead), else checked against it. */
async function ensureNetwork(manager: Manager, config: PluginConfig, ipam: NsboxIpam): Promise<void> {
  const existing = (): NetworkView | undefined => manager.networks().find((n) => n.name === config.name);
  let net = existing();
  if (net === undefined) {
    const v4 = rangeOf(ipam.ranges, 4);
    const v6 = rangeOf(ipam.ranges, 6);
    try {
      await manager.createNetwork(config.name, {
        driver: 'bridge', bridgeName: config.bridge.bridge, subnets: ipam.ranges.map((r) => r.subnet.cidr),
        gateway: v4?.gateway, gateway6: v6?.gateway, ipv6: v6 !== undefined, mtu: config.bridge.mtu, masquerade: config.bridge.ipMasq,
      });
      return;
    } catch (err) {
      // Another process made it meanwhile (its name, or its bridge, taken first): check that one.
      net = existing();
      if (net === undefined) throw err;
    }
  }
  checkSameNetwork(config, ipam, net);
}

/** ADD's result from what the attachment made. */
function resultOf(request: AddRequest, att: ExternalAttachment): CniResult {
  const interfaces: CniInterface[] = [];
  const push = (i: CniInterface): number => interfaces.push(i) - 1;
  if (att.bridge !== undefined) push({ name: att.bridge, ...(att.bridgeMac ? { mac: att.bridgeMac } : {}) });
  if (att.hostIf !== undefined) push({ name: att.hostIf, ...(att.hostMac ? { mac: att.hostMac } : {}) });
  const index = push({ name: att.interface.dstName, ...(att.interface.options.mac ? { mac: att.interface.options.mac } : {}), sandbox: request.netns });
  const ips: CniIpConfig[] = [];
  const routes: CniRoute[] = [];
  const { isDefaultGateway } = request.config.bridge;
  for (const [address, gateway, dst] of [[att.interface.options.ipv4, att.gateway4, '0.0.0.0/0'], [att.interface.options.ipv6, att.gateway6, '::/0']] as const) {
    if (address === undefined) continue;
    ips.push({ address, ...(gateway ? { gateway } : {}), interface: index });
    if (isDefaultGateway && gateway !== undefined) routes.push({ dst, gw: gateway });
  }
  const dns = { ...request.config.dns, ...request.config.requests.dns };
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

export class ManagedBackend implements CniBackend {
  readonly #manager: Manager;

  constructor(manager: Manager) {
    this.#manager = manager;
  }

  async add(request: AddRequest): Promise<CniResult> {
    const { config, attachment } = request;
    const ipam = nsboxIpamOf(config);
    await ensureNetwork(this.#manager, config, ipam);
    const ip = config.requests.ips.find((a) => ipFamily(a) === 4);
    const ip6 = config.requests.ips.find((a) => ipFamily(a) === 6);
    const att = await this.#manager.attachExternal(attachmentName(config.name, attachment.containerId, attachment.ifname), {
      netns: request.netns, network: config.name, ifname: attachment.ifname, ip, ip6, defaultRoute: config.bridge.isDefaultGateway,
      labels: { [CNI_LABELS.network]: config.name, [CNI_LABELS.container]: attachment.containerId, [CNI_LABELS.ifname]: attachment.ifname },
    });
    return resultOf(request, att);
  }

  async del(request: DelRequest): Promise<void> {
    const name = attachmentName(request.config.name, request.attachment.containerId, request.attachment.ifname);
    const rec = this.#manager.sandboxes().find((s) => s.record.name === name)?.record;
    if (rec === undefined || rec.labels[CNI_LABELS.container] !== request.attachment.containerId) return; // unknown: nothing to do
    const outcome = await this.#manager.removeSandbox(name);
    if (outcome.errors.length > 0) throw new NsboxError(`DEL of ${name} left: ${outcome.errors.join('; ')}`, 'NSBOX_ERR_TEARDOWN');
  }

  async check(request: CheckRequest): Promise<void> {
    const { config, attachment } = request;
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
    for (const gw of [rec.config.gateway, rec.config.gatewayIPv6]) {
      if (gw !== undefined && !view.routes.some((r) => r.gateway === gw)) throw missing(`no default route through ${gw}`);
    }
    for (const route of request.prevResult.routes) {
      if (route.gw !== undefined && !view.routes.some((r) => r.gateway === route.gw)) throw missing(`no route to ${route.dst} through ${route.gw}`);
    }
  }

  async status(request: StatusRequest): Promise<void> {
    const { config } = request;
    nsboxIpamOf(config);
    const net = this.#manager.networks().find((n) => n.name === config.name); // the store opens (else 50)
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
    if (errors.length > 0) throw new NsboxError(`GC of network ${network} left: ${errors.join('; ')}`, 'NSBOX_ERR_TEARDOWN');
  }
}
