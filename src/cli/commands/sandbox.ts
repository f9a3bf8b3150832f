/**
 * Layer: cli.
 *
 * `nsbox create`, `ls`, `inspect`, `rm`: the life of a sandbox.
 */
import { CliError, EXIT, SandboxError } from '../../errors.js';
import { Sandbox, isNamespaceMounted, removeNamespaceFile } from '../../sandbox/index.js';
import { emptyConfig, type SandboxRecord } from '../../store/index.js';
import { Rtnl } from '../../netlink/route/ops/index.js';
import { hostVethName } from '../../network/index.js';
import { checkSandboxName, type Context } from '../context.js';
import { Progress, printJson, printTable } from '../output.js';
import { pausePoint } from '../test-hooks.js';

export function parseLabels(list: readonly string[] = []): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid label ${JSON.stringify(item)}: expected KEY=VALUE`, 'NSBOX_ERR_USAGE', EXIT.USAGE);
    labels[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return labels;
}

/** A record as --json shows it (docs/cli.md, "Sandbox object"). */
export function recordJson(rec: SandboxRecord, mounted: boolean): Record<string, unknown> {
  return {
    name: rec.name, netns: rec.key, state: rec.state === 'ready' && !mounted ? 'gone' : rec.state, createdAt: rec.createdAt,
    labels: rec.labels, interfaces: rec.config.interfaces, routes: rec.config.routes, gateway: rec.config.gateway ?? null,
    gatewayIPv6: rec.config.gatewayIPv6 ?? null, neighbors: rec.config.neighbors,
  };
}

/** The error for a recorded sandbox whose namespace is gone. */
export function goneError(name: string, cause?: unknown): CliError {
  return new CliError(`sandbox ${name} has no network namespace any more (after a reboot?); run \`nsbox restore --recreate\` or \`nsbox rm ${name}\``, 'NSBOX_ERR_GONE', EXIT.FAILURE, { cause });
}

/** Adopt, run, close; maps a vanished namespace to a clear error. */
export async function withAdopted<T>(ctx: Context, name: string, fn: (a: Awaited<ReturnType<Context['adopt']>>, rec: SandboxRecord) => Promise<T>): Promise<T> {
  return ctx.locked(name, async () => {
    const rec = ctx.record(name);
    if (rec.state !== 'ready') throw new CliError(`sandbox ${name} is ${rec.state} (an earlier command was interrupted?); run \`nsbox gc\``, 'NSBOX_ERR_BUSY', EXIT.CONFLICT);
    let adopted;
    try {
      adopted = await ctx.adopt(rec);
    } catch (err) {
      if (err instanceof SandboxError && /failed get network namespace/.test(err.message)) throw goneError(name, err);
      throw err;
    }
    try {
      return await fn(adopted, rec);
    } finally {
      adopted.sandbox.close();
    }
  });
}

export async function createCommand(ctx: Context, name: string, opts: { label?: string[] }): Promise<void> {
  await createSandbox(ctx, name, parseLabels(opts.label));
  const rec = ctx.record(name);
  if (ctx.json) printJson(recordJson(rec, true));
  else process.stdout.write(`${name}\n`);
}

/** Record, then create: a namespace with lo up and its /run/netns symlink; undone on failure. */
export async function createSandbox(ctx: Context, name: string, labels: Record<string, string>): Promise<void> {
  checkSandboxName(name);
  const key = ctx.keyOf(name);
  await ctx.locked(name, async () => {
    if (!ctx.records.insert({ name, key, labels, config: emptyConfig() })) {
      throw new CliError(`a sandbox named ${name} already exists`, 'NSBOX_ERR_EXISTS', EXIT.CONFLICT);
    }
    let sandbox: Sandbox | undefined;
    try {
      sandbox = await Sandbox.create(key);
      await pausePoint('create:netns');
      ctx.linkForIproute(name);
      ctx.records.setState(name, 'ready');
      sandbox.close();
    } catch (err) {
      await sandbox?.destroy().catch(() => undefined);
      ctx.records.delete(name);
      throw err;
    }
  });
}

export async function lsCommand(ctx: Context): Promise<void> {
  const records = ctx.records.list();
  const rows = records.map((r) => recordJson(r, isNamespaceMounted(r.key)));
  if (ctx.json) return printJson(rows);
  printTable(['NAME', 'STATE', 'INTERFACES', 'ADDRESSES', 'CREATED'], records.map((r, i) => [
    r.name,
    String(rows[i]!.state),
    r.config.interfaces.map((f) => f.dstName).join(',') || '-',
    r.config.interfaces.flatMap((f) => [f.options.ipv4, f.options.ipv6].filter((a): a is string => !!a)).join(',') || '-',
    r.createdAt.replace('T', ' ').slice(0, 19),
  ]));
}

export async function inspectCommand(ctx: Context, name: string): Promise<void> {
  const rec = ctx.record(name);
  const mounted = isNamespaceMounted(rec.key);
  const out: Record<string, unknown> = recordJson(rec, mounted);
  if (mounted) {
    const rtnl = Rtnl.open({ netns: rec.key });
    try {
      const [links, addrs, routes] = await Promise.all([rtnl.link.list(), rtnl.addr.list(), rtnl.route.list({ table: 'all' })]);
      out.kernel = {
        links: links.map((l) => ({ index: l.index, name: l.name, kind: l.info?.kind ?? null, mtu: l.mtu, address: l.address ?? null, up: (l.flags & 1) === 1 })),
        addresses: addrs.map((a) => ({ index: a.index, address: a.cidr })),
        routes: routes.filter((r) => r.table === 254).map((r) => ({ destination: r.destination, gateway: r.gateway ?? null, oif: r.oif ?? null })),
      };
    } finally {
      rtnl.close();
    }
  }
  if (ctx.json) return printJson(out);
  const k = out.kernel as { links: { name: string; kind: string | null; up: boolean; address: string | null }[]; addresses: { index: number; address: string }[]; routes: { destination: string; gateway: string | null }[] } | undefined;
  const lines = [
    `Name:      ${rec.name}`,
    `State:     ${String(out.state)}`,
    `Netns:     ${rec.key} (ip netns exec ${rec.name} …)`,
    `Created:   ${rec.createdAt}`,
    `Labels:    ${Object.entries(rec.labels).map(([a, b]) => `${a}=${b}`).join(' ') || '-'}`,
    `Gateway:   ${[rec.config.gateway, rec.config.gatewayIPv6].filter(Boolean).join(' ') || '-'}`,
    'Interfaces:',
    ...rec.config.interfaces.map((i) => `  ${i.dstName} (from ${i.srcName})${i.options.ipv4 ? ` ${i.options.ipv4}` : ''}${i.options.ipv6 ? ` ${i.options.ipv6}` : ''}${i.options.mac ? ` ${i.options.mac}` : ''}`),
    'Routes:',
    ...rec.config.routes.map((r) => `  ${r.destination} via ${r.nextHop}`),
    'Neighbours:',
    ...rec.config.neighbors.map((n) => `  ${n.ip} lladdr ${n.mac}${n.linkName ? ` dev ${n.linkName}` : ''}`),
  ];
  if (k) {
    lines.push('Kernel:');
    for (const l of k.links) lines.push(`  link ${l.name}${l.kind ? ` (${l.kind})` : ''} ${l.up ? 'UP' : 'DOWN'}${l.address ? ` ${l.address}` : ''}`);
    for (const r of k.routes) lines.push(`  route ${r.destination}${r.gateway ? ` via ${r.gateway}` : ''}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Remove one sandbox: interfaces back to the host, namespace, symlink, record. */
export async function removeSandbox(ctx: Context, name: string, opts: { locked?: boolean } = {}): Promise<{ name: string; removed: boolean; errors: string[] }> {
  const work = async (): Promise<{ name: string; removed: boolean; errors: string[] }> => {
    const rec = ctx.records.get(name);
    if (rec === undefined) return { name, removed: false, errors: [] };
    ctx.records.setState(name, 'removing');
    const errors: string[] = [];
    let destroyed = false;
    if (isNamespaceMounted(rec.key)) {
      let adopted;
      try {
        adopted = await ctx.adopt(rec);
      } catch (err) {
        errors.push((err as Error).message);
      }
      if (adopted) {
        // Links a network made die with the namespace; links from the host go back to it.
        const networkLinks = new Set(rec.config.interfaces.filter((i) => i.network !== undefined).map((i) => i.dstName));
        for (const iface of [...adopted.sandbox.interfaces()].reverse()) {
          if (networkLinks.has(iface.dstName)) continue;
          try {
            await iface.remove();
          } catch (err) {
            errors.push(`interface ${iface.dstName}: ${(err as Error).message}`);
          }
        }
        await adopted.sandbox.destroy().then(() => { destroyed = true; }, (err: Error) => errors.push(err.message));
      }
    }
    const hostEnds = rec.config.interfaces.filter((i) => i.network !== undefined && ctx.networks.get(i.network)?.driver === 'bridge')
      .map((i) => hostVethName(rec.key, i.network!));
    const stuck = await ctx.networks.waitForHostLinksGone(hostEnds);
    for (const name of stuck) errors.push(`host link ${name} is still there`);
    ctx.networks.records.release(rec.key);
    if (!destroyed) {
      // Not adopted (no namespace, or an interrupted create) or destroy failed: still clear the file.
      try {
        removeNamespaceFile(rec.key);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    ctx.unlinkForIproute(name);
    ctx.records.delete(name);
    return { name, removed: true, errors };
  };
  return opts.locked ? work() : ctx.locked(name, work);
}

export async function rmCommand(ctx: Context, names: string[], opts: { all?: boolean }): Promise<void> {
  if (opts.all && names.length > 0) throw new CliError('give sandbox names or --all, not both', 'NSBOX_ERR_USAGE', EXIT.USAGE);
  if (!opts.all && names.length === 0) throw new CliError('nothing to remove: give sandbox names or --all', 'NSBOX_ERR_USAGE', EXIT.USAGE);
  names.forEach(checkSandboxName);
  const targets = opts.all ? ctx.records.list().map((r) => r.name) : names;
  const progress = new Progress('removing', targets.length);
  const results = [];
  for (const name of targets) {
    progress.step(name);
    results.push(await removeSandbox(ctx, name));
  }
  progress.end();
  if (ctx.json) printJson(results);
  else for (const r of results) process.stdout.write(r.removed ? `${r.name}\n` : `${r.name}: already gone\n`);
  const failed = results.filter((r) => r.errors.length > 0);
  if (failed.length > 0) {
    throw new CliError(failed.map((r) => `${r.name}: ${r.errors.join('; ')}`).join(' | '), 'NSBOX_ERR_TEARDOWN', EXIT.FAILURE);
  }
}
