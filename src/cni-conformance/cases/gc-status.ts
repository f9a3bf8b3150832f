/**
 * Layer: cni-conformance (process edge).
 *
 * GC and STATUS (spec 1.1.0), run only when the plugin lists 1.1.0, with the config's
 * version raised to 1.1.0: GC with half the attachments valid releases the others (their
 * addresses can be allocated again) and keeps the valid ones (CHECK still passes), GC with
 * none valid releases everything and leaves the host as before, GC twice succeeds; STATUS
 * succeeds with empty stdout.
 */
import { describe, detail, fail, skip, type Attachment, type Context } from '../context.js';
import { askFor } from './lifecycle.js';

const G = 'gc-status';
const V = '1.1.0';

function gc(ctx: Context, valid: Attachment[]): ReturnType<Context['call']> {
  return ctx.call({ command: 'GC', containerId: '', netns: '', ifname: '', stdin: ctx.stdin({ cniVersion: V, valid: valid.map((a) => ({ containerID: a.containerId, ifname: a.ifname })) }) });
}

function reusable(ctx: Context, a: Attachment): string {
  const again = ctx.attach({ cniVersion: V }, { args: askFor(a.address!) });
  const problem = again.add.status === 0 && again.address === a.address ? '' : `${a.address} not allocatable again: ${again.add.status === 0 ? `got ${String(again.address)}` : detail(again.add)}`;
  ctx.del(again, { cniVersion: V });
  ctx.dropNetns(again);
  return problem;
}

export function gcStatusCases(ctx: Context): void {
  const has = ctx.supports(V);
  const ids = [['GC-KEEP-VALID', 'GC with one of two attachments valid (the other\'s namespace gone, its DEL lost): the other is released, the valid one still passes CHECK'],
    ['GC-NONE-VALID', 'GC with no valid attachment releases everything: the host is as before, the addresses reusable'],
    ['GC-TWICE', 'GC again succeeds with empty stdout'],
    ['STATUS-OK', 'STATUS succeeds with empty stdout']] as const;
  if (!has) {
    for (const [id, title] of ids) ctx.case({ id, group: G, title }, () => skip('the plugin does not list 1.1.0'));
    return;
  }
  if (!ids.some(([id]) => ctx.selected(id))) return;
  const a = ctx.attach({ cniVersion: V });
  const b = ctx.attach({ cniVersion: V });
  const ok = a.add.status === 0 && b.add.status === 0 && a.address !== undefined && b.address !== undefined;
  ctx.case({ id: ids[0][0], group: G, title: ids[0][1] }, () => {
    if (!ok) fail(`ADD ${detail(a.add.status === 0 ? b.add : a.add)}`);
    ctx.dropNetns(b);
    const g = gc(ctx, [a]);
    if (g.status !== 0 || g.stdout.trim() !== '') fail(`GC ${detail(g)}`, describe(g));
    const c = ctx.call({ command: 'CHECK', containerId: a.containerId, netns: a.netns, ifname: a.ifname, stdin: ctx.stdin({ cniVersion: V, prevResult: a.result }) });
    if (c.status !== 0) fail(`CHECK of the valid one after GC: ${detail(c)}`);
    const problem = reusable(ctx, b);
    if (problem !== '') fail(problem);
  });
  ctx.case({ id: ids[1][0], group: G, rebaseline: true, title: ids[1][1] }, () => {
    if (!ok) fail(`ADD ${detail(a.add.status === 0 ? b.add : a.add)}`);
    ctx.dropNetns(a);
    const g = gc(ctx, []);
    if (g.status !== 0 || g.stdout.trim() !== '') fail(`GC ${detail(g)}`);
    const left = ctx.hostLeaks();
    const problem = reusable(ctx, a);
    if (left.length > 0 || problem !== '') fail([left.length > 0 ? `left on the host: ${left.join(', ')}` : '', problem].filter((x) => x !== '').join('; '));
  });
  ctx.case({ id: ids[2][0], group: G, title: ids[2][1] }, () => {
    const g = gc(ctx, []);
    if (g.status !== 0 || g.stdout.trim() !== '') fail(`GC ${detail(g)}`);
  });
  ctx.case({ id: ids[3][0], group: G, title: ids[3][1] }, () => {
    const s = ctx.call({ command: 'STATUS', containerId: '', netns: '', ifname: '', stdin: ctx.stdin({ cniVersion: V }) });
    if (s.status !== 0 || s.stdout.trim() !== '') fail(detail(s));
  });
  for (const x of [a, b]) {
    ctx.del(x, { cniVersion: V });
    ctx.dropNetns(x);
  }
}
