/**
 * Layer: managed.
 *
 * Connect a recorded sandbox to a network and disconnect it: the interface row is recorded in
 * state 'adding' before the kernel work, marked ready (with its addresses and MAC) after, and
 * dropped on failure; a process killed in between leaves the row for gc to undo. Either way
 * the hosts files of the network's sandboxes are written again (names.ts).
 */
import { NsboxError } from '../errors.js';
import { DEFAULT_NETWORK } from '../network/index.js';
import { generateIfaceName } from '../sandbox/index.js';
import type { InterfaceRecord, PortRecord, SandboxRecord } from '../store/index.js';
import type { PortMapping } from './port-spec.js';
import { publishLocked, unpublishLocked } from './ports.js';
import { withAdopted, type Adopted } from './adopt.js';
import type { StateRoot } from './root.js';
import { pausePoint } from './test-hooks.js';
import { refreshNames } from './names.js';

export interface ConnectOptions {
  /** Ports to publish to the sandbox once it is connected (Docker's -p, parsed: managed/port-spec.ts). */
  publish?: readonly PortMapping[];
  /** A static IPv4 address in the network's subnet. */
  ip?: string;
  /** A static IPv6 address in the network's IPv6 subnet. */
  ip6?: string;
  /** Unsolicited ARP/NA messages after the link comes up (0..3, default 3). */
  advertiseAddrNMsgs?: number;
  /** The interface's MAC (default: from its IPv4 address, else random). */
  mac?: string;
  /** The interface's name inside (default: `eth` + the lowest free index). */
  ifname?: string;
}

/** The network's record, or a not-found error naming what to do. */
export function requireNetwork(root: StateRoot, network: string): void {
  if (root.networks.get(network) === undefined) {
    throw new NsboxError(`no network named ${JSON.stringify(network)} (see \`nsbox network ls\`)`, 'NSBOX_ERR_NOT_FOUND');
  }
}

/** Connect an adopted sandbox (its lock held) to a network. */
export async function connectAdopted(root: StateRoot, adopted: Adopted, rec: SandboxRecord, network: string, o: ConnectOptions): Promise<InterfaceRecord> {
  requireNetwork(root, network);
  if (rec.config.interfaces.some((i) => i.network === network)) {
    throw new NsboxError(`sandbox ${rec.name} is already connected to ${network}`, 'NSBOX_ERR_EXISTS');
  }
  if (o.ifname !== undefined && rec.config.interfaces.some((i) => i.dstName === o.ifname)) {
    throw new NsboxError(`sandbox ${rec.name} already has an interface named ${o.ifname}`, 'NSBOX_ERR_EXISTS');
  }
  const ifname = o.ifname ?? generateIfaceName('eth', rec.config.interfaces.map((i) => i.dstName));
  const row: InterfaceRecord = { srcName: ifname, dstPrefix: 'eth', dstName: ifname, state: 'adding', network, options: { createdInContainer: true } };
  root.records.update(rec.name, (c) => { c.interfaces.push(row); });
  let att;
  try {
    att = await root.networks.attach(adopted.sandbox, network, { ...o, ifname, owner: rec.key });
    await pausePoint('connect:kernel');
  } catch (err) {
    root.records.update(rec.name, (c) => { c.interfaces = c.interfaces.filter((i) => i.dstName !== ifname); });
    refreshNames(root, { networks: [network] }); // another command may have listed the lease meanwhile
    throw err;
  }
  const prefix = (cidr: string | undefined): string => (cidr ? cidr.slice(cidr.indexOf('/')) : '');
  const done = root.records.update(rec.name, (c) => {
    const r = c.interfaces.find((i) => i.dstName === ifname);
    if (r === undefined) return;
    r.state = 'ready';
    r.options.mac = att.mac;
    if (att.ipv4) r.options.ipv4 = `${att.ipv4}${prefix(att.interface.address)}`;
    if (att.ipv6) r.options.ipv6 = `${att.ipv6}${prefix(att.interface.addressIPv6)}`;
    if (att.gateway) {
      c.gateway = adopted.sandbox.gateway;
      c.gatewayIPv6 = adopted.sandbox.gatewayIPv6;
    }
  });
  sayIfNoResolver(root, rec.name, refreshNames(root, { networks: [network], sandboxes: [rec.name], resolv: true, ensure: true }).get(rec.name)?.problem);
  return done!.config.interfaces.find((i) => i.dstName === ifname)!;
}

/** Once per command: a sandbox on a network whose resolv.conf names no server, and what to do. */
function sayIfNoResolver(root: StateRoot, name: string, problem: string | undefined): void {
  if (problem !== undefined) root.warn(`sandbox ${name} has no DNS server: ${problem}; give one with --dns IP (nsbox create, nsbox run)`);
}

/** A connection, and the ports published with it. */
export interface Connection {
  interface: InterfaceRecord;
  ports: PortRecord[];
}

/**
 * Give a sandbox an interface on a network, with addresses from its subnets (nsbox0 is made on
 * first use), and publish ports to it: all or nothing (a refused port undoes the connection).
 * The host ports are held only while this call runs: no process keeps them afterwards (`run -p`
 * keeps them for its command's life).
 */
export async function connect(root: StateRoot, network: string, name: string, o: ConnectOptions = {}): Promise<Connection> {
  // the sandbox first: a bad or unknown name must not make the default network on its way to the error
  root.record(name);
  if (network === DEFAULT_NETWORK) await root.networks.ensureDefault();
  return withAdopted(root, name, async (adopted, rec) => {
    const row = await connectAdopted(root, adopted, rec, network, o);
    if (o.publish === undefined || o.publish.length === 0) return { interface: row, ports: [] };
    try {
      const published = await publishLocked(root, root.record(name), o.publish);
      published.hold.release();
      return { interface: row, ports: published.ports };
    } catch (err) {
      await disconnectAdopted(root, adopted, root.record(name), network).catch((undo: Error) => {
        throw new AggregateError([err, undo], `${(err as Error).message}; undoing the connection failed too: ${undo.message} (run \`nsbox gc\`)`);
      });
      throw err;
    }
  });
}

/** Remove a sandbox's interface on a network and release its addresses; false when it was not connected. */
export async function disconnect(root: StateRoot, network: string, name: string): Promise<boolean> {
  return withAdopted(root, name, async (adopted, rec) => {
    const row = rec.config.interfaces.find((i) => i.network === network);
    if (row === undefined && root.networks.leasesOf(rec.key, network).length === 0) {
      requireNetwork(root, network);
      return false;
    }
    await disconnectAdopted(root, adopted, rec, network);
    return true;
  });
}

/** Disconnect an adopted sandbox (its lock held): its ports on the network, the interface, the leases, the row. */
async function disconnectAdopted(root: StateRoot, { sandbox }: Adopted, rec: SandboxRecord, network: string): Promise<void> {
  // The ports first: a disconnect killed there leaves the connection as it was (gc drops the
  // ports' half-done rows, disconnect works again). Then the row is marked before the kernel
  // work: one killed after it but before the row went would leave a ready row whose link is
  // gone; gc finishes a 'removing' one (undo.ts).
  await unpublishLocked(root, rec.name, (p) => p.network === network);
  root.records.update(rec.name, (c) => {
    for (const i of c.interfaces) if (i.network === network) i.state = 'removing';
  });
  await root.networks.detach(sandbox, network, { owner: rec.key });
  await pausePoint('disconnect:kernel');
  root.records.update(rec.name, (c) => {
    c.interfaces = c.interfaces.filter((i) => i.network !== network);
    c.gateway = sandbox.gateway;
    c.gatewayIPv6 = sandbox.gatewayIPv6;
  });
  refreshNames(root, { networks: [network], sandboxes: [rec.name] });
}
