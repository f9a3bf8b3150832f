/**
 * Layer: managed.
 *
 * The life of a recorded sandbox: create (record, then namespace, symlink and /etc/netns
 * directory, then ready; undone on failure), remove (interfaces back to the host, namespace,
 * leases, names, symlink, record; every step runs), and what the kernel holds for one.
 */
import { NsboxError } from '../errors.js';
import { Rtnl } from '../netlink/route/ops/index.js';
import { IFF, RT_TABLE } from '../netlink/route/schema/constants.js';
import { Sandbox, basePath, isNamespaceMounted, removeNamespaceFile } from '../sandbox/index.js';
import { emptyConfig, type SandboxRecord } from '../store/index.js';
import { checkName, deleteLinksUnlisted } from '../network/index.js';
import { isExternal } from './external.js';
import { adopt } from './adopt.js';
import { unpublishLocked } from './ports.js';
import type { StateRoot } from './root.js';
import { pausePoint } from './test-hooks.js';
import { checkNamespaceFilesOutlive } from './mount-scope.js';
import { checkDnsServers, checkEtcDirFree, makeEtcDir, refreshNames, removeEtcDir } from './names.js';
import { phase } from '../trace.js';

export interface CreateSandboxOptions {
  labels?: Record<string, string>;
  /** DNS servers for its resolv.conf instead of the host's (kept in the record). */
  dns?: readonly string[];
}

/**
 * Record, then create: a namespace with lo up, its /run/netns symlink and its /etc/netns
 * directory (resolv.conf, hosts); undone on failure.
 */
export async function createSandbox(root: StateRoot, name: string, o: CreateSandboxOptions = {}): Promise<SandboxRecord> {
  checkName('sandbox', name);
  const dns = checkDnsServers(o.dns);
  const key = root.keyOf(name);
  checkNamespaceFilesOutlive(basePath(), `sandbox ${name}`);
  return root.locked(name, async () => {
    checkEtcDirFree(root, name);
    const config = dns === undefined ? emptyConfig() : { ...emptyConfig(), dns };
    if (!root.records.insert({ name, key, labels: o.labels ?? {}, config })) {
      throw new NsboxError(`a sandbox named ${name} already exists`, 'NSBOX_ERR_EXISTS');
    }
    let sandbox: Sandbox | undefined;
    try {
      sandbox = await Sandbox.create(key);
      await pausePoint('create:netns');
      root.linkForIproute(name);
      makeEtcDir(root, name);
      await pausePoint('create:names');
      root.records.setState(name, 'ready');
      sandbox.close();
    } catch (err) {
      await sandbox?.destroy().catch(() => undefined);
      removeEtcDir(root, name);
      root.unlinkForIproute(name);
      root.records.delete(name);
      throw err;
    }
    return root.record(name);
  });
}

/**
 * The network links of a sandbox over an outside namespace (external.ts), deleted: inside
 * (when it is reachable) by name, then the host ends and the leases. Already gone is success.
 */
async function detachExternalLinks(root: StateRoot, rec: SandboxRecord, inside: Rtnl | undefined): Promise<string[]> {
  const errors: string[] = [];
  for (const row of rec.config.interfaces) {
    if (row.network === undefined) continue;
    try {
      // Done once the kernel has unlisted it: a CNI DEL need not wait for the RCU barrier after.
      const failed = inside === undefined ? [] : await deleteLinksUnlisted(inside, [row.dstName]);
      if (failed.length > 0) {
        errors.push(...failed.map((f) => `interface ${f}`));
        continue;
      }
      await root.networks.releaseOutside(row.network, rec.key);
    } catch (err) {
      errors.push(`interface ${row.dstName}: ${(err as Error).message}`);
    }
  }
  return errors;
}

export interface RemoveOutcome {
  name: string;
  /** False when there was no such sandbox (removing what is gone succeeds). */
  removed: boolean;
  /** Steps that failed; every other step still ran. */
  errors: string[];
}

/** What removing many sandboxes does once at the end instead of for each (removeSandboxes). */
export interface RemoveBatch {
  /** The networks whose members' hosts files to rewrite. */
  networks: Set<string>;
  /** The host veth ends to wait for (the kernel deletes them after the namespaces), each with its sandbox's errors. */
  hostEnds: { link: string; errors: string[] }[];
}

/**
 * Remove a sandbox; the caller holds its lock. The host ends of its network veths are deleted
 * first and its peers' hosts files rewritten last, unless the caller collects both in `batch`
 * to do them once after removing many (the ends then go with the namespaces).
 */
export async function removeSandboxLocked(root: StateRoot, name: string, batch?: RemoveBatch): Promise<RemoveOutcome> {
  const rec = root.records.get(name);
  if (rec === undefined) return { name, removed: false, errors: [] };
  root.records.setState(name, 'removing');
  const errors: string[] = [];
  let destroyed = false;
  const external = isExternal(rec);
  await unpublishLocked(root, name).catch((err: Error) => errors.push(`published ports: ${err.message}`));
  const hostEnds = external ? [] : rec.config.interfaces.flatMap((i) => (i.network === undefined ? [] : root.networks.hostLinksOf(rec.key, i.network)));
  // One sandbox: its host veth ends deleted now, done once the kernel has unlisted them (~1 ms;
  // deleteHostLinks). Many: the namespaces' cleanup deletes them, in one batch waited for at the end.
  if (batch === undefined && hostEnds.length > 0) {
    errors.push(...await root.networks.deleteHostLinks(hostEnds));
    phase('remove: host veth ends deleted');
  }
  if (isNamespaceMounted(rec.key)) {
    let adopted;
    try {
      adopted = await adopt(rec, { skipMissing: true });
    } catch (err) {
      errors.push((err as Error).message);
    }
    if (adopted && external) {
      // Not nsbox's namespace: its network links are deleted here (they would outlive the pin).
      errors.push(...await detachExternalLinks(root, rec, adopted.sandbox.netlink));
      await adopted.sandbox.destroy().then(() => { destroyed = true; }, (err: Error) => errors.push(err.message));
    } else if (adopted) {
      // Links a network made, and veth pairs born here (veth-pair.ts), die with the namespace; links from the host go back to it.
      const networkLinks = new Set(rec.config.interfaces.filter((i) => i.network !== undefined || i.options.createdInContainer).map((i) => i.dstName));
      for (const iface of [...adopted.sandbox.interfaces()].reverse()) {
        if (networkLinks.has(iface.dstName)) continue;
        try {
          await iface.remove();
        } catch (err) {
          errors.push(`interface ${iface.dstName}: ${(err as Error).message}`);
        }
      }
      await adopted.sandbox.destroy().then(() => { destroyed = true; }, (err: Error) => errors.push(err.message));
    }
  }
  if (external && !destroyed) errors.push(...await detachExternalLinks(root, rec, undefined));
  phase('remove: namespace detached');
  if (batch !== undefined) batch.hostEnds.push(...hostEnds.map((link) => ({ link, errors })));
  const networks = [...new Set(root.networks.leasesOf(rec.key).map((l) => l.network))];
  root.networks.release(rec.key);
  errors.push(...removeEtcDir(root, name));
  if (batch === undefined) refreshNames(root, { networks }); // its peers forget it
  else for (const n of networks) batch.networks.add(n);
  if (!destroyed) {
    // Not adopted (no namespace, or an interrupted create) or destroy failed: still clear the file.
    try {
      removeNamespaceFile(rec.key);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  root.unlinkForIproute(name);
  root.records.delete(name);
  return { name, removed: true, errors };
}

/** Remove a sandbox: interfaces back to the host, namespace, leases, symlink, record. */
export function removeSandbox(root: StateRoot, name: string): Promise<RemoveOutcome> {
  checkName('sandbox', name);
  return root.locked(name, () => removeSandboxLocked(root, name));
}

/**
 * Remove several sandboxes, one after the other, each under its lock; their peers' hosts files
 * are rewritten once at the end instead of after each (N sandboxes on a network would otherwise
 * cost N² file writes), and the host ends of their network veths, which the kernel deletes
 * after their namespaces (cleanup_net, one batch for many), are waited for once at the end too.
 * One name is removed as removeSandbox does. A process killed in between leaves hosts files
 * that `gc` rewrites.
 */
export async function removeSandboxes(root: StateRoot, names: readonly string[], onProgress?: (name: string, done: number, total: number) => void): Promise<RemoveOutcome[]> {
  for (const name of names) checkName('sandbox', name);
  if (names.length === 1) {
    onProgress?.(names[0]!, 1, 1);
    return [await removeSandbox(root, names[0]!)];
  }
  const batch: RemoveBatch = { networks: new Set(), hostEnds: [] };
  const outcomes: RemoveOutcome[] = [];
  try {
    for (const [i, name] of names.entries()) {
      onProgress?.(name, i + 1, names.length);
      outcomes.push(await root.locked(name, () => removeSandboxLocked(root, name, batch)));
    }
  } finally {
    if (batch.networks.size > 0) refreshNames(root, { networks: [...batch.networks] });
    const left = new Set(await root.networks.waitForHostLinksGone(batch.hostEnds.map((e) => e.link), 5000 + 5 * batch.hostEnds.length));
    for (const e of batch.hostEnds) if (left.has(e.link)) e.errors.push(`host link ${e.link} is still there`);
    phase('remove: waited for the kernel to delete the host veth ends');
  }
  return outcomes;
}

/** A record, whether its namespace is mounted, and its state ('gone' when a ready sandbox lost its namespace). */
export interface SandboxStatus {
  record: SandboxRecord;
  mounted: boolean;
  state: SandboxRecord['state'] | 'gone';
}

export function statusOf(rec: SandboxRecord): SandboxStatus {
  const mounted = isNamespaceMounted(rec.key);
  return { record: rec, mounted, state: rec.state === 'ready' && !mounted ? 'gone' : rec.state };
}

/** What the kernel holds in a sandbox: links, addresses, main-table routes. */
export interface KernelView {
  links: { index: number; name: string; kind: string | null; mtu: number | undefined; address: string | null; up: boolean }[];
  addresses: { index: number; address: string }[];
  routes: { destination: string; gateway: string | null; oif: number | null }[];
}

/** Read a live sandbox's links, addresses and routes from its namespace. */
export async function kernelView(rec: SandboxRecord): Promise<KernelView> {
  const rtnl = Rtnl.open({ netns: rec.key });
  try {
    const [links, addrs, routes] = await Promise.all([rtnl.link.list(), rtnl.addr.list(), rtnl.route.list({ table: 'all' })]);
    return {
      links: links.map((l) => ({ index: l.index, name: l.name, kind: l.info?.kind ?? null, mtu: l.mtu, address: l.address ?? null, up: (l.flags & IFF.UP) !== 0 })),
      addresses: addrs.map((a) => ({ index: a.index, address: a.cidr })),
      routes: routes.filter((r) => r.table === RT_TABLE.MAIN).map((r) => ({ destination: r.destination, gateway: r.gateway ?? null, oif: r.oif ?? null })),
    };
  } finally {
    rtnl.close();
  }
}
