/**
 * Layer: cni-conformance (process edge).
 *
 * ADD, CHECK and DEL against the kernel. Per spec version the plugin speaks: the result's
 * shape in that version, CHECK and DEL, nothing left. For the config's version: the result
 * is true of the kernel (each interface where it says, with its MAC; each address on its
 * interface; each route in the container), pings to the gateway and between two
 * attachments, a second ADD of an existing interface fails and leaves the first intact,
 * CHECK passes, fails without prevResult and after an address was removed, DEL leaves
 * nothing, succeeds twice, after the namespace was deleted, without CNI_NETNS and for an
 * unknown container, and the address is allocatable again afterwards.
 */
import { KNOWN_VERSIONS, atLeast, type Json } from '../config.js';
import { describe, detail, fail, resultInterfaces, skip, type Attachment, type Context } from '../context.js';
import { addrAssignType, delAddress, linksIn, ping, routesIn } from '../kernel.js';
import { checkResultShape, shapeOf } from '../schema.js';

const G_ADD = 'add';
const G_KERNEL = 'kernel';
const G_CHECK = 'check';
const G_DEL = 'del';

/** CNI_ARGS asking for one address (host-local and nsbox read IP; IgnoreUnknown for Go plugins' own args). */
export const askFor = (address: string): string => `IgnoreUnknown=1;IP=${address.split('/')[0]}`;

/** Problems between a result and the kernel. */
export function kernelProblems(a: Attachment, opts: { bridgeMacs: boolean } = { bridgeMacs: true }): string[] {
  const problems: string[] = [];
  const result = a.result!;
  const ifs = resultInterfaces(result);
  const inside = linksIn(a.ns);
  const host = linksIn();
  const container = ifs.findIndex((i) => i.name === a.ifname && i.sandbox !== undefined);
  if (container < 0) problems.push(`the result has no interface ${a.ifname} with a sandbox`);
  ifs.forEach((i, n) => {
    const where = i.sandbox === undefined ? host : inside;
    if (i.sandbox !== undefined && i.sandbox !== a.netns) problems.push(`interfaces[${n}].sandbox is ${i.sandbox}, CNI_NETNS was ${a.netns}`);
    const link = where.find((l) => l.ifname === i.name);
    if (link === undefined) problems.push(`interfaces[${n}] ${String(i.name)} is not in ${i.sandbox === undefined ? 'the host' : 'the container'}`);
    else if (i.mac !== undefined && link.mac !== i.mac.toLowerCase() && (opts.bridgeMacs || link.kind !== 'bridge')) problems.push(`interfaces[${n}] ${String(i.name)} has MAC ${link.mac}, the result says ${i.mac}`);
  });
  const ips = Array.isArray(result.ips) ? result.ips as { address: string; interface?: number }[] : [];
  for (const ip of ips) {
    const name = ip.interface === undefined ? a.ifname : ifs[ip.interface]?.name;
    const inContainer = ip.interface === undefined || ifs[ip.interface]?.sandbox !== undefined;
    const link = (inContainer ? inside : host).find((l) => l.ifname === name);
    if (link === undefined) problems.push(`${ip.address}: its interface ${String(name)} is missing`);
    else if (!link.addresses.includes(ip.address)) problems.push(`${ip.address} is not on ${String(name)} (it has ${link.addresses.join(', ') || 'none'})`);
  }
  if (container >= 0 && inside.find((l) => l.ifname === a.ifname)?.up === false) problems.push(`${a.ifname} is down`);
  const routes = routesIn(a.ns);
  for (const r of Array.isArray(result.routes) ? result.routes as { dst: string; gw?: string }[] : []) {
    const dst = r.dst === '0.0.0.0/0' || r.dst === '::/0' ? 'default' : r.dst;
    const v6 = r.dst.includes(':');
    const found = routes.some((k) => (k.dst === dst || k.dst === r.dst) && (k.table ?? 'main') === 'main' && (r.gw === undefined || k.gateway === r.gw) && (k.gateway ?? k.dst).includes(':') === v6);
    if (!found) problems.push(`route ${r.dst}${r.gw === undefined ? '' : ` via ${r.gw}`} is not in the container`);
  }
  return problems;
}

/** Whether a leftover line names the attachment: one of its host links (not a bridge) or its address. */
function namesAttachment(line: string, a: Attachment): boolean {
  const bridges = new Set(linksIn().filter((l) => l.kind === 'bridge').map((l) => l.ifname));
  const names = resultInterfaces(a.result).filter((i) => i.sandbox === undefined && i.name !== undefined && !bridges.has(i.name)).map((i) => i.name!);
  if (a.address !== undefined) names.push(a.address.split('/')[0]!);
  return names.some((n) => new RegExp(`(^|[^0-9a-zA-Z.])${n.replaceAll('.', '\\.')}([^0-9a-zA-Z]|$)`).test(line.replace(/^host \S+ [+-]/, ' ')));
}

function mustDel(ctx: Context, a: Attachment, what: string): void {
  const d = ctx.del(a);
  if (d.status !== 0) fail(`${what}: DEL ${detail(d)}`);
}

/** ADD + result shape + CHECK + DEL + leftovers, in version `v`. */
function versionCycle(ctx: Context, v: string): void {
  ctx.case({ id: `ADD-RESULT-${v}`, group: G_ADD, rebaseline: true, title: `ADD with cniVersion ${v}: the result in ${v}'s shape, CHECK passes (from 0.4.0), DEL leaves nothing` }, () => {
    const a = ctx.attach({ cniVersion: v });
    try {
      if (a.add.status !== 0) fail(`ADD ${detail(a.add)}`, describe(a.add));
      const problems = checkResultShape(a.result, v);
      if (problems.length > 0) fail(problems.join('; '), shapeOf(a.result));
      if (atLeast(v, '0.4.0')) {
        const c = ctx.call({ command: 'CHECK', containerId: a.containerId, netns: a.netns, ifname: a.ifname, stdin: ctx.stdin({ cniVersion: v, prevResult: a.result }) });
        if (c.status !== 0) fail(`CHECK ${detail(c)}`, shapeOf(a.result));
      }
      const d = ctx.del(a, { cniVersion: v });
      if (d.status !== 0) fail(`DEL ${detail(d)}`, shapeOf(a.result));
      const left = ctx.leftovers(a);
      if (left.length > 0) fail(`left after DEL: ${left.join(', ')}`, shapeOf(a.result));
      return { observed: shapeOf(a.result) };
    } finally {
      ctx.del(a, { cniVersion: v });
      ctx.dropNetns(a);
    }
  });
}

export function lifecycleCases(ctx: Context): void {
  for (const v of KNOWN_VERSIONS.filter((x) => ctx.supports(x))) versionCycle(ctx, v);
  const v = ctx.version;
  const hasCheck = atLeast(v, '0.4.0');
  const a = ctx.attach();
  const added = a.add.status === 0 && a.result !== undefined;
  const needA = (): void => {
    if (!added) fail(`ADD ${detail(a.add)}`);
    if (!atLeast(v, '0.3.0')) skip(`a ${v} result names no interfaces`);
  };
  ctx.case({ id: 'K-RESULT-KERNEL', group: G_KERNEL, title: 'the result is true of the kernel: interfaces where it says with their MACs, addresses on them, routes in the container' }, () => {
    needA();
    const problems = kernelProblems(a);
    if (problems.length > 0) fail(problems.join('; '));
  });
  const b = ctx.attach();
  ctx.case({ id: 'K-BRIDGE-MAC-FIXED', group: G_KERNEL, level: 'SHOULD', title: "a bridge in the result has a MAC set, not one following its ports, so the result's MAC stays true as ports come and go (the reference sets it; its CHECK compares it)" }, () => {
    needA();
    const host = linksIn();
    const bridges = resultInterfaces(a.result).filter((i) => i.sandbox === undefined && host.find((l) => l.ifname === i.name)?.kind === 'bridge');
    if (bridges.length === 0) skip('the result names no bridge');
    const loose = bridges.map((i) => ({ name: i.name!, type: addrAssignType(i.name!) })).filter((x) => x.type !== 3);
    if (loose.length > 0) fail(loose.map((x) => `${x.name}: addr_assign_type ${x.type} (not 3, set): the kernel gives it the lowest port MAC${kernelProblems(a).some((p) => p.includes(x.name)) ? ', and it has already changed since ADD' : ''}`).join('; '));
  });
  ctx.case({ id: 'K-PING-GATEWAY', group: G_KERNEL, title: "the container pings the result's gateway" }, () => {
    if (!added) fail(`ADD ${detail(a.add)}`);
    if (a.gateway === undefined) skip('the result has no gateway');
    if (!ping(a.ns, a.gateway!)) fail(`no answer from ${a.gateway}`);
  });
  ctx.case({ id: 'K-PING-PEER', group: G_KERNEL, title: 'two attachments ping each other' }, () => {
    if (!added || b.add.status !== 0 || b.address === undefined) fail(`ADD ${detail(added ? b.add : a.add)}`);
    if (!ping(a.ns, b.address!.split('/')[0]!)) fail(`${a.ns} gets no answer from ${b.address}`);
  });
  ctx.case({ id: 'ADD-EXISTING-IFNAME', group: G_ADD, title: 'ADD of an interface that exists in the container fails (SPEC §4 ADD MUST) and leaves the first intact' }, () => {
    needA();
    const again = ctx.call({ command: 'ADD', containerId: a.containerId, netns: a.netns, ifname: a.ifname, stdin: ctx.stdin() });
    if (again.status === 0) fail('the second ADD succeeded', 'exit 0');
    const problems = kernelProblems(a, { bridgeMacs: false });
    if (problems.length > 0) fail(`after the failed ADD (${describe(again)}): ${problems.join('; ')}`, describe(again));
    if (a.gateway !== undefined && !ping(a.ns, a.gateway)) fail(`after the failed ADD the first no longer pings ${a.gateway}`, describe(again));
    return { observed: describe(again), reason: detail(again) };
  });
  ctx.case({ id: 'CHECK-OK', group: G_CHECK, title: 'CHECK after ADD succeeds with empty stdout' }, () => {
    if (!hasCheck) skip(`CHECK is from 0.4.0; the config is ${v}`);
    needA();
    const c = ctx.call({ command: 'CHECK', containerId: a.containerId, netns: a.netns, ifname: a.ifname, stdin: ctx.stdin({ prevResult: a.result }) });
    if (c.status !== 0 || c.stdout.trim() !== '') fail(detail(c));
  });
  ctx.case({ id: 'CHECK-NO-PREVRESULT', group: G_CHECK, level: 'SHOULD', title: 'CHECK without prevResult fails (the runtime must supply it, §4 CHECK)' }, () => {
    if (!hasCheck) skip(`CHECK is from 0.4.0; the config is ${v}`);
    needA();
    const c = ctx.call({ command: 'CHECK', containerId: a.containerId, netns: a.netns, ifname: a.ifname, stdin: ctx.stdin() });
    if (c.status === 0) fail('CHECK succeeded', 'exit 0');
    return { observed: describe(c), reason: detail(c) };
  });
  ctx.case({ id: 'CHECK-TAMPERED', group: G_CHECK, level: 'SHOULD', title: "CHECK fails once the container's address was removed" }, () => {
    if (!hasCheck) skip(`CHECK is from 0.4.0; the config is ${v}`);
    needA();
    if (b.add.status !== 0 || b.address === undefined) fail(`ADD ${detail(b.add)}`);
    delAddress(b.ns, b.ifname, b.address!);
    const c = ctx.call({ command: 'CHECK', containerId: b.containerId, netns: b.netns, ifname: b.ifname, stdin: ctx.stdin({ prevResult: b.result }) });
    if (c.status === 0) fail(`CHECK succeeded with ${b.address} gone`, 'exit 0');
    return { observed: describe(c), reason: detail(c) };
  });
  ctx.case({ id: 'DEL-CLEAN', group: G_DEL, title: 'DEL succeeds with empty stdout and leaves nothing in the container or on the host' }, () => {
    if (!added) fail(`ADD ${detail(a.add)}`);
    const d = ctx.del(a);
    if (d.status !== 0 || d.stdout.trim() !== '') fail(detail(d));
    // The other attachment is still there: only what names this one (its host links, its address) counts here.
    const left = ctx.leftovers(a).filter((l) => l.startsWith('netns ') || (/^host \S+ \+/.test(l) && namesAttachment(l, a)));
    if (left.length > 0) fail(`left: ${left.join(', ')}`);
  });
  ctx.case({ id: 'DEL-TAMPERED', group: G_DEL, rebaseline: true, title: 'DEL of an attachment whose container address was removed still removes everything (DEL is best-effort, §4 DEL)' }, () => {
    if (b.add.status !== 0) fail(`ADD ${detail(b.add)}`);
    const d = ctx.del(b);
    if (d.status !== 0) fail(detail(d));
    const left = ctx.leftovers(b);
    if (left.length > 0) fail(`left: ${left.join(', ')}`);
  });
  ctx.case({ id: 'DEL-TWICE', group: G_DEL, title: 'a second DEL of the same attachment succeeds (§4 DEL MUST)' }, () => {
    const d = ctx.del(a);
    if (d.status !== 0) fail(detail(d));
  });
  ctx.case({ id: 'DEL-ADDRESS-REUSABLE', group: G_DEL, title: 'after DEL the address can be allocated again (ADD asking for it gets it)' }, () => {
    if (a.address === undefined) fail(`ADD ${detail(a.add)}`);
    const c = ctx.attach({}, { args: askFor(a.address!) });
    try {
      if (c.add.status !== 0) fail(`ADD asking for ${a.address}: ${detail(c.add)}`);
      if (c.address !== a.address) fail(`ADD asking for ${a.address} got ${String(c.address)}`);
    } finally {
      mustDel(ctx, c, 'cleanup');
      ctx.dropNetns(c);
    }
  });
  // Whatever cases ran (--only), a and b are gone before the next group.
  for (const x of [a, b]) {
    ctx.del(x);
    ctx.dropNetns(x);
  }
  delAfterNetnsGone(ctx, 'DEL-NETNS-GONE', 'DEL with CNI_NETNS naming a deleted namespace succeeds and leaves nothing on the host; the address is reusable', (x) => x.netns);
  delAfterNetnsGone(ctx, 'DEL-NO-NETNS', 'DEL without CNI_NETNS (the namespace deleted) succeeds and leaves nothing on the host; the address is reusable', () => '');
  ctx.case({ id: 'DEL-UNKNOWN', group: G_DEL, title: 'DEL of a container the plugin never saw succeeds' }, () => {
    const d = ctx.call({ command: 'DEL', containerId: 'conf-never-added', netns: '', ifname: 'eth0', stdin: ctx.stdin() });
    if (d.status !== 0) fail(detail(d));
  });
}

function delAfterNetnsGone(ctx: Context, id: string, title: string, netnsOf: (a: Attachment) => string): void {
  ctx.case({ id, group: G_DEL, rebaseline: true, title }, () => {
    const a = ctx.attach();
    if (a.add.status !== 0 || a.address === undefined) {
      ctx.del(a);
      ctx.dropNetns(a);
      fail(`ADD ${detail(a.add)}`);
    }
    ctx.dropNetns(a);
    const d = ctx.del(a, {}, netnsOf(a));
    if (d.status !== 0) fail(detail(d));
    const left = ctx.leftovers(a, false);
    const again = ctx.attach({}, { args: askFor(a.address!) });
    const reuse = again.add.status === 0 && again.address === a.address ? '' : `ADD asking for ${a.address}: ${again.add.status === 0 ? `got ${String(again.address)}` : detail(again.add)}`;
    ctx.del(again);
    ctx.dropNetns(again);
    if (left.length > 0 || reuse !== '') fail([left.length > 0 ? `left: ${left.join(', ')}` : '', reuse].filter((x) => x !== '').join('; '));
  });
}

export type { Json };
