/**
 * Layer: cni-conformance (process edge).
 *
 * The kill matrix: for each state-changing syscall S of the set and N = 1, 2, 3 …, ADD runs
 * under `strace -f` with SIGKILL injected at the Nth invocation of S (strace counts per
 * thread), until an ADD runs to its end without being killed; so every invocation of every
 * syscall in the set is a kill point once. After each kill, as a runtime would: DEL (must
 * succeed), then nothing may be left (the container namespace holds only lo, the host is as
 * at the baseline: links, addresses, routes, nft ruleset, state files and the state
 * command's output), and an ADD asking for the same address must get it (the IPAM did not
 * leak it), then DEL again. Every ADD asks for one fixed address (CNI_ARGS IP), so a leaked
 * lease shows at once. A point that leaked moves the baseline, so each leak is reported once.
 * `sample` runs only that many points, evenly spread over the matrix, whose size comes from
 * a traced ADD without injection.
 */
import { runTraced } from '../exec.js';
import { detail, type Context } from '../context.js';
import { addNetns, delNetns } from '../kernel.js';
import type { KillMatrix, KillPoint } from '../report.js';
import { askFor } from './lifecycle.js';

/**
 * The syscalls that change state somewhere: messages sent (sendto, sendmsg: netlink, and
 * anything else), file writes (write, pwrite64, writev, ftruncate, fsync, fdatasync), the file
 * system (mkdir(at), rename(at/at2), unlink(at), rmdir, mount, umount2) and namespaces
 * (unshare, setns). Not openat or execve by default: a Node plugin opens ~70 files while it
 * loads, which would spend the matrix on its start-up (`--kill-syscalls` can add them).
 */
export const KILL_SYSCALLS = ['sendto', 'sendmsg', 'write', 'pwrite64', 'writev', 'ftruncate', 'fsync', 'fdatasync', 'mkdir', 'mkdirat',
  'rename', 'renameat', 'renameat2', 'unlink', 'unlinkat', 'rmdir', 'mount', 'umount2', 'unshare', 'setns'];

export interface KillOptions {
  syscalls: string[];
  /** Run only this many points, evenly spaced (undefined: the whole matrix). */
  sample: number | undefined;
  /** At most this many points in all. */
  max: number;
  address: string;
  workdir: string;
}

export function killMatrix(ctx: Context, o: KillOptions): KillMatrix {
  const points: KillPoint[] = [];
  const log = `${o.workdir}/strace.log`;
  const args = askFor(o.address);
  let ns = '';
  let seq = 0;
  const fresh = (): { netns: string; containerId: string } => {
    seq += 1;
    ns = `kill${seq}`;
    return { netns: addNetns(ns), containerId: `conf-kill-${seq}` };
  };
  // The matrix's size: per syscall, the most calls one thread makes of it in a clean ADD.
  const probe = fresh();
  const clean = runTraced(ctx.o.exec, { command: 'ADD', ...probe, ifname: 'eth0', args, stdin: ctx.stdin() }, o.syscalls, undefined, log);
  ctx.call({ command: 'DEL', ...probe, ifname: 'eth0', stdin: ctx.stdin() });
  delNetns(ns);
  if (clean.status !== 0) {
    return { syscalls: o.syscalls, ran: 0, passed: 0, failed: 1, points: [{ syscall: 'none', n: 0, killed: false, at: 'none', ok: false, problems: [`the traced ADD without injection failed: ${detail(clean)}`] }] };
  }
  const planned = o.syscalls.flatMap((s) => Array.from({ length: clean.counts.get(s) ?? 0 }, (_, i) => ({ s, n: i + 1 })));
  const chosen = o.sample === undefined ? undefined : new Set(evenly(planned.length, o.sample).map((i) => `${planned[i - 1]!.s}:${planned[i - 1]!.n}`));
  let complete = o.sample === undefined;
  for (const s of o.syscalls) {
    const count = clean.counts.get(s) ?? 0;
    if (count === 0) continue;
    // Up to a few past the clean count: a run may make a call or two more than the probe did.
    for (let n = 1; n <= count + 3; n += 1) {
      if (chosen !== undefined && !chosen.has(`${s}:${n}`)) continue;
      if (points.length >= o.max) {
        complete = false;
        break;
      }
      const point = killAt(ctx, s, n, fresh(), args, o.address, log);
      if (point === undefined) break; // ran to its end: no more invocations of s
      points.push(point);
      ctx.o.log(`kill ${s} N=${n} at ${point.at}: ${point.ok ? 'ok' : point.problems.join('; ')}`);
      if (!point.ok && ctx.hostLeaks().length > 0) ctx.baseline = ctx.hostSnapshot();
    }
  }
  const killed = points.filter((p) => p.killed);
  return { syscalls: o.syscalls, ...(complete ? { total: killed.length } : {}), ran: killed.length, passed: killed.filter((p) => p.ok).length, failed: points.filter((p) => !p.ok).length, points };
}

/** One kill point; undefined when the ADD was not killed (and worked, and was undone). */
function killAt(ctx: Context, s: string, n: number, at: { netns: string; containerId: string }, args: string, address: string, log: string): KillPoint | undefined {
  const ns = at.netns.slice('/run/netns/'.length);
  const call = { ...at, ifname: 'eth0', args };
  const add = runTraced(ctx.o.exec, { command: 'ADD', ...call, stdin: ctx.stdin() }, [s], n, log);
  const problems: string[] = [];
  if (!add.killed) {
    if (add.status !== 0) problems.push(`ADD not killed but failed: ${detail(add)}`);
    const d = ctx.call({ command: 'DEL', ...call, stdin: ctx.stdin() });
    if (d.status !== 0) problems.push(`DEL: ${detail(d)}`);
    delNetns(ns);
    return problems.length === 0 ? undefined : { syscall: s, n, killed: false, at: 'none', ok: false, problems };
  }
  const d = ctx.call({ command: 'DEL', ...call, stdin: ctx.stdin() });
  if (d.status !== 0) problems.push(`DEL after the kill: ${detail(d)}`);
  const left = ctx.leftovers({ ns, netns: at.netns, containerId: at.containerId, ifname: 'eth0', add, result: undefined, address: undefined, gateway: undefined });
  if (left.length > 0) problems.push(`left: ${left.join(', ')}`);
  const again = ctx.call({ command: 'ADD', ...call, stdin: ctx.stdin() });
  const got = Array.isArray(again.json?.ips) ? (again.json.ips as { address?: string }[])[0]?.address : (again.json?.ip4 as { ip?: string } | undefined)?.ip;
  if (again.status !== 0) problems.push(`the next ADD: ${detail(again)}`);
  else if (got !== address) problems.push(`the next ADD asking for ${address} got ${String(got)}`);
  const d2 = ctx.call({ command: 'DEL', ...call, stdin: ctx.stdin() });
  if (d2.status !== 0) problems.push(`the next DEL: ${detail(d2)}`);
  delNetns(ns);
  if (problems.length === 0) {
    const after = ctx.hostLeaks();
    if (after.length > 0) problems.push(`left after the next ADD/DEL: ${after.join(', ')}`);
  }
  return { syscall: s, n, killed: true, at: add.syscall, ok: problems.length === 0, problems };
}

/** `k` distinct points spread evenly over 1..length. */
function evenly(length: number, k: number): number[] {
  if (k >= length) return Array.from({ length }, (_, i) => i + 1);
  return [...new Set(Array.from({ length: k }, (_, i) => 1 + Math.round((i * (length - 1)) / Math.max(1, k - 1))))];
}
