/**
 * Layer: cli.
 *
 * `nsbox gc`: make kernel and state agree. It removes what nsbox made and nothing else:
 * interrupted creates and removals, records whose namespace is gone, interfaces left half
 * added by a killed `iface add`, netns files and mounts in nsbox's own directory with no
 * record, nsbox's /run/netns symlinks with no record, and host links nsbox tagged for a
 * sandbox that no longer exists. A sandbox another nsbox process is working on is skipped.
 */
import { readdirSync, readlinkSync, lstatSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { basePath, isNamespaceMounted, removeNamespaceFile } from '../../sandbox/index.js';
import type { SandboxRecord } from '../../store/index.js';
import { Rtnl } from '../../netlink/route/ops/index.js';
import { CliError, EXIT } from '../../errors.js';
import { IPROUTE_NETNS_DIR, type Context } from '../context.js';
import { Progress, printJson, printTable } from '../output.js';
import { removeSandbox } from './sandbox.js';
import { RUN_EPHEMERAL, RUN_LABEL } from './run.js';
import { undoInterruptedInterfaces } from './undo.js';
import { bridgeTag, vethTag } from '../../network/index.js';

export interface GcAction {
  kind: 'sandbox' | 'interface' | 'netns' | 'symlink' | 'link' | 'lease' | 'bridge';
  name: string;
  reason: string;
}

export interface GcResult {
  dryRun: boolean;
  removed: GcAction[];
  inUse: string[];
  errors: { name: string; error: string }[];
}

function reasonFor(rec: SandboxRecord, mounted: boolean): string | undefined {
  if (rec.state === 'creating') return 'create was interrupted';
  if (rec.state === 'removing') return 'rm was interrupted';
  if (!mounted) return 'its network namespace is gone';
  return undefined;
}

/** A `nsbox run` sandbox (without --keep) whose run process is gone: nobody will clean it up. */
async function orphanedRun(ctx: Context, rec: SandboxRecord): Promise<string | undefined> {
  if (rec.labels[RUN_LABEL] !== RUN_EPHEMERAL) return undefined;
  const free = await ctx.tryRunLocked(rec.name, async () => true);
  return free ? 'its `nsbox run` process died' : undefined;
}

export async function runGc(ctx: Context, dryRun: boolean, progressLabel = 'gc'): Promise<GcResult> {
  const result: GcResult = { dryRun, removed: [], inUse: [], errors: [] };
  const records = ctx.records.list();
  const progress = new Progress(progressLabel, records.length);
  for (const listed of records) {
    progress.step(listed.name);
    const done = await ctx.tryLocked(listed.name, async (): Promise<true> => {
      const rec = ctx.records.get(listed.name);
      if (rec === undefined) return true;
      const reason = reasonFor(rec, isNamespaceMounted(rec.key)) ?? (await orphanedRun(ctx, rec));
      if (reason !== undefined) {
        result.removed.push({ kind: 'sandbox', name: rec.name, reason });
        if (!dryRun) {
          ctx.records.setState(rec.name, 'removing');
          const r = await removeSandboxLocked(ctx, rec.name);
          for (const e of r) result.errors.push({ name: rec.name, error: e });
        }
        return true;
      }
      for (const row of rec.config.interfaces.filter((i) => i.state === 'adding')) {
        result.removed.push({ kind: 'interface', name: `${rec.name}/${row.dstName}`, reason: row.network ? `connect to ${row.network} was interrupted` : 'iface add was interrupted' });
      }
      if (!dryRun) {
        for (const e of await undoInterruptedInterfaces(ctx, rec)) result.errors.push({ name: rec.name, error: e });
      }
      return true;
    });
    if (done === undefined && ctx.records.get(listed.name) !== undefined) result.inUse.push(listed.name);
  }
  progress.end();

  // Namespace files in nsbox's own directory, and its symlinks in /run/netns, with no record.
  const base = basePath();
  const orphanNames = new Set<string>();
  for (const name of safeReaddir(base)) orphanNames.add(name);
  for (const name of safeReaddir(IPROUTE_NETNS_DIR)) {
    const path = join(IPROUTE_NETNS_DIR, name);
    if (isSymlinkInto(path, base)) orphanNames.add(name);
  }
  for (const name of orphanNames) {
    if (ctx.records.get(name) !== undefined) continue;
    await ctx.tryLocked(name, async () => {
      if (ctx.records.get(name) !== undefined) return; // created meanwhile
      const key = join(base, name);
      if (safeExists(key)) {
        result.removed.push({ kind: 'netns', name: key, reason: 'no record' });
        if (!dryRun) {
          try {
            removeNamespaceFile(key);
          } catch (err) {
            result.errors.push({ name: key, error: (err as Error).message });
          }
        }
      }
      const link = join(IPROUTE_NETNS_DIR, name);
      if (isSymlinkInto(link, base)) {
        result.removed.push({ kind: 'symlink', name: link, reason: 'no record' });
        if (!dryRun) unlinkSync(link);
      }
    });
  }

  // Leases held by sandboxes that no longer exist.
  const keys = new Set(ctx.records.list().map((r) => r.key));
  for (const lease of ctx.networks.records.allLeases()) {
    if (keys.has(lease.owner)) continue;
    result.removed.push({ kind: 'lease', name: `${lease.network}/${lease.address}`, reason: `its sandbox ${lease.owner} no longer exists` });
    if (!dryRun) ctx.networks.records.release(lease.owner, lease.network);
  }

  // Host links nsbox tagged for a sandbox of this root that has no record.
  const host = Rtnl.open();
  try {
    const prefix = vethTag(`${basePath()}/`);
    for (const link of await host.link.list()) {
      if (link.alias === undefined || !link.alias.startsWith(prefix)) continue;
      const owner = link.alias.slice(prefix.length);
      if (ctx.records.get(owner) !== undefined) continue;
      result.removed.push({ kind: 'link', name: link.name, reason: `its sandbox ${owner} no longer exists` });
      if (!dryRun) {
        await host.link.del({ index: link.index }).catch((err: Error) => {
          if (!/ENODEV/.test(err.message)) result.errors.push({ name: link.name, error: err.message });
        });
      }
    }
    // Bridges nsbox made for networks that no longer exist.
    const netPrefix = bridgeTag(basePath(), '');
    for (const link of await host.link.list({ kind: 'bridge' })) {
      if (link.alias === undefined || !link.alias.startsWith(netPrefix)) continue;
      const network = link.alias.slice(netPrefix.length);
      if (ctx.networks.get(network) !== undefined) continue;
      result.removed.push({ kind: 'bridge', name: link.name, reason: `its network ${network} no longer exists` });
      if (!dryRun) await host.link.del({ index: link.index }).catch((err: Error) => result.errors.push({ name: link.name, error: err.message }));
    }
  } finally {
    host.close();
  }
  return result;
}

/** removeSandbox without taking the lock again (the caller holds it). */
async function removeSandboxLocked(ctx: Context, name: string): Promise<string[]> {
  return (await removeSandbox(ctx, name, { locked: true })).errors;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function isSymlinkInto(path: string, dir: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink() && readlinkSync(path).startsWith(`${dir}/`);
  } catch {
    return false;
  }
}

export async function gcCommand(ctx: Context, opts: { dryRun?: boolean }): Promise<void> {
  const result = await runGc(ctx, opts.dryRun === true);
  if (ctx.json) printJson(result);
  else if (result.removed.length === 0 && result.errors.length === 0) process.stdout.write('nothing to collect\n');
  else {
    printTable(['KIND', 'NAME', dryRunHeader(result.dryRun)], result.removed.map((a) => [a.kind, a.name, a.reason]));
    for (const n of result.inUse) process.stdout.write(`skipped ${n}: in use by another nsbox process\n`);
  }
  if (result.errors.length > 0) {
    throw new CliError(result.errors.map((e) => `${e.name}: ${e.error}`).join('; '), 'NSBOX_ERR_GC', EXIT.FAILURE);
  }
}

function dryRunHeader(dryRun: boolean): string {
  return dryRun ? 'WOULD REMOVE BECAUSE' : 'REMOVED BECAUSE';
}
