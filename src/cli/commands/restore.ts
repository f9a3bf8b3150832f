/**
 * Layer: cli.
 *
 * `nsbox restore [--recreate]`: after nsbox (or whatever drove it) died, re-adopt every live
 * sandbox from its record; with --recreate, rebuild the ones whose namespace is gone (after a
 * reboot) from their records: namespace, interfaces (a veth whose peer stayed in the host is
 * made again, born inside), addresses, routes, gateways, neighbours.
 */
import { CliError, EXIT } from '../../errors.js';
import { Sandbox, isNamespaceMounted, type InterfaceOptions } from '../../sandbox/index.js';
import type { InterfaceRecord, SandboxRecord } from '../../store/index.js';
import { Rtnl } from '../../netlink/route/ops/index.js';
import type { Context } from '../context.js';
import { Progress, printJson, printTable } from '../output.js';

export interface RestoreOutcome {
  name: string;
  status: 'adopted' | 'recreated' | 'gone' | 'interrupted' | 'failed' | 'in-use';
  detail: string;
}

function optionsOf(row: InterfaceRecord): InterfaceOptions {
  return { ...row.options, dstName: row.dstName };
}

/** Re-adopt a live sandbox: interfaces, routes and gateways re-registered, addresses re-advertised. */
async function adoptLive(rec: SandboxRecord): Promise<RestoreOutcome> {
  const sandbox = await Sandbox.create(rec.key, { isRestore: true });
  try {
    const rows = rec.config.interfaces.filter((i) => i.state === 'ready');
    const restored = await sandbox.restoreInterfaces(rows.map((r) => ({ srcName: r.srcName, dstPrefix: r.dstPrefix, dstName: r.dstName, options: r.options })));
    const missing: string[] = [];
    for (const iface of restored) {
      if ((await sandbox.netlink.link.find({ name: iface.dstName })) === undefined) missing.push(iface.dstName);
    }
    const detail = `${restored.length} interface(s)${missing.length ? `; missing in the kernel: ${missing.join(', ')}` : ''}`;
    return { name: rec.name, status: missing.length ? 'failed' : 'adopted', detail };
  } finally {
    sandbox.close();
  }
}

/** Rebuild a sandbox whose namespace is gone from its record. */
async function recreate(ctx: Context, rec: SandboxRecord): Promise<RestoreOutcome> {
  const sandbox = await Sandbox.create(rec.key);
  const host = Rtnl.open();
  const problems: string[] = [];
  try {
    ctx.linkForIproute(rec.name);
    for (const row of rec.config.interfaces.filter((i) => i.state === 'ready')) {
      try {
        if (row.network !== undefined) {
          // Give the sandbox the same addresses on the network again.
          ctx.networks.records.release(rec.key, row.network);
          const ip = row.options.ipv4?.split('/')[0];
          const ip6 = row.options.ipv6?.split('/')[0];
          await ctx.networks.attach(sandbox, row.network, { ip, ip6, ifname: row.dstName, owner: rec.key });
        } else if (row.options.isBridge || (await host.link.find({ name: row.srcName })) !== undefined) {
          await sandbox.addInterface(row.srcName, row.dstPrefix, optionsOf(row));
        } else if (row.link?.kind === 'veth' && row.link.peer !== undefined) {
          const master = row.link.peerMaster ? await host.link.find({ name: row.link.peerMaster }) : undefined;
          await host.link.add({
            name: row.link.peer, kind: 'veth', mtu: row.link.mtu, master: master?.index, up: true,
            peer: { name: row.srcName, netnsFd: sandbox.netnsFd, mtu: row.link.mtu },
          });
          await sandbox.addInterface(row.srcName, row.dstPrefix, { ...optionsOf(row), createdInContainer: true });
        } else {
          problems.push(`${row.dstName}: host link ${row.srcName} does not exist and cannot be made again`);
        }
      } catch (err) {
        problems.push(`${row.dstName}: ${(err as Error).message}`);
      }
    }
    const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        problems.push(`${what}: ${(err as Error).message}`);
      }
    };
    if (rec.config.gateway && sandbox.gateway === undefined) await step(`gateway ${rec.config.gateway}`, () => sandbox.setGateway(rec.config.gateway));
    if (rec.config.gatewayIPv6 && sandbox.gatewayIPv6 === undefined) await step(`gateway ${rec.config.gatewayIPv6}`, () => sandbox.setGatewayIPv6(rec.config.gatewayIPv6));
    for (const r of rec.config.routes) await step(`route ${r.destination}`, () => sandbox.addStaticRoute(r));
    for (const n of rec.config.neighbors) await step(`neighbour ${n.ip}`, () => sandbox.addNeighbor(n.ip, n.mac, { linkName: n.linkName }));
  } finally {
    host.close();
    sandbox.close();
  }
  const count = rec.config.interfaces.length;
  return problems.length
    ? { name: rec.name, status: 'failed', detail: `recreated with problems: ${problems.join('; ')}` }
    : { name: rec.name, status: 'recreated', detail: `${count} interface(s), ${rec.config.routes.length} route(s)` };
}

export async function restoreCommand(ctx: Context, opts: { recreate?: boolean }): Promise<void> {
  // Bridges first: after a reboot they are gone too, and sandboxes hang off them.
  const networkOutcomes: RestoreOutcome[] = [];
  for (const net of ctx.networks.list()) {
    try {
      if (await ctx.networks.ensureBridge(net)) networkOutcomes.push({ name: `network ${net.name}`, status: 'recreated', detail: `bridge ${net.config.bridge ?? ''}` });
    } catch (err) {
      networkOutcomes.push({ name: `network ${net.name}`, status: 'failed', detail: (err as Error).message });
    }
  }
  const records = ctx.records.list();
  const progress = new Progress('restoring', records.length);
  const outcomes: RestoreOutcome[] = [...networkOutcomes];
  for (const listed of records) {
    progress.step(listed.name);
    const outcome = await ctx.tryLocked(listed.name, async (): Promise<RestoreOutcome> => {
      const rec = ctx.records.get(listed.name);
      if (rec === undefined) return { name: listed.name, status: 'gone', detail: 'removed meanwhile' };
      if (rec.state !== 'ready') return { name: rec.name, status: 'interrupted', detail: `${rec.state} was interrupted; run \`nsbox gc\`` };
      try {
        if (isNamespaceMounted(rec.key)) return await adoptLive(rec);
        if (!opts.recreate) return { name: rec.name, status: 'gone', detail: 'network namespace gone; run `nsbox restore --recreate`' };
        return await recreate(ctx, rec);
      } catch (err) {
        return { name: rec.name, status: 'failed', detail: (err as Error).message };
      }
    });
    outcomes.push(outcome ?? { name: listed.name, status: 'in-use', detail: 'another nsbox process is working on it' });
  }
  progress.end();
  if (ctx.json) printJson(outcomes);
  else if (outcomes.length === 0) process.stdout.write('no sandboxes\n');
  else printTable(['NAME', 'STATUS', 'DETAIL'], outcomes.map((o) => [o.name, o.status, o.detail]));
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length > 0) throw new CliError(`${failed.length} sandbox(es) could not be restored`, 'NSBOX_ERR_RESTORE', EXIT.FAILURE);
}
