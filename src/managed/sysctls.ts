/**
 * Layer: managed.
 *
 * Network sysctls of a recorded sandbox (`net.*` keys, written inside its namespace): read, and
 * set where they differ. Not recorded: the caller that wants them kept (a lab's `up`) writes
 * them again; a namespace's sysctls die with it, so there is nothing to undo on removal.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { NsboxError } from '../errors.js';
import { withAdopted } from './adopt.js';
import type { StateRoot } from './root.js';

export interface SysctlChange {
  key: string;
  /** The value before (trimmed), undefined for no such key. */
  before: string | undefined;
  value: string;
  changed: boolean;
}

/** `net.ipv4.ip_forward` → /proc/sys/net/ipv4/ip_forward; an interface name's `.` is written `/` in the key (sysctl(8)). */
export function sysctlPath(key: string): string {
  if (!/^net\.[A-Za-z0-9_./-]+$/.test(key) || key.includes('..')) throw new NsboxError(`not a network sysctl: ${JSON.stringify(key)}`, 'NSBOX_ERR_SYSCTL');
  return `/proc/sys/${key.split('.').map((p) => p.replaceAll('/', '.')).join('/')}`;
}

function readIn(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Read sysctls inside a sandbox (undefined for keys it does not have). */
export async function readSysctls(root: StateRoot, name: string, keys: readonly string[]): Promise<Map<string, string | undefined>> {
  const paths = keys.map((k) => [k, sysctlPath(k)] as const);
  return withAdopted(root, name, async ({ sandbox }) => sandbox.invoke(() => new Map(paths.map(([k, p]) => [k, readIn(p)]))));
}

/** Set sysctls inside a sandbox, writing only those that differ; `dryRun` only compares. */
export async function setSysctls(root: StateRoot, name: string, sysctls: readonly { key: string; value: string }[], dryRun = false): Promise<SysctlChange[]> {
  const paths = sysctls.map((s) => ({ ...s, path: sysctlPath(s.key) }));
  return withAdopted(root, name, async ({ sandbox }) => sandbox.invoke(() => paths.map(({ key, value, path }) => {
    const before = readIn(path);
    if (before === undefined) throw new NsboxError(`sandbox ${name} has no sysctl ${key} (${path})`, 'NSBOX_ERR_SYSCTL');
    const changed = before !== value;
    if (changed && !dryRun) {
      try {
        writeFileSync(path, value);
      } catch (err) {
        throw new NsboxError(`sandbox ${name}: cannot set ${key} to ${value}: ${(err as Error).message}`, 'NSBOX_ERR_SYSCTL', { cause: err });
      }
    }
    return { key, before, value, changed };
  })));
}
