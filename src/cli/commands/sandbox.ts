/**
 * Layer: cli.
 *
 * `nsbox create`, `ls`, `inspect`, `rm`: the life of a sandbox.
 */
import { NsboxError } from '../../errors.js';
import { checkName } from '../../network/index.js';
import { EXTERNAL_LABEL, checkDnsServers, type KernelView, type SandboxStatus } from '../../managed/index.js';
import { collect, type Register } from '../context.js';
import { Progress, printJson, printTable, writeOut } from '../output.js';

function parseLabels(list: readonly string[] = []): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new NsboxError(`invalid label ${JSON.stringify(item)}: expected KEY=VALUE`, 'NSBOX_ERR_USAGE');
    labels[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return labels;
}

/** A sandbox as --json shows it (docs/cli.md, "Sandbox object"). */
function sandboxJson({ record: rec, state }: SandboxStatus): Record<string, unknown> {
  return {
    name: rec.name, netns: rec.key, state, createdAt: rec.createdAt, labels: rec.labels, interfaces: rec.config.interfaces,
    routes: rec.config.routes, gateway: rec.config.gateway ?? null, gatewayIPv6: rec.config.gatewayIPv6 ?? null, neighbors: rec.config.neighbors,
    dns: rec.config.dns ?? [],
  };
}

function inspectText(status: SandboxStatus, kernel: KernelView | undefined): string {
  const { record: rec } = status;
  // Over a runtime's namespace (a CNI attachment): nsbox pins it, and the runtime names it.
  const outside = rec.labels[EXTERNAL_LABEL];
  const lines = [
    `Name:      ${rec.name}`,
    `State:     ${status.state}`,
    outside === undefined ? `Netns:     ${rec.key} (ip netns exec ${rec.name} …)` : `Netns:     ${outside} (a runtime's; pinned at ${rec.key})`,
    `Created:   ${rec.createdAt}`,
    `Labels:    ${Object.entries(rec.labels).map(([a, b]) => `${a}=${b}`).join(' ') || '-'}`,
    `Gateway:   ${[rec.config.gateway, rec.config.gatewayIPv6].filter(Boolean).join(' ') || '-'}`,
    `DNS:       ${rec.config.dns?.join(' ') || (outside === undefined ? '- (the host\'s)' : '- (the runtime\'s)')}`,
    'Interfaces:',
    ...rec.config.interfaces.map((i) => `  ${i.dstName} (from ${i.srcName})${i.options.ipv4 ? ` ${i.options.ipv4}` : ''}${i.options.ipv6 ? ` ${i.options.ipv6}` : ''}${i.options.mac ? ` ${i.options.mac}` : ''}`),
    'Routes:',
    ...rec.config.routes.map((r) => `  ${r.destination} via ${r.nextHop}`),
    'Neighbours:',
    ...rec.config.neighbors.map((n) => `  ${n.ip} lladdr ${n.mac}${n.linkName ? ` dev ${n.linkName}` : ''}`),
  ];
  if (kernel) {
    lines.push('Kernel:');
    for (const l of kernel.links) lines.push(`  link ${l.name}${l.kind ? ` (${l.kind})` : ''} ${l.up ? 'UP' : 'DOWN'}${l.address ? ` ${l.address}` : ''}`);
    for (const r of kernel.routes) lines.push(`  route ${r.destination}${r.gateway ? ` via ${r.gateway}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The error of a `create` of several names where some failed: the first failure's category. */
function createFailure(failed: readonly unknown[], total: number): NsboxError {
  const first = failed[0];
  const code = first instanceof NsboxError ? first.code : 'NSBOX_ERR_INTERNAL';
  return new NsboxError(`${failed.length} of ${total} sandboxes not created: ${failed.map((e) => (e as Error).message).join('; ')}`, code);
}

export const register: Register = (program, run) => {
  program.command('create').argument('<names...>', 'sandbox names (letters, digits, _ . -)')
    .description('create sandboxes: each a network namespace with lo up, visible to `ip netns`, with its own /etc/netns/NAME (resolv.conf, hosts)')
    .option('--label <key=value>', 'attach a label (repeatable)', collect)
    .option('--dns <ip>', 'DNS server for its resolv.conf instead of the host\'s (repeatable)', collect)
    .action((names: string[], o: { label?: string[]; dns?: string[] }) => run(async ({ manager, json }) => {
      // Every argument is checked before anything is made: a bad one creates nothing.
      const dns = checkDnsServers(o.dns, '--dns');
      const labels = parseLabels(o.label);
      for (const n of names) checkName('sandbox', n);
      const twice = names.find((n, i) => names.indexOf(n) !== i);
      if (twice !== undefined) throw new NsboxError(`sandbox ${twice} is named twice`, 'NSBOX_ERR_USAGE');
      // Each name is all or nothing; one that fails leaves nothing of itself and the others go on.
      const made: SandboxStatus[] = [];
      const failed: unknown[] = [];
      for (const name of names) {
        try {
          const rec = await manager.createSandbox(name, { labels, dns });
          if (json) made.push(manager.sandbox(rec.name));
          else writeOut(`${name}\n`);
        } catch (err) {
          if (names.length === 1) throw err;
          failed.push(err);
        }
      }
      if (json) printJson(names.length === 1 ? sandboxJson(made[0]!) : made.map(sandboxJson));
      if (failed.length > 0) throw createFailure(failed, names.length);
    }));

  program.command('ls').alias('list').description('list sandboxes')
    .action(() => run(async ({ manager, json }) => {
      const list = manager.sandboxes();
      if (json) return printJson(list.map(sandboxJson));
      printTable(['NAME', 'STATE', 'INTERFACES', 'ADDRESSES', 'CREATED'], list.map(({ record: r, state }) => [
        r.name,
        state,
        r.config.interfaces.map((f) => f.dstName).join(',') || '-',
        r.config.interfaces.flatMap((f) => [f.options.ipv4, f.options.ipv6].filter((a): a is string => !!a)).join(',') || '-',
        r.createdAt.replace('T', ' ').slice(0, 19),
      ]));
    }));

  program.command('inspect').argument('<name>').description('show a sandbox: its record and what the kernel holds')
    .action((name: string) => run(async ({ manager, json }) => {
      const status = manager.sandbox(name);
      const kernel = status.mounted ? await manager.kernelView(name) : undefined;
      if (json) return printJson(kernel ? { ...sandboxJson(status), kernel } : sandboxJson(status));
      writeOut(inspectText(status, kernel));
    }));

  program.command('rm').alias('remove').argument('[names...]').description('remove sandboxes (interfaces go back to the host)')
    .option('--all', 'remove every sandbox')
    .action((names: string[], o: { all?: boolean }) => run(async ({ manager, json }) => {
      if (o.all && names.length > 0) throw new NsboxError('give sandbox names or --all, not both', 'NSBOX_ERR_USAGE');
      if (!o.all && names.length === 0) throw new NsboxError('nothing to remove: give sandbox names or --all', 'NSBOX_ERR_USAGE');
      for (const n of names) checkName('sandbox', n);
      const targets = o.all ? manager.sandboxes().map((s) => s.record.name) : names;
      const progress = new Progress('removing');
      const results = await manager.removeSandboxes(targets, (name, done, total) => progress.step(name, done, total));
      progress.end();
      if (json) printJson(results);
      else for (const r of results) writeOut(r.removed ? `${r.name}\n` : `${r.name}: already gone\n`);
      const failed = results.filter((r) => r.errors.length > 0);
      if (failed.length > 0) throw new NsboxError(failed.map((r) => `${r.name}: ${r.errors.join('; ')}`).join(' | '), 'NSBOX_ERR_TEARDOWN');
    }));
};
