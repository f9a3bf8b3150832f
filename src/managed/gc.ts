/**
 * Layer: managed.
 *
 * Make kernel and state agree. gc removes what nsbox made and nothing else: interrupted
 * creates and removals, records whose namespace is gone, `nsbox run` sandboxes whose process
 * died, interfaces left half added, netns files and mounts in nsbox's own directory with no
 * record, nsbox's /run/netns symlinks with no record, /etc/netns directories nsbox made for
 * sandboxes that no longer exist, leases of sandboxes that no longer exist, and host links
 * and bridges nsbox tagged for sandboxes and networks that no longer exist, overlay devices and
 * allowlist entries of overlay networks that no longer exist (overlay-gc.ts); then every
 * sandbox's hosts file is written again from the store (a command killed before it rewrote
 * them left stale ones), and lock files nobody holds are deleted. A sandbox another nsbox process is working on is skipped.
 */
import { readdirSync, readlinkSync, lstatSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { basePath, hostNetlink, isNamespaceMounted, removeNamespaceFile, sweepLockFiles } from '../sandbox/index.js';
import type { SandboxRecord } from '../store/index.js';
import { bridgeTag, vethTag } from '../network/index.js';
import { IPROUTE_NETNS_DIR, type StateRoot } from './root.js';
import { removeSandboxLocked } from './sandboxes.js';
import { RUN_EPHEMERAL, RUN_LABEL } from './run.js';
import { undoInterruptedInterfaces } from './undo.js';
import { unpublishLocked } from './ports.js';
import { collectOverlay } from './overlay-gc.js';
import { etcDirOf, exists, orphanEtcDirs, refreshNames, removeEtcDir } from './names.js';

export interface GcAction {
  kind: 'sandbox' | 'interface' | 'netns' | 'symlink' | 'names' | 'link' | 'lease' | 'bridge' | 'port' | 'firewall' | 'network' | 'overlay';
  name: string;
  reason: string;
}

export interface GcResult {
  dryRun: boolean;
  removed: GcAction[];
  /** Sandboxes skipped because another nsbox process holds their lock. */
  inUse: string[];
  errors: { name: string; error: string }[];
}

export interface GcOptions {
  /** Only report what would be removed. */
  dryRun?: boolean;
  /** Called before each sandbox record is looked at. */
  onProgress?: (name: string, done: number, total: number) => void;
}

export async function gc(root: StateRoot, options: GcOptions = {}): Promise<GcResult> {
  const result: GcResult = { dryRun: options.dryRun === true, removed: [], inUse: [], errors: [] };
  await finishNetworks(root, result);
  await collectRecords(root, result, options.onProgress);
  await collectOrphanFiles(root, result);
  await collectEtcDirs(root, result);
  collectLeases(root, result);
  await collectPorts(root, result);
  await collectHostLinks(root, result);
  await collectOverlay(root, result);
  if (!result.dryRun) refreshNames(root, { all: true });
  // Lock files whose holder died before deleting them (sandbox/file-lock.ts); held ones stay.
  if (!result.dryRun) sweepLockFiles(join(root.dir, 'locks'));
  return result;
}

/**
 * Only the records of these sandboxes (interrupted creates and removals, half-added interfaces,
 * interrupted port work): what a caller resuming its own work (a lab's `up`) needs before it
 * goes on. Nothing else of the root is looked at.
 */
export async function gcSandboxes(root: StateRoot, names: readonly string[], options: Pick<GcOptions, 'dryRun'> = {}): Promise<GcResult> {
  const result: GcResult = { dryRun: options.dryRun === true, removed: [], inUse: [], errors: [] };
  await collectRecords(root, result, undefined, new Set(names));
  return result;
}

/**
 * Networks whose `network create` died between its record and its bridge: finished (the
 * bridge and firewall elements made, as the create would have), or undone when that fails.
 */
async function finishNetworks(root: StateRoot, result: GcResult): Promise<void> {
  for (const n of await root.networks.finishInterrupted({ dryRun: result.dryRun })) {
    result.removed.push({ kind: 'network', name: n.name, reason: n.finished ? 'network create was interrupted: finished' : `network create was interrupted: undone (${n.error})` });
  }
}

function reasonFor(rec: SandboxRecord, mounted: boolean): string | undefined {
  if (rec.state === 'creating') return 'create was interrupted';
  if (rec.state === 'removing') return 'rm was interrupted';
  if (!mounted) return 'its network namespace is gone';
  return undefined;
}

/** A `nsbox run` sandbox (without --keep) whose run process is gone: nobody will clean it up. */
async function orphanedRun(root: StateRoot, rec: SandboxRecord): Promise<string | undefined> {
  if (rec.labels[RUN_LABEL] !== RUN_EPHEMERAL) return undefined;
  return (await root.runIsAlive(rec.name)) ? undefined : 'its `nsbox run` process died';
}

/** Sandboxes whose work was interrupted or whose namespace is gone; half-added interfaces. */
async function collectRecords(root: StateRoot, result: GcResult, onProgress: GcOptions['onProgress'], only?: ReadonlySet<string>): Promise<void> {
  const records = root.records.list().filter((r) => only === undefined || only.has(r.name));
  for (const [i, listed] of records.entries()) {
    onProgress?.(listed.name, i + 1, records.length);
    const done = await root.tryLocked(listed.name, async (): Promise<true> => {
      const rec = root.records.get(listed.name);
      if (rec === undefined) return true;
      const reason = reasonFor(rec, isNamespaceMounted(rec.key)) ?? (await orphanedRun(root, rec));
      if (reason !== undefined) {
        result.removed.push({ kind: 'sandbox', name: rec.name, reason });
        if (!result.dryRun) {
          const outcome = await removeSandboxLocked(root, rec.name);
          for (const e of outcome.errors) result.errors.push({ name: rec.name, error: e });
        }
        return true;
      }
      for (const p of root.ports.list(rec.name).filter((x) => x.state !== 'active')) {
        result.removed.push({ kind: 'port', name: `${rec.name} ${p.hostPort}/${p.protocol}`, reason: p.state === 'adding' ? 'publish was interrupted' : 'unpublish was interrupted' });
      }
      if (!result.dryRun) {
        await unpublishLocked(root, rec.name, (x) => x.state !== 'active').catch((err: Error) => result.errors.push({ name: rec.name, error: `published ports: ${err.message}` }));
      }
      for (const row of rec.config.interfaces.filter((r) => r.state === 'adding' || (r.state === 'removing' && r.network !== undefined))) {
        const reason = row.state === 'removing' ? `disconnect from ${row.network} was interrupted` : row.network ? `connect to ${row.network} was interrupted` : 'iface add was interrupted';
        result.removed.push({ kind: 'interface', name: `${rec.name}/${row.dstName}`, reason });
      }
      if (!result.dryRun) {
        for (const e of await undoInterruptedInterfaces(root, rec)) result.errors.push({ name: rec.name, error: e });
      }
      return true;
    });
    if (done === undefined && root.records.get(listed.name) !== undefined) result.inUse.push(listed.name);
  }
}

/**
 * Namespace files in nsbox's own directory, and its symlinks in /run/netns, with no record. A
 * symlink is this root's when it points into the root's namespace directory; the sandbox it
 * stands for is the name it points at (the link is NAME@HOST for a root with a host name).
 */
async function collectOrphanFiles(root: StateRoot, result: GcResult): Promise<void> {
  const base = basePath();
  const links = new Map<string, string[]>();
  for (const name of safeReaddir(base)) links.set(name, []);
  for (const entry of safeReaddir(IPROUTE_NETNS_DIR)) {
    const link = join(IPROUTE_NETNS_DIR, entry);
    if (!isSymlinkInto(link, base)) continue;
    const name = basename(readlinkSync(link));
    links.set(name, [...(links.get(name) ?? []), link]);
  }
  for (const [name, symlinks] of links) {
    if (root.records.get(name) !== undefined) continue;
    await root.tryLocked(name, async () => {
      if (root.records.get(name) !== undefined) return; // created meanwhile
      const key = join(base, name);
      if (exists(key)) {
        result.removed.push({ kind: 'netns', name: key, reason: 'no record' });
        if (!result.dryRun) {
          try {
            removeNamespaceFile(key);
          } catch (err) {
            result.errors.push({ name: key, error: (err as Error).message });
          }
        }
      }
      for (const link of symlinks) {
        if (!isSymlinkInto(link, base)) continue;
        result.removed.push({ kind: 'symlink', name: link, reason: 'no record' });
        if (!result.dryRun) unlinkSync(link);
      }
    });
  }
}

/** /etc/netns directories nsbox made (their marker in the state root says so) for sandboxes with no record. */
async function collectEtcDirs(root: StateRoot, result: GcResult): Promise<void> {
  for (const name of orphanEtcDirs(root)) {
    await root.tryLocked(name, async () => {
      if (root.records.get(name) !== undefined) return; // created meanwhile
      result.removed.push({ kind: 'names', name: etcDirOf(root, name), reason: 'no record' });
      if (!result.dryRun) for (const error of removeEtcDir(root, name)) result.errors.push({ name: etcDirOf(root, name), error });
    });
  }
}

/** Leases held by sandboxes that no longer exist. */
function collectLeases(root: StateRoot, result: GcResult): void {
  const keys = new Set(root.records.list().map((r) => r.key));
  for (const lease of root.networks.allLeases()) {
    if (keys.has(lease.owner)) continue;
    result.removed.push({ kind: 'lease', name: `${lease.network}/${lease.address}`, reason: `its sandbox ${lease.owner} no longer exists` });
    if (!result.dryRun) root.networks.release(lease.owner, lease.network);
  }
}

/**
 * Published ports of sandboxes that no longer exist, then the nsbox table against the store:
 * elements nobody recorded removed, recorded ones missing put back, the table rebuilt if it
 * was flushed or is of another layout.
 */
async function collectPorts(root: StateRoot, result: GcResult): Promise<void> {
  const orphans = [...new Set(root.ports.list().map((p) => p.sandbox))].filter((name) => root.records.get(name) === undefined);
  for (const name of orphans) {
    await root.tryLocked(name, async () => {
      if (root.records.get(name) !== undefined) return; // created meanwhile
      for (const p of root.ports.list(name)) result.removed.push({ kind: 'port', name: `${name} ${p.hostPort}/${p.protocol}`, reason: `its sandbox ${name} no longer exists` });
      if (!result.dryRun) await unpublishLocked(root, name).catch((err: Error) => result.errors.push({ name, error: `published ports: ${err.message}` }));
    });
  }
  try {
    const report = await root.networks.firewall.reconcile({ dryRun: result.dryRun });
    if (report.rebuilt) result.removed.push({ kind: 'firewall', name: 'inet nsbox', reason: 'the table was missing or of another layout: rebuilt from the store' });
    for (const e of report.removed) result.removed.push({ kind: 'firewall', name: e, reason: 'no network or published port records it' });
    for (const e of report.added) result.removed.push({ kind: 'firewall', name: e, reason: 'recorded but missing in the kernel: put back' });
  } catch (err) {
    result.errors.push({ name: 'inet nsbox', error: (err as Error).message });
  }
}

/** Host veth ends and bridges nsbox tagged for sandboxes and networks of this root that have no record. */
async function collectHostLinks(root: StateRoot, result: GcResult): Promise<void> {
  const host = hostNetlink();
  const remove = async (index: number, name: string): Promise<void> => {
    if (result.dryRun) return;
    await host.link.del({ index }).catch((err: { code?: string; message: string }) => {
      if (err.code !== 'ENODEV') result.errors.push({ name, error: err.message });
    });
  };
  const vethPrefix = vethTag(`${basePath()}/`);
  for (const link of await host.link.list()) {
    if (link.alias === undefined || !link.alias.startsWith(vethPrefix)) continue;
    const owner = link.alias.slice(vethPrefix.length);
    if (root.records.get(owner) !== undefined) continue;
    result.removed.push({ kind: 'link', name: link.name, reason: `its sandbox ${owner} no longer exists` });
    await remove(link.index, link.name);
  }
  const bridgePrefix = bridgeTag(basePath(), '');
  for (const link of await host.link.list({ kind: 'bridge' })) {
    if (link.alias === undefined || !link.alias.startsWith(bridgePrefix)) continue;
    const network = link.alias.slice(bridgePrefix.length);
    if (root.networks.get(network) !== undefined) continue;
    result.removed.push({ kind: 'bridge', name: link.name, reason: `its network ${network} no longer exists` });
    await remove(link.index, link.name);
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isSymlinkInto(path: string, dir: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink() && readlinkSync(path).startsWith(`${dir}/`);
  } catch {
    return false;
  }
}
