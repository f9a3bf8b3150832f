/**
 * Layer: lab.
 *
 * `up`: bring a lab's compiled resources (compile.ts) into the kernel through the managed layer,
 * in their order, observing first what exists and making only what is missing or changing in
 * place what differs: networks (LAB.NET), nodes (sandboxes LAB.NODE labelled nsbox.lab=LAB),
 * interfaces on networks (with the file's name and address), links (link-veth.ts), link-end
 * addresses, sysctls, routes, then every link's impairments (impair.ts). What cannot change in
 * place (a network's subnet, an interface's network or address, a sandbox not of this lab) is an
 * error naming it: bring the lab down first. A second `up` of the same file changes nothing
 * and says so. With `dryRun`, nothing is written and the steps say what would be done.
 *
 * Processes, delay and jitter (and a seeded link's loss) are the lab's supervisor's
 * (supervisor/lifecycle.ts): started or reloaded last, and its processes waited for until ready.
 */
import { NsboxError } from '../errors.js';
import { Rtnl } from '../netlink/route/ops/index.js';
import type { Manager } from '../managed/index.js';
import type { LabResource } from './compile.js';
import type { Lab } from './lab.js';
import type { Direction, LabSpec } from './model.js';
import { labNetworkOptions } from './network-options.js';
import { makeLinkVeth } from './link-veth.js';
import { LAB_LABEL } from './naming.js';
import { setLoss, setRate, type Outcome } from './impair.js';
import { processesUp } from './supervisor/lifecycle.js';
import { engineDrawsLoss } from './delay-wants.js';

export interface Step {
  /** The resource's key (compile.ts), or `impair:LINK/DIR` for an impairment set or removed. */
  key: string;
  action: 'create' | 'change' | 'remove' | 'note';
  detail: string;
}

export interface UpResult {
  lab: string;
  steps: Step[];
  /** Whether anything was (or, with dryRun, would be) created, changed or removed. */
  changed: boolean;
}

interface Ctx {
  lab: string;
  spec: LabSpec;
  manager: Manager;
  dryRun: boolean;
  steps: Step[];
  /** Sandboxes that do not exist yet (dry run: everything of theirs is to be made). */
  newNodes: Set<string>;
}

const differs = (what: string): NsboxError => new NsboxError(`${what}; bring the lab down first (nsbox lab down) to make it anew`, 'NSBOX_ERR_EXISTS');

function sandboxRecord(ctx: Ctx, name: string) {
  return ctx.manager.sandboxes().find((s) => s.record.name === name);
}

async function network(ctx: Ctx, r: Extract<LabResource, { kind: 'network' }>): Promise<void> {
  const { options, gateway, gateway6, hostAddress } = labNetworkOptions(ctx.spec, r.network);
  const name = r.network.nsboxName;
  const existing = ctx.manager.networks().find((n) => n.name === name);
  if (existing !== undefined) {
    const have = existing.config.subnets.map((s) => s.subnet).sort();
    const want = [...(options.subnets ?? [])].sort();
    if (want.length > 0 && want.join(',') !== have.join(',')) throw differs(`network ${name} exists with the subnets ${have.join(', ')}, the file says ${want.join(', ')}`);
    return;
  }
  const host = [gateway, gateway6].filter((g) => g !== undefined).join(', ');
  const detail = `${options.driver} network ${name} ${(options.subnets ?? []).join(' ') || '(a free /16)'}${host === '' ? '' : `, the host ${host}${hostAddress === 'picked' ? ' (internal)' : ''}`}`;
  ctx.steps.push({ key: r.key, action: 'create', detail });
  if (!ctx.dryRun) await ctx.manager.createNetwork(name, options);
}

async function node(ctx: Ctx, r: Extract<LabResource, { kind: 'node' }>): Promise<void> {
  const st = sandboxRecord(ctx, r.sandbox);
  if (st !== undefined) {
    if (st.record.labels[LAB_LABEL] !== ctx.lab) throw differs(`a sandbox named ${r.sandbox} exists but is not of lab ${ctx.lab}`);
    if (st.state !== 'ready') throw new NsboxError(`sandbox ${r.sandbox} is ${st.state}: run \`nsbox gc\` or bring the lab down`, 'NSBOX_ERR_EXISTS');
    return;
  }
  ctx.newNodes.add(r.node);
  ctx.steps.push({ key: r.key, action: 'create', detail: `sandbox ${r.sandbox}` });
  if (!ctx.dryRun) await ctx.manager.createSandbox(r.sandbox, { labels: { [LAB_LABEL]: ctx.lab } });
}

function interfaceRow(ctx: Ctx, sandbox: string, ifname: string) {
  return sandboxRecord(ctx, sandbox)?.record.config.interfaces.find((i) => i.dstName === ifname);
}


async function iface(ctx: Ctx, r: Extract<LabResource, { kind: 'iface' }>): Promise<void> {
  const address = r.iface.address;
  const text = address === undefined ? undefined : `${address.address}/${address.prefixLen}`;
  const row = ctx.newNodes.has(r.node) ? undefined : interfaceRow(ctx, r.sandbox, r.iface.name);
  if (row !== undefined) {
    if (row.network !== r.nsboxNetwork) throw differs(`${r.sandbox} has an interface ${r.iface.name} that is not on network ${r.nsboxNetwork}`);
    const have = address?.family === 6 ? row.options.ipv6 : row.options.ipv4;
    if (text !== undefined && have !== text) throw differs(`${r.sandbox}'s ${r.iface.name} has the address ${have ?? 'none'}, the file says ${text}`);
  } else {
    ctx.steps.push({ key: r.key, action: 'create', detail: `${r.sandbox} ${r.iface.name} on ${r.nsboxNetwork}${text === undefined ? '' : ` ${text}`}` });
    if (!ctx.dryRun) {
      await ctx.manager.connect(r.nsboxNetwork, r.sandbox, {
        ifname: r.iface.name,
        ...(address === undefined ? {} : address.family === 4 ? { ip: address.address } : { ip6: address.address }),
        ...(r.iface.mac === undefined ? {} : { mac: r.iface.mac }),
      });
    }
  }
  const mtu = r.iface.mtu;
  if (mtu === undefined || ctx.dryRun && row === undefined) return;
  await Rtnl.with({ netns: ctx.manager.keyOf(r.sandbox) }, async (rtnl) => {
    const link = await rtnl.link.get({ name: r.iface.name });
    if (link.mtu === mtu) return;
    ctx.steps.push({ key: r.key, action: 'change', detail: `${r.sandbox} ${r.iface.name} mtu ${link.mtu ?? '?'} -> ${mtu}` });
    if (!ctx.dryRun) await rtnl.link.set({ index: link.index }, { mtu });
  });
}

async function link(ctx: Ctx, r: Extract<LabResource, { kind: 'link' }>): Promise<void> {
  const { a, b } = r.link;
  const haveA = !ctx.newNodes.has(a.node) && interfaceRow(ctx, r.sandboxes.a, a.iface) !== undefined;
  const haveB = !ctx.newNodes.has(b.node) && interfaceRow(ctx, r.sandboxes.b, b.iface) !== undefined;
  if (haveA && haveB) return;
  if (haveA || haveB) throw differs(`link ${r.link.name} is half made (only ${haveA ? `${r.sandboxes.a} ${a.iface}` : `${r.sandboxes.b} ${b.iface}`} exists)`);
  ctx.steps.push({ key: r.key, action: 'create', detail: `veth ${r.sandboxes.a} ${a.iface} <-> ${r.sandboxes.b} ${b.iface}` });
  if (!ctx.dryRun) await makeLinkVeth(ctx.manager, ctx.lab, r.link, r.sandboxes);
}

async function address(ctx: Ctx, r: Extract<LabResource, { kind: 'address' }>): Promise<void> {
  if (ctx.newNodes.has(r.node) || ctx.dryRun && interfaceRow(ctx, r.sandbox, r.iface) === undefined) return; // made with its link
  await Rtnl.with({ netns: ctx.manager.keyOf(r.sandbox) }, async (rtnl) => {
    const link = await rtnl.link.get({ name: r.iface });
    const have = (await rtnl.addr.list()).some((x) => x.index === link.index && x.cidr === r.address);
    if (have) return;
    ctx.steps.push({ key: r.key, action: 'create', detail: `${r.sandbox} ${r.iface} ${r.address}` });
    if (!ctx.dryRun) await rtnl.addr.add({ index: link.index, address: r.address });
  });
}

async function sysctl(ctx: Ctx, r: Extract<LabResource, { kind: 'sysctl' }>): Promise<void> {
  if (ctx.newNodes.has(r.node) && ctx.dryRun) {
    ctx.steps.push({ key: r.key, action: 'change', detail: `${r.sandbox} ${r.name}=${r.value}` });
    return;
  }
  const [c] = await ctx.manager.setSysctls(r.sandbox, [{ key: r.name, value: r.value }], ctx.dryRun);
  if (c?.changed) ctx.steps.push({ key: r.key, action: 'change', detail: `${r.sandbox} ${r.name} ${c.before ?? '?'} -> ${r.value}` });
}

async function route(ctx: Ctx, r: Extract<LabResource, { kind: 'route' }>): Promise<void> {
  const want = { destination: r.route.to, nextHop: r.route.via };
  const routes = ctx.newNodes.has(r.node) ? [] : sandboxRecord(ctx, r.sandbox)?.record.config.routes ?? [];
  if (routes.some((x) => x.destination === want.destination && x.nextHop === want.nextHop)) return;
  const other = routes.find((x) => x.destination === want.destination);
  ctx.steps.push({ key: r.key, action: other ? 'change' : 'create', detail: `${r.sandbox} ${want.destination} via ${want.nextHop}${other ? ` (was via ${other.nextHop})` : ''}` });
  if (ctx.dryRun) return;
  if (other) await ctx.manager.removeRoute(r.sandbox, other);
  await ctx.manager.addRoute(r.sandbox, want);
}

const OUTCOME_ACTION: Record<Exclude<Outcome, 'unchanged'>, Step['action']> = { set: 'change', removed: 'remove' };

/** Every direction of every link: the file's rate and loss set, those it no longer gives removed. */
async function impairments(ctx: Ctx): Promise<void> {
  for (const l of ctx.spec.links) {
    for (const dir of ['a->b', 'b->a'] as Direction[]) {
      const want = l.impair[dir] ?? {};
      const [from, to] = dir === 'a->b' ? [l.a, l.b] : [l.b, l.a];
      const sandbox = (n: string): string => ctx.spec.nodes.find((x) => x.name === n)!.sandbox;
      const key = `impair:${l.name}/${dir}`;
      // Delay, jitter and a seeded link's loss are the supervisor's delay engines (delay-wants.ts).
      const tableLoss = engineDrawsLoss(ctx.spec, l) ? undefined : want.loss;
      const fresh = ctx.dryRun && (ctx.newNodes.has(from.node) || ctx.newNodes.has(to.node));
      const rate = fresh ? (want.rate === undefined ? 'unchanged' : 'set')
        : await setRate(ctx.manager.keyOf(sandbox(from.node)), from.iface, want.rate, ctx.dryRun);
      if (rate !== 'unchanged') ctx.steps.push({ key, action: OUTCOME_ACTION[rate], detail: `rate ${want.rate === undefined ? '(none)' : `${want.rate} bit/s`}: tbf on ${sandbox(from.node)} ${from.iface} (sender)` });
      const loss = fresh ? (tableLoss ? 'set' : 'unchanged')
        : await setLoss(ctx.manager.keyOf(sandbox(to.node)), to.iface, tableLoss, ctx.dryRun);
      if (loss !== 'unchanged') ctx.steps.push({ key, action: OUTCOME_ACTION[loss], detail: `loss ${tableLoss ?? 0}: fault table of ${sandbox(to.node)} on ${to.iface} (receiver)` });
    }
  }
}

/** Bring `lab` up (or, with dryRun, say what that would do). */
export async function up(lab: Lab, manager: Manager, options: { dryRun?: boolean } = {}): Promise<UpResult> {
  const compiled = lab.compile();
  const ctx: Ctx = { lab: lab.name, spec: lab.spec, manager, dryRun: options.dryRun === true, steps: [], newNodes: new Set() };
  for (const r of compiled.resources) {
    switch (r.kind) {
      case 'network': await network(ctx, r); break;
      case 'node': await node(ctx, r); break;
      case 'iface': await iface(ctx, r); break;
      case 'link': await link(ctx, r); break;
      case 'address': await address(ctx, r); break;
      case 'sysctl': await sysctl(ctx, r); break;
      case 'route': await route(ctx, r); break;
      case 'impair': break; // all links' directions at once, below (removals too)
      case 'process': break; // the supervisor's, below
      case 'fault': break; // definitions: `nsbox lab partition` applies partitions
    }
  }
  await impairments(ctx);
  ctx.steps.push(...await processesUp(manager, lab, ctx.dryRun));
  if (compiled.schedule.length > 0) ctx.steps.push({ key: 'schedule', action: 'note', detail: `${compiled.schedule.length} step(s) not run: this version has no schedule` });
  return { lab: lab.name, steps: ctx.steps, changed: ctx.steps.some((s) => s.action !== 'note') };
}
