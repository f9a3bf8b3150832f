/**
 * Layer: managed.
 *
 * Will a namespace file nsbox bind-mounts now outlive this command? A sandbox's network
 * namespace lives as long as its file in the state root is a bind mount of it. That mount is
 * made in nsbox's mount namespace; when nsbox runs in a mount namespace of its own that nobody
 * else holds, the mount (and with it the namespace) dies with the command, silently. That is
 * what `ip netns exec H nsbox create web` does (iproute2 unshares the mount namespace and makes
 * `/` rslave before it execs the command), and `unshare -m nsbox …` too.
 *
 * The test, before anything is made: nsbox's mount namespace differs from its parent's (the
 * shell that started `ip netns exec` or `unshare`) AND the mount holding the namespace
 * directory does not propagate out (no `shared:` peer group in /proc/self/mountinfo: private,
 * or only a slave of the outer one). Both true: refused with NSBOX_ERR_MOUNT_NAMESPACE, saying
 * what to run instead. A mount namespace nsbox cannot inspect (no /proc) is not refused.
 * Making it work instead (a helper that setns'es into the parent's mount namespace to make the
 * bind) is not done: which namespace should own the files is the caller's choice, not nsbox's.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { NsboxError } from '../errors.js';

function mountNamespaceOf(pid: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/** /proc/self/mountinfo's escapes (\040 for a space, …) undone. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The optional fields (shared:N, master:N, …) of the mount `dir` is on, or undefined if none is found. */
export function propagationOf(dir: string, mountinfo: string): string[] | undefined {
  let best: { point: string; optional: string[] } | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const sep = fields.indexOf('-');
    if (sep < 6) continue;
    const point = unescape(fields[4] ?? '');
    const inside = point === '/' || dir === point || dir.startsWith(`${point}/`);
    // the later of two mounts on the same point is the one on top
    if (inside && (best === undefined || point.length >= best.point.length)) best = { point, optional: fields.slice(6, sep) };
  }
  return best?.optional;
}

/** Whether mounts made on `dir` now reach a mount namespace other than this one (a shared peer group). */
export function mountsPropagateOut(dir: string, mountinfo: string): boolean {
  return (propagationOf(dir, mountinfo) ?? []).some((f) => f.startsWith('shared:'));
}

/**
 * Refuse (NSBOX_ERR_MOUNT_NAMESPACE) to make a namespace file for `what` under `dir` when it
 * would vanish with this command: see the header.
 */
export function checkNamespaceFilesOutlive(dir: string, what: string): void {
  const own = mountNamespaceOf('self');
  const parent = mountNamespaceOf(String(process.ppid));
  if (own === undefined || parent === undefined || own === parent) return;
  let mountinfo: string;
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return;
  }
  if (mountsPropagateOut(dir, mountinfo)) return;
  throw new NsboxError(
    `nsbox runs in a mount namespace of its own (made by \`ip netns exec\` or \`unshare -m\`), where the namespace file of ${what} ` +
      `would vanish when this command exits: nothing was made. To run nsbox inside a network namespace H, keep the mount namespace: ` +
      '`nsenter --net=/run/netns/H nsbox …` (not `ip netns exec H nsbox …`)',
    'NSBOX_ERR_MOUNT_NAMESPACE',
  );
}
