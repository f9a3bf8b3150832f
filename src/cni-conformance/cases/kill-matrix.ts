/**
 * Layer: cni-conformance (process edge).
 *
 * The kill matrix: ADD run under `strace -f` with SIGKILL injected at the Nth invocation of
 * any state-changing syscall (strace counts per thread and per syscall), for N = 1, 2, 3 …
 * until an ADD runs to its end without being killed. After each kill, as a runtime would:
 * DEL (must succeed), then nothing may be left (the container namespace holds only lo, the
 * host is as at the baseline: links, addresses, routes, nft ruleset, state files), and an
 * ADD asking for the same address must get it (the IPAM did not leak it), then DEL again.
 * Every ADD asks for one fixed address (CNI_ARGS IP), so a leaked lease shows at once.
 * `sample` runs only that many evenly spaced points of the matrix, whose length is taken
 * from a traced ADD without injection.
 */
import { runTraced } from '../exec.js';
import { detail, type Context } from '../context.js';
import { addNetns, delNetns } from '../kernel.js';
import type { KillMatrix, KillPoint } from '../report.js';
import { askFor } from './lifecycle.js';

/**
 * The syscalls that change state somewhere: netlink and other messages sent (sendto,
 * sendmsg), file writes (write, pwrite64, writev, ftruncate, fsync, fdatasync), the file
 * system (openat — creating files —, mkdir(at), rename(at/at2), unlink(at), rmdir, mount,
 * umount2), namespaces (unshare, setns), and execve (a delegated plugin or a helper started).
 */
export const KILL_SYSCALLS = ['sendto', 'sendmsg', 'write', 'pwrite64', 'writev', 'ftruncate', 'fsync', 'fdatasync', 'openat', 'mkdir', 'mkdirat',
  'rename', 'renameat', 'renameat2', 'unlink', 'unlinkat', 'rmdir', 'mount', 'umount2', 'unshare', 'setns', 'execve'];

export interface KillOptions {
  syscalls: string[];
  /** Run only this many points, evenly spaced (undefined: the whole matrix). */
  sample: number | undefined;
  /** Stop after this N even if ADD is still being killed. */
  max: number;
  address: string;
  workdir: string;
}

export function killMatrix(ctx: Context, o: KillOptions): KillMatrix {
  const points: KillPoint[] = [];
  const log = `${o.workdir}/strace.log`;
  const args = askFor(o.address);
  let ns = '';
  const fresh = (n: number): { netns: string; containerId: string } => {
    ns = `kill${n}`;
    return { netns: addNetns(ns), containerId: `conf-kill-${n}` };
  };
  // The matrix's length: the most calls one thread makes of one traced syscall in a clean ADD.
  const probe = fresh(0);
  const clean = runTraced(ctx.o.exec, { command: 'ADD', ...probe, ifname: 'eth0', args, stdin: ctx.stdin() }, o.syscalls, undefined, log);
  ctx.call({ command: 'DEL', ...probe, ifname: 'eth0', stdin: ctx.stdin() });
  delNetns(ns);
  if (clean.status !== 0) {
    return { syscalls: o.syscalls, ran: 0, passed: 0, failed: 1, points: [{ n: 0, killed: false, syscall: 'none', ok: false, problems: [`the traced ADD without injection failed: ${detail(clean)}`] }] };
  }
  const length = Math.min(clean.maxCount + 1, o.max);
  const ns_ = o.sample === undefined ? undefined : evenly(length, o.sample);
  let total: number | undefined;
  for (let n = 1; n <= o.max; n += 1) {
    if (ns_ !== undefined && !ns_.includes(n)) {
      if (n > length) break;
      continue;
    }
    const at = fresh(n);
    const call = { ...at, ifname: 'eth0', args };
    const add = runTraced(ctx.o.exec, { command: 'ADD', ...call, stdin: ctx.stdin() }, o.syscalls, n, log);
    const problems: string[] = [];
    if (!add.killed) {
      // Ran to its end: the last point, a plain ADD that must have worked.
      if (add.status !== 0) problems.push(`ADD not killed but failed: ${detail(add)}`);
      const d = ctx.call({ command: 'DEL', ...call, stdin: ctx.stdin() });
      if (d.status !== 0) problems.push(`DEL: ${detail(d)}`);
      delNetns(ns);
      if (problems.length > 0) points.push({ n, killed: false, syscall: 'none', ok: false, problems });
      total = n - 1;
      break;
    }
    const d = ctx.call({ command: 'DEL', ...call, stdin: ctx.stdin() });
    if (d.status !== 0) problems.push(`DEL after the kill: ${detail(d)}`);
    const left = ctx.leftovers({ ns, netns: at.netns, containerId: at.containerId, ifname: 'eth0', add, result: undefined, address: undefined, gateway: undefined });
    if (left.length > 0) problems.push(`left: ${left.join(', ')}`);
    const again = ctx.call({ command: 'ADD', ...call, stdin: ctx.stdin() });
    const got = Array.isArray(again.json?.ips) ? (again.json.ips as { address?: string }[])[0]?.address : (again.json?.ip4 as { ip?: string } | undefined)?.ip;
    if (again.status !== 0) problems.push(`the next ADD: ${detail(again)}`);
    else if (got !== o.address) problems.push(`the next ADD asking for ${o.address} got ${String(got)}`);
    const d2 = ctx.call({ command: 'DEL', ...call, stdin: ctx.stdin() });
    if (d2.status !== 0) problems.push(`the next DEL: ${detail(d2)}`);
    delNetns(ns);
    if (problems.length === 0) {
      const after = ctx.hostLeaks();
      if (after.length > 0) problems.push(`left after the next ADD/DEL: ${after.join(', ')}`);
    }
    points.push({ n, killed: true, syscall: add.syscall, ok: problems.length === 0, problems });
    ctx.o.log(`kill N=${n} (${add.syscall}): ${problems.length === 0 ? 'ok' : problems.join('; ')}`);
    if (problems.length > 0 && ctx.hostLeaks().length > 0) ctx.baseline = ctx.hostSnapshot();
  }
  const killed = points.filter((p) => p.killed);
  return { syscalls: o.syscalls, ...(ns_ === undefined && total !== undefined ? { total } : {}), ran: killed.length, passed: killed.filter((p) => p.ok).length, failed: points.filter((p) => !p.ok).length, points };
}

/** `k` distinct points spread evenly over 1..length. */
function evenly(length: number, k: number): number[] {
  if (k >= length) return Array.from({ length }, (_, i) => i + 1);
  return [...new Set(Array.from({ length: k }, (_, i) => 1 + Math.round((i * (length - 1)) / Math.max(1, k - 1))))];
}
