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
 * Crash safety (docs/labs.md "Apply, resume, gc"): `up` holds the lab's lock throughout, records
 * the lab (state `applying`, with the validated file) before it changes anything and marks it
 * `up` at the end. A killed `up` is resumed by the next one: it first lets the managed layer
 * undo its sandboxes' interrupted work (gcSandboxes: a create or an interface add cut short),
 * then finishes what is half made (a link with one end ready and the other undone, a route in
 * the kernel but not recorded or the other way round); or `nsbox gc` brings an `applying` lab
 * nobody holds down. Names files are written once, at the end of the kernel's part
 * (Manager.deferNames); an `up` that resumes an interrupted one rewrites all of the lab's.
 * What the lab has and the file no longer has is removed first (prune.ts), as `remove` steps.
 *
 * Processes, delay and jitter (and a seeded link's loss) are the lab's supervisor's
 * (supervisor/lifecycle.ts): started or reloaded last, and its processes waited for until ready.
 */
import { resolve } from 'node:path';
import { NsboxError } from '../errors.js';
import { Rtnl } from '../netlink/route/ops/index.js';
import { pausePoint, type Manager, type SandboxStatus } from '../managed/index.js';
import type { LabResource } from './compile.js';
import type { Lab } from './lab.js';
import type { Direction, LabSpec } from './model.js';
import { labNetworkOptions } from './network-options.js';
import { deleteHostLinks, endOptions, makeLinkVeth } from './link-veth.js';
import { LAB_LABEL, hostVethName } from './naming.js';
import { setLoss, setRate, type Outcome } from './impair.js';
import { processesUp } from './supervisor/lifecycle.js';
import { engineDrawsLoss } from './delay-wants.js';
import { labNetworks, labSandboxes } from './members.js';
import { observe, planPrune, prune, type Removal } from './prune.js';
import { specDigest, specFromStored, specToStored } from './spec-json.js';
import { neighbourNotes } from './neighbour-budget.js';

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
  /** Dry run: interface rows (`SANDBOX/IF`) and routes (`SANDBOX/DEST`) the prune would remove. */
  gone: Set<string>;
}

const differs = (what: string): NsboxError => new NsboxError(`${what}; bring the lab down first (nsbox lab down) to make it anew`, 'NSBOX_ERR_EXISTS');

/** The sandbox's status, or undefined when there is none (one record read, not the whole list: labs have hundreds). */
function sandboxRecord(ctx: Ctx, name: string): SandboxStatus | undefined {
  try {
    return ctx.manager.sandbox(name);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'NSBOX_ERR_NOT_FOUND') return undefined;
    throw err;
  }
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
    if (st.state === 'ready') return;
    // Only a dry run sees this: `up` has had the managed layer remove it first (gcSandboxes).
  }
  ctx.newNodes.add(r.node);
  const again = st === undefined ? '' : ` (again: it is ${st.state}, an interrupted command's)`;
  ctx.steps.push({ key: r.key, action: 'create', detail: `sandbox ${r.sandbox}${again}` });
  if (!ctx.dryRun) await ctx.manager.createSandbox(r.sandbox, { labels: { [LAB_LABEL]: ctx.lab } });
}

/** The sandbox's ready interface row of that name (one an interrupted command left 'adding' is undone first). */
function interfaceRow(ctx: Ctx, sandbox: string, ifname: string) {
  if (ctx.gone.has(`${sandbox}/${ifname}`)) return undefined;
  return sandboxRecord(ctx, sandbox)?.record.config.interfaces.find((i) => i.dstName === ifname && i.state === 'ready');
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

async function hostHas(name: string): Promise<boolean> {
  return Rtnl.with({}, async (rtnl) => (await rtnl.link.find({ name })) !== undefined);
}

async function link(ctx: Ctx, r: Extract<LabResource, { kind: 'link' }>): Promise<void> {
  const { a, b } = r.link;
  const haveA = !ctx.newNodes.has(a.node) && interfaceRow(ctx, r.sandboxes.a, a.iface) !== undefined;
  const haveB = !ctx.newNodes.has(b.node) && interfaceRow(ctx, r.sandboxes.b, b.iface) !== undefined;
  if (haveA && haveB) return;
  if (haveA || haveB) {
    // Half made by an interrupted `up`: one end moved, the other still in the host under its name.
    const [has, missing, end] = haveA ? [{ sandbox: r.sandboxes.a, end: a }, { sandbox: r.sandboxes.b, end: b }, 'b' as const] : [{ sandbox: r.sandboxes.b, end: b }, { sandbox: r.sandboxes.a, end: a }, 'a' as const];
    const hostEnd = hostVethName(ctx.lab, r.link.name, end);
    if (await hostHas(hostEnd)) {
      ctx.steps.push({ key: r.key, action: 'create', detail: `${missing.sandbox} ${missing.end.iface}: the other end of a half-made veth (${hostEnd}, an interrupted up)` });
      if (!ctx.dryRun) await ctx.manager.addInterface(missing.sandbox, hostEnd, endOptions(missing.end));
      return;
    }
    // The other end is gone (its node was made anew): the end that is left goes, the link is made again.
    ctx.steps.push({ key: r.key, action: 'remove', detail: `${has.sandbox} ${has.end.iface}: a half-made veth whose other end is gone` });
    if (!ctx.dryRun) {
      await ctx.manager.removeInterface(has.sandbox, has.end.iface);
      await deleteHostLinks([hostVethName(ctx.lab, r.link.name, 'a'), hostVethName(ctx.lab, r.link.name, 'b')]);
    }
  }
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

/** The destination as records and the file write it ('default' is 0.0.0.0/0 or ::/0). */
const destinationOf = (destination: string, gateway: string | null): string => (destination !== 'default' ? destination : gateway?.includes(':') ? '::/0' : '0.0.0.0/0');

async function route(ctx: Ctx, r: Extract<LabResource, { kind: 'route' }>): Promise<void> {
  const want = { destination: r.route.to, nextHop: r.route.via };
  const routes = ctx.newNodes.has(r.node) ? [] : (sandboxRecord(ctx, r.sandbox)?.record.config.routes ?? []).filter((x) => !ctx.gone.has(`${r.sandbox}/${x.destination}`));
  // What the kernel has to that destination (an interrupted `up` may have added it and not recorded it).
  const kernel = ctx.newNodes.has(r.node) ? [] : (await Rtnl.with({ netns: ctx.manager.keyOf(r.sandbox) }, (rtnl) => rtnl.route.list()))
    .map((x) => ({ destination: x.destination, gateway: x.gateway ?? null }))
    .filter((x) => destinationOf(x.destination, x.gateway) === want.destination);
  const inKernel = kernel.some((x) => x.gateway === want.nextHop);
  if (routes.some((x) => x.destination === want.destination && x.nextHop === want.nextHop)) {
    if (inKernel) return;
    // Recorded, but gone from the kernel (its interface was made anew): put back as recorded.
    ctx.steps.push({ key: r.key, action: 'change', detail: `${r.sandbox} ${want.destination} via ${want.nextHop} (recorded, missing in the kernel: put back)` });
    if (!ctx.dryRun) await Rtnl.with({ netns: ctx.manager.keyOf(r.sandbox) }, (rtnl) => rtnl.route.replace({ dst: want.destination, gateway: want.nextHop }));
    return;
  }
  const other = routes.find((x) => x.destination === want.destination);
  ctx.steps.push({ key: r.key, action: other ? 'change' : 'create', detail: `${r.sandbox} ${want.destination} via ${want.nextHop}${other ? ` (was via ${other.nextHop})` : ''}` });
  if (ctx.dryRun) return;
  if (other) await ctx.manager.removeRoute(r.sandbox, other);
  else if (kernel.length > 0) {
    // In the kernel, not recorded (an `up` killed between the two): taken out, then added and recorded.
    await Rtnl.with({ netns: ctx.manager.keyOf(r.sandbox) }, async (rtnl) => {
      for (const x of kernel) await rtnl.route.del({ dst: want.destination, ...(x.gateway === null ? {} : { gateway: x.gateway }) }).catch(() => undefined);
    });
  }
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
      // Both nodes made by this `up`: nothing can be on the link yet, nothing to read back or remove.
      const bare = !ctx.dryRun && ctx.newNodes.has(from.node) && ctx.newNodes.has(to.node);
      if (bare && want.rate === undefined && tableLoss === undefined) continue;
      const rate = fresh ? (want.rate === undefined ? 'unchanged' : 'set')
        : await setRate(ctx.manager.keyOf(sandbox(from.node)), from.iface, want.rate, ctx.dryRun);
      if (rate !== 'unchanged') ctx.steps.push({ key, action: OUTCOME_ACTION[rate], detail: `rate ${want.rate === undefined ? '(none)' : `${want.rate} bit/s`}: tbf on ${sandbox(from.node)} ${from.iface} (sender)` });
      const loss = fresh ? (tableLoss ? 'set' : 'unchanged')
        : await setLoss(ctx.manager.keyOf(sandbox(to.node)), to.iface, tableLoss, ctx.dryRun);
      if (loss !== 'unchanged') ctx.steps.push({ key, action: OUTCOME_ACTION[loss], detail: `loss ${tableLoss ?? 0}: fault table of ${sandbox(to.node)} on ${to.iface} (receiver)` });
    }
  }
}

/** The prune's removals as steps; on a dry run, what they take away is hidden from the rest of the plan. */
function pruneSteps(ctx: Ctx, removals: readonly Removal[]): void {
  for (const r of removals) {
    ctx.steps.push({ key: r.key, action: 'remove', detail: r.detail });
    if (r.kind === 'iface') ctx.gone.add(`${r.sandbox}/${r.ifname}`);
    if (r.kind === 'link') for (const e of r.ends) ctx.gone.add(`${e.sandbox}/${e.ifname}`);
    if (r.kind === 'route') ctx.gone.add(`${r.sandbox}/${r.route.destination}`);
  }
}

/** The spec the lab was last applied with, if its record holds a readable one. */
function previousSpec(manager: Manager, lab: string): LabSpec | undefined {
  const rec = manager.labs.get(lab);
  if (rec === undefined) return undefined;
  try {
    return specFromStored(rec.spec);
  } catch {
    return undefined;
  }
}

async function apply(lab: Lab, manager: Manager, dryRun: boolean): Promise<UpResult> {
  const ctx: Ctx = { lab: lab.name, spec: lab.spec, manager, dryRun, steps: [], newNodes: new Set(), gone: new Set() };
  if (dryRun) await applyKernel(lab, ctx);
  // The hosts files of a network's members are written once, when the kernel's part is done
  // (Manager.deferNames), not on every connect: N connects to one network would write N² files.
  else await manager.deferNames(() => applyKernel(lab, ctx));
  // The kernel's part is done: the lab is up. What the supervisor runs (processes, delay
  // engines, the schedule) comes after; a process that is not ready fails this `up`, not the lab
  // (`gc` must not take a lab down for it), and the next `up` starts it again.
  if (!dryRun) manager.labs.setState(lab.name, 'up');
  ctx.steps.push(...await processesUp(manager, lab, ctx.dryRun));
  for (const n of neighbourNotes(lab.spec)) ctx.steps.push({ key: `host:ipv${n.family}-neighbours`, action: 'note', detail: n.detail });
  return { lab: lab.name, steps: ctx.steps, changed: ctx.steps.some((s) => s.action !== 'note') };
}

/** Everything of `up` but the supervisor's part: prune, then the resources in order, then the impairments. */
async function applyKernel(lab: Lab, ctx: Ctx): Promise<void> {
  const { manager, dryRun } = ctx;
  const compiled = lab.compile();
  const previous = previousSpec(manager, lab.name);
  if (!dryRun) {
    // An `up` (or `down`) killed before it wrote the names files it deferred: this one writes all of the lab's.
    const interrupted = manager.labs.get(lab.name)?.state !== undefined && manager.labs.get(lab.name)?.state !== 'up';
    manager.labs.beginApply(lab.name, specToStored(lab.spec), specDigest(lab.spec), lab.file === undefined ? undefined : resolve(lab.file));
    await pausePoint('lab-up:recorded');
    // Interrupted work of the managed layer on this lab's sandboxes (a create, an interface add) undone first.
    const repaired = await manager.gcSandboxes(labSandboxes(manager, lab.name).map((s) => s.record.name));
    for (const a of repaired.removed) ctx.steps.push({ key: `${a.kind}:${a.name}`, action: 'remove', detail: `${a.reason} (undone)` });
    if (repaired.errors.length > 0) throw new NsboxError(`lab ${lab.name}: undoing interrupted work failed: ${repaired.errors.map((e) => `${e.name}: ${e.error}`).join('; ')}`, 'NSBOX_ERR_INTERNAL');
    if (interrupted) manager.refreshNames({ networks: labNetworks(manager, lab.name).map((n) => n.name), sandboxes: labSandboxes(manager, lab.name).map((s) => s.record.name) });
  }
  const observed = observe(lab.name, labSandboxes(manager, lab.name), labNetworks(manager, lab.name).map((n) => n.name));
  const removals = planPrune(lab.name, lab.spec, observed, previous);
  pruneSteps(ctx, removals);
  if (!dryRun) await prune(manager, removals);
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
    if (!dryRun) await pausePoint(`lab-up:${r.key}`);
  }
  await impairments(ctx);
  if (!dryRun) await pausePoint('lab-up:names'); // a crash test: all made, the deferred names files not yet written
}

/**
 * Bring `lab` up under its lock, recorded (or, with dryRun, say what that would do: nothing is
 * written, no lock is taken).
 */
export async function up(lab: Lab, manager: Manager, options: { dryRun?: boolean } = {}): Promise<UpResult> {
  if (options.dryRun === true) return apply(lab, manager, true);
  return manager.labLocked(lab.name, () => apply(lab, manager, false));
}

/** What `up` would do: its dry run (`nsbox lab plan`). */
export function plan(lab: Lab, manager: Manager): Promise<UpResult> {
  return up(lab, manager, { dryRun: true });
}
