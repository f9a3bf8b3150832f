/**
 * Layer: sandbox.
 *
 * osl neigh_linux.go: permanent neighbour entries and bridge FDB entries. Nothing is
 * tracked in memory; the kernel is asked, and EEXIST/ENOENT become NeighborSearchError.
 */
import { NetlinkError, NeighborSearchError, SandboxError } from '../errors.js';
import { NO_STATS, type NeighborOptions } from '../netlink/route/ops/index.js';
import { AF } from '../netlink/route/schema/constants.js';
import { parseIp } from '../net/cidr.js';
import { checkEthernetMac } from '../netlink/wire/mac.js';
import { findDst } from './interface-add.js';
import { wrap } from './wrap.js';
import { debug } from './log.js';
import type { SandboxCore } from './core.js';

export interface AddNeighborOptions {
  /** srcName of a registered interface the entry belongs to. */
  linkName?: string;
  /** Address family: 7 (AF_BRIDGE) for an FDB entry; by default the IP's family. */
  family?: number;
}

async function buildEntry(core: SandboxCore, ip: string, mac: string, o: AddNeighborOptions): Promise<NeighborOptions> {
  parseIp(ip, 'neighbour IP');
  checkEthernetMac(mac);
  if (o.linkName === undefined) throw new TypeError('a neighbour entry needs linkName (the srcName of one of the sandbox interfaces)');
  const dst = findDst(core, o.linkName, false);
  if (dst === undefined) throw new SandboxError(`could not find the interface with name ${o.linkName}`, 'NSBOX_ERR_NOT_FOUND');
  let index: number;
  try {
    index = (await core.rtnl.link.get({ name: dst }, NO_STATS)).index;
  } catch (err) {
    throw wrap(`could not find interface with destination name ${dst}`, err);
  }
  const bridge = o.family === AF.BRIDGE;
  return { index, dst: ip, lladdr: mac.toLowerCase(), family: bridge ? 'bridge' : 'inet', self: bridge };
}

export async function addNeighbor(core: SandboxCore, ip: string, mac: string, o: AddNeighborOptions = {}): Promise<void> {
  const entry = await buildEntry(core, ip, mac, o);
  try {
    await core.rtnl.neigh.add(entry);
  } catch (err) {
    if (err instanceof NetlinkError && err.code === 'EEXIST') throw new NeighborSearchError(ip, mac, o.linkName, true, { cause: err });
    throw wrap(`could not add neighbor entry ${ip} ${mac}${o.linkName ? ` on ${o.linkName}` : ''}`, err);
  }
}

export async function deleteNeighbor(core: SandboxCore, ip: string, mac: string, o: AddNeighborOptions = {}): Promise<void> {
  const entry = await buildEntry(core, ip, mac, o);
  try {
    await core.rtnl.neigh.del(entry);
  } catch (err) {
    if (err instanceof NetlinkError && err.code === 'ENOENT') throw new NeighborSearchError(ip, mac, o.linkName, false, { cause: err });
    throw wrap(`could not delete neighbor ${ip} ${mac}${o.linkName ? ` on ${o.linkName}` : ''}`, err);
  }
  if (entry.family === 'bridge') {
    try {
      await core.rtnl.neigh.del({ ...entry, self: false, master: true });
    } catch (err) {
      if (!(err instanceof NetlinkError && err.code === 'ENOENT')) debug('deleting the NTF_MASTER twin of %s failed: %s', ip, (err as Error).message);
    }
  }
}
