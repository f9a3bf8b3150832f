/**
 * Layer: managed.
 *
 * Sandboxes over a namespace someone else made (a container runtime's, CNI_NETNS): the record
 * is a sandbox like any other, but its namespace is adopted, not created. Its key is a pin in
 * nsbox's own directory (a bind mount of the outside path, `Sandbox.fromExternal`), so leases,
 * host links, locks, `nsbox ls` and gc work as for every sandbox, and teardown works from the
 * record even after the outside path was deleted. The label EXTERNAL_LABEL (the outside path)
 * marks such a record: removal deletes its network links itself and only unpins (the
 * namespace is not nsbox's to destroy), and it gets no /etc/netns directory or /run/netns
 * symlink (the runtime names its own).
 *
 * `attachExternal` is one network attachment, all or nothing: record (state creating), pin,
 * the interface on the network (state adding; its addresses leased, or given by an IPAM
 * plugin through `assign`), its routes, ready, its published ports; on failure every step is
 * undone (the ports, the link, the leases, the pin, the record).
 */
import { NsboxError } from '../errors.js';
import { Rtnl } from '../netlink/route/ops/index.js';
import { Sandbox } from '../sandbox/index.js';
import { emptyConfig, type InterfaceRecord, type SandboxRecord } from '../store/index.js';
import { checkName } from '../network/index.js';
import type { AttachOptions, NetworkInfo } from '../network/index.js';
import type { PortRecord } from '../store/index.js';
import { requireNetwork } from './connect.js';
import type { PortMapping } from './port-spec.js';
import { publishLocked } from './ports.js';
import { checkRoute, type RouteSpec } from './settings.js';
import type { StateRoot } from './root.js';
import { refreshNames } from './names.js';

/** The label of a sandbox over an outside namespace; its value is the outside path. */
export const EXTERNAL_LABEL = 'nsbox.external-netns';

export function isExternal(rec: SandboxRecord): boolean {
  return rec.labels[EXTERNAL_LABEL] !== undefined;
}

export interface AttachExternalOptions {
  /** The outside namespace (a file: /var/run/netns/X, /proc/PID/ns/net). */
  netns: string;
  network: string;
  /** The interface's name inside. */
  ifname: string;
  ip?: string;
  ip6?: string;
  /** A default route through the network's gateways (default false). */
  defaultRoute?: boolean;
  /** More labels for the record (the caller's identity of the attachment). */
  labels?: Record<string, string>;
  /** The interface's MAC (default: derived from its IPv4 address). */
  mac?: string;
  /** The hairpin flag of the host veth (default on). */
  hairpin?: boolean;
  /**
   * More routes inside, each through `gw` or, without one, through the gateway of its family;
   * or a function giving them once the interface has its addresses (an IPAM plugin's routes).
   */
  routes?: readonly ExtraRoute[] | (() => readonly ExtraRoute[]);
  /** Ports to publish to the attachment (all or none, with the rest of it). */
  ports?: readonly PortMapping[];
  /** The addresses, for a network whose addresses come from an IPAM plugin (Networks.attach's `assign`). */
  assign?: AttachOptions['assign'];
  /** Rate limits into (ingress) and out of (egress) the namespace through this interface. */
  rateLimits?: { ingress?: RateLimit; egress?: RateLimit };
}

/** A token bucket: `rate` in bits per second, `burst` in bytes. */
export interface RateLimit {
  rate: number;
  burst: number;
}

/** How long a packet may wait in a rate limit's queue (the reference bandwidth plugin's 25 ms): the queue is rate × this + burst. */
const RATE_LIMIT_LATENCY_US = 25_000;

/** A tbf as the root qdisc of link `name`, limiting what it sends. */
async function limitRate(rtnl: Rtnl, name: string, limit: RateLimit): Promise<void> {
  const link = await rtnl.link.get({ name });
  await rtnl.qdisc.replace({ index: link.index, kind: 'tbf', rate: limit.rate, burst: limit.burst, latency: RATE_LIMIT_LATENCY_US });
}

/** A route to add inside: to `dst`, through `gw` or the gateway of its family. */
export interface ExtraRoute {
  dst: string;
  gw?: string;
}

/** What an external attachment made, for a CNI result. */
export interface ExternalAttachment {
  record: SandboxRecord;
  interface: InterfaceRecord;
  /** The host end of the veth and its MAC. */
  hostIf: string | undefined;
  hostMac: string | undefined;
  /** The network's bridge and its MAC. */
  bridge: string | undefined;
  bridgeMac: string | undefined;
  /** The gateways of the network's subnets. */
  gateway4: string | undefined;
  gateway6: string | undefined;
  /** Whether the default routes were set. */
  defaultRoute: boolean;
  /** The routes added from `routes`, with their next hops. */
  routes: RouteSpec[];
  /** The published ports (one row per family). */
  ports: PortRecord[];
}

async function macOf(host: Rtnl, name: string | undefined): Promise<string | undefined> {
  if (name === undefined) return undefined;
  return (await host.link.find({ name }))?.address ?? undefined;
}

/** The gateway of the network's subnet of the family of `dst`. */
function gatewayFor(net: NetworkInfo, dst: string): string {
  const v6 = dst.includes(':');
  const gw = v6 ? net.gateway6 : net.gateway;
  if (gw === undefined) throw new NsboxError(`a route to ${dst} needs a next hop: network ${net.name} has no IPv${v6 ? 6 : 4} gateway`, 'NSBOX_ERR_CONFIG');
  return gw;
}

/** Attach the outside namespace `o.netns` to a network, as sandbox `name` (which must not exist). */
export async function attachExternal(root: StateRoot, name: string, o: AttachExternalOptions): Promise<ExternalAttachment> {
  checkName('sandbox', name);
  requireNetwork(root, o.network);
  const key = root.keyOf(name);
  return root.locked(name, async () => {
    const labels = { ...o.labels, [EXTERNAL_LABEL]: o.netns };
    if (!root.records.insert({ name, key, labels, config: emptyConfig() })) {
      throw new NsboxError(`a sandbox named ${name} already exists (this attachment was made already)`, 'NSBOX_ERR_EXISTS');
    }
    let sandbox: Sandbox | undefined;
    let attached = false;
    try {
      sandbox = await Sandbox.fromExternal(o.netns, key);
      if (await sandbox.netlink.link.find({ name: o.ifname }) !== undefined) {
        throw new NsboxError(`an interface named ${o.ifname} exists in ${o.netns} already`, 'NSBOX_ERR_EXISTS');
      }
      const row: InterfaceRecord = { srcName: o.ifname, dstPrefix: 'eth', dstName: o.ifname, state: 'adding', network: o.network, options: { createdInContainer: true } };
      root.records.update(name, (c) => { c.interfaces.push(row); });
      const att = await root.networks.attach(sandbox, o.network, {
        ifname: o.ifname, owner: key, ip: o.ip, ip6: o.ip6, defaultRoute: o.defaultRoute === true, mac: o.mac, hairpin: o.hairpin, assign: o.assign,
      });
      attached = true;
      const net = root.networks.get(o.network)!; // its subnets now, also those an IPAM plugin's answer added
      const extra = typeof o.routes === 'function' ? o.routes() : o.routes ?? [];
      const routes = extra.map((r) => checkRoute({ destination: r.dst, nextHop: r.gw ?? gatewayFor(net, r.dst) }));
      for (const route of routes) await sandbox.addStaticRoute(route);
      // Rate limits: out of the container on its interface, into it on the host end (a tbf
      // each; they go with the links).
      if (o.rateLimits?.egress !== undefined) await limitRate(sandbox.netlink, o.ifname, o.rateLimits.egress);
      const ingress = o.rateLimits?.ingress;
      if (ingress !== undefined && att.hostIf !== undefined) await Rtnl.with({}, (host) => limitRate(host, att.hostIf!, ingress));
      const prefix = (cidr: string | undefined): string => (cidr ? cidr.slice(cidr.indexOf('/')) : '');
      root.records.update(name, (c) => {
        const r = c.interfaces.find((i) => i.dstName === o.ifname)!;
        r.state = 'ready';
        r.options.mac = att.mac;
        if (att.ipv4) r.options.ipv4 = `${att.ipv4}${prefix(att.interface.address)}`;
        if (att.ipv6) r.options.ipv6 = `${att.ipv6}${prefix(att.interface.addressIPv6)}`;
        c.gateway = sandbox!.gateway;
        c.gatewayIPv6 = sandbox!.gatewayIPv6;
        c.routes.push(...routes);
      });
      root.records.setState(name, 'ready');
      let ports: PortRecord[] = [];
      if (o.ports !== undefined && o.ports.length > 0) {
        const published = await publishLocked(root, root.record(name), o.ports);
        published.hold.release(); // the kernel's DNAT carries them; nothing on the host listens
        ports = published.ports;
      }
      const [hostMac, bridgeMac] = await Rtnl.with({}, async (host) => [await macOf(host, att.hostIf), await macOf(host, net.config.bridge)]);
      sandbox.close();
      const record = root.record(name);
      refreshNames(root, { networks: [o.network] }); // nsbox's own sandboxes on the network learn its address
      return {
        record, interface: record.config.interfaces.find((i) => i.dstName === o.ifname)!,
        hostIf: att.hostIf, hostMac, bridge: net.config.bridge, bridgeMac,
        gateway4: net.gateway, gateway6: net.gateway6, defaultRoute: att.gateway, routes, ports,
      };
    } catch (err) {
      if (sandbox !== undefined) {
        if (attached) await root.networks.detach(sandbox, o.network, { owner: key }).catch(() => undefined);
        await sandbox.destroy().catch(() => undefined); // the pin only: the namespace is the runtime's
      }
      await root.networks.releaseOutside(o.network, key).catch(() => undefined);
      root.records.delete(name);
      throw err;
    }
  });
}
