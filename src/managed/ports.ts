/**
 * Layer: managed.
 *
 * Published ports of a recorded sandbox. Publishing checks the mappings against the sandbox's
 * addresses on bridge networks (macvlan children cannot be reached from the host), takes the
 * host ports (refused when a host process holds one; port 0 picks a free one, the same number
 * for IPv4 and IPv6), records the rows 'adding' (refused when published already), writes the
 * elements, and marks the rows 'active'; a failure undoes every step, and a process killed in
 * between leaves rows that gc settles. Unpublishing marks rows 'removing', removes the
 * elements, then the rows. The caller holds the sandbox's lock.
 */
import { NsboxError } from '../errors.js';
import { HostPortHold, type HostPortRequest } from '../firewall/index.js';
import type { InterfaceRecord, PortRecord, SandboxRecord } from '../store/index.js';
import type { PortMapping } from './port-spec.js';
import type { StateRoot } from './root.js';
import { pausePoint } from './test-hooks.js';

/** A sandbox's address on a bridge network, by family. */
interface Target {
  network: string;
  address: string;
}

/** The sandbox's first address of each family on a bridge network (where published ports go). */
function targets(root: StateRoot, rec: SandboxRecord): Map<4 | 6, Target> {
  const out = new Map<4 | 6, Target>();
  const ready = rec.config.interfaces.filter((i): i is InterfaceRecord & { network: string } => i.state === 'ready' && i.network !== undefined);
  for (const i of ready) {
    if (root.networks.get(i.network)?.driver !== 'bridge') continue;
    for (const [family, cidr] of [[4, i.options.ipv4], [6, i.options.ipv6]] as const) {
      if (cidr !== undefined && !out.has(family)) out.set(family, { network: i.network, address: cidr.slice(0, cidr.indexOf('/')) });
    }
  }
  return out;
}

/** Each mapping's families: the host address's, or IPv4 and (when the sandbox has one) IPv6 for every address. */
function familiesOf(m: PortMapping, have: Map<4 | 6, Target>, name: string): (4 | 6)[] {
  if (m.hostIp !== undefined) {
    const family = m.hostIp.includes(':') ? 6 : 4;
    if (!have.has(family)) throw new NsboxError(`sandbox ${name} has no IPv${family} address on a bridge network for host address ${m.hostIp}`, 'NSBOX_ERR_CONFIG');
    return [family];
  }
  return ([4, 6] as const).filter((f) => have.has(f));
}

export interface Publication {
  /** The rows recorded, active. */
  ports: PortRecord[];
  /** The host ports, held until released (`nsbox run -p` keeps them for the command's life). */
  hold: HostPortHold;
}

/** Publish `mappings` for the sandbox `rec` (its lock held). */
export async function publishLocked(root: StateRoot, rec: SandboxRecord, mappings: readonly PortMapping[]): Promise<Publication> {
  const have = targets(root, rec);
  if (have.size === 0) {
    throw new NsboxError(`sandbox ${rec.name} has no address on a bridge network, so no port can be published to it (macvlan sandboxes cannot be reached from the host); connect it to one first`, 'NSBOX_ERR_CONFIG');
  }
  // Take the host ports: a free port (0) is picked once and used for every family of its mapping.
  const hold = new HostPortHold();
  const rows: Omit<PortRecord, 'state'>[] = [];
  try {
    for (const m of mappings) {
      let hostPort = m.hostPort;
      for (const family of familiesOf(m, have, rec.name)) {
        const request: HostPortRequest = { protocol: m.protocol, family, hostIp: m.hostIp, hostPort };
        hostPort = hold.add(request).hostPort;
        const target = have.get(family)!;
        rows.push({ family, protocol: m.protocol, hostIp: m.hostIp ?? '', hostPort, sandbox: rec.name, network: target.network, address: target.address, port: m.port });
      }
    }
  } catch (err) {
    hold.release();
    throw err;
  }
  const ports = root.ports;
  const clash = ports.insert(rows);
  if (clash !== undefined) {
    hold.release();
    const where = clash.hostIp === '' ? (clash.family === 4 ? '0.0.0.0' : '[::]') : clash.hostIp;
    throw new NsboxError(`host port ${where}:${clash.hostPort}/${clash.protocol} is already published by sandbox ${clash.sandbox}`, 'NSBOX_ERR_IN_USE');
  }
  const recorded = rows.map((r): PortRecord => ({ ...r, state: 'adding' }));
  try {
    await root.networks.firewall.publish(recorded);
    await pausePoint('publish:kernel');
  } catch (err) {
    ports.delete(rows);
    hold.release();
    throw err;
  }
  ports.setState(rows, 'active');
  return { ports: recorded.map((r) => ({ ...r, state: 'active' })), hold };
}

/** Unpublish the sandbox's ports (all, or those `which` keeps); the caller holds its lock. */
export async function unpublishLocked(root: StateRoot, name: string, which: (p: PortRecord) => boolean = () => true): Promise<PortRecord[]> {
  const ports = root.ports;
  const gone = ports.list(name).filter(which);
  if (gone.length === 0) return [];
  ports.setState(gone, 'removing');
  await root.networks.firewall.unpublish(gone);
  ports.delete(gone);
  return gone;
}

/** Every published port, or a sandbox's. */
export function listPorts(root: StateRoot, name?: string): PortRecord[] {
  return root.ports.list(name);
}
