/**
 * Layer: base (shared by the process edges: cli/main.ts, cni/main.ts).
 *
 * An EPERM or EACCES met by a process without root is not a bug to report as such: it becomes
 * one NSBOX_ERR_PERMISSION saying nsbox needs root. With the capabilities, the error is left
 * as it is (something else refused).
 */
import { readFileSync } from 'node:fs';
import { NsboxError } from './errors.js';

/** CAP_NET_ADMIN (12) and CAP_SYS_ADMIN (21) in this process's effective set (/proc/self/status). */
export function privileged(): boolean {
  try {
    const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (hex === undefined) return true;
    const caps = BigInt(`0x${hex}`);
    return (caps & (1n << 12n)) !== 0n && (caps & (1n << 21n)) !== 0n;
  } catch {
    return true; // cannot tell: the error as it is
  }
}

/** EPERM or EACCES met without root: one error saying so (NSBOX_ERR_PERMISSION), else undefined. `how`: how to run it as root. */
export function withoutPrivileges(err: unknown, how = 'run it as root (sudo nsbox …)'): NsboxError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if ((code !== 'EPERM' && code !== 'EACCES') || privileged()) return undefined;
  return new NsboxError(`permission denied (${(err as Error).message}): nsbox needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) to manage sandboxes, networks and their state: ${how}`, 'NSBOX_ERR_PERMISSION', { cause: err });
}
