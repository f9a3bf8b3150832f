/**
 * Layer: sandbox.
 *
 * gc(): reclaim leaked namespace files and mounts under the base path, from the kernel's
 * mount table and the directory itself (never from memory, so it works after a crash or a
 * restart). See docs/api.md, "How gc decides what is live".
 */
import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { closeNetns, destroyNetns, openNetns } from '../sys/index.js';
import { basePath } from './key.js';
import { leaseHeld, mountPointList, withBaseLock } from './namespace-file.js';

export interface GcOptions {
  /** Only report what would be removed. */
  dryRun?: boolean;
}

export interface GcReport {
  dryRun: boolean;
  /** Namespace mounts whose lease nobody holds (their owner died without destroy()). */
  removedMounts: string[];
  /** Plain files that are not mounted (a crash between creating the file and mounting it). */
  removedFiles: string[];
  /** Namespace files in use by a live sandbox. */
  live: string[];
  /** What could not be removed, with why. */
  errors: { path: string; error: string }[];
}

/** How many mounts are stacked on each mount point directly under `dir`. */
function mountCounts(dir: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const mp of mountPointList()) {
    if (mp.startsWith(`${dir}/`) && !mp.slice(dir.length + 1).includes('/')) counts.set(mp, (counts.get(mp) ?? 0) + 1);
  }
  return counts;
}

function isLive(path: string): boolean {
  let fd: number;
  try {
    fd = openNetns(path);
  } catch {
    return false; // not a namespace (anymore): nothing live behind it
  }
  try {
    return leaseHeld(fd);
  } finally {
    closeNetns(fd);
  }
}

/** Reclaim leaked netns files and mounts under the base path. Never touches anything else. */
export async function gc(options: GcOptions = {}): Promise<GcReport> {
  const dir = basePath();
  const report: GcReport = { dryRun: options.dryRun === true, removedMounts: [], removedFiles: [], live: [], errors: [] };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return report; // no base directory: nothing was ever created
  }
  withBaseLock(join(dir, 'gc'), true, () => {
    const mounts = mountCounts(dir);
    for (const name of names) {
      const path = join(dir, name);
      const stacked = mounts.get(path) ?? 0;
      try {
        if (stacked > 0) {
          if (isLive(path)) {
            report.live.push(path);
            continue;
          }
          if (!report.dryRun) {
            for (let i = 1; i < stacked; i++) destroyNetnsKeepFile(path);
            destroyNetns(path);
          }
          report.removedMounts.push(path);
        } else {
          let st;
          try {
            st = lstatSync(path);
          } catch {
            continue; // removed meanwhile
          }
          if (!st.isFile()) continue;
          if (!report.dryRun) unlinkSync(path);
          report.removedFiles.push(path);
        }
      } catch (err) {
        report.errors.push({ path, error: (err as Error).message });
      }
    }
  });
  return report;
}

/** Detach the top mount of a stacked mount point; the file stays for the next layer. */
function destroyNetnsKeepFile(path: string): void {
  try {
    destroyNetns(path);
  } catch (err) {
    if ((err as { code?: string }).code !== 'EBUSY') throw err;
  }
}

