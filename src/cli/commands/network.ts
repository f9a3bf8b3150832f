/**
 * Layer: cli.
 *
 * `nsbox network create|ls|inspect|rm`, `nsbox connect`, `nsbox disconnect`.
 */
import { CliError, ConfigError, EXIT, NsboxError } from '../../errors.js';
import { DEFAULT_NETWORK, type MacvlanMode, type NetworkInfo } from '../../network/index.js';
import { generateIfaceName } from '../../sandbox/index.js';
import type { InterfaceRecord } from '../../store/index.js';
import type { Context } from '../context.js';
import { printJson, printTable } from '../output.js';
import { pausePoint } from '../test-hooks.js';
import { withAdopted } from './sandbox.js';

export interface NetworkCreateFlags {
  driver?: string;
  subnet?: string[];
  gateway?: string;
  ipv6?: boolean;
  bridgeName?: string;
  parent?: string;
  mode?: string;
  mtu?: string;
  internal?: boolean;
}

/** Map library errors to CLI exit codes. */
export function asCliError(err: unknown): unknown {
  if (err instanceof CliError) return err;
  if (err instanceof ConfigError || err instanceof TypeError) return new CliError((err as Error).message, 'NSBOX_ERR_USAGE', EXIT.USAGE, { cause: err });
  if (err instanceof NsboxError) {
    const exit = err.code === 'NSBOX_ERR_NOT_FOUND' ? EXIT.NOT_FOUND
      : err.code === 'NSBOX_ERR_EXISTS' || err.code === 'NSBOX_ERR_IN_USE' ? EXIT.CONFLICT : undefined;
    if (exit !== undefined) return new CliError(err.message, err.code, exit, { cause: err });
  }
  return err;
}

function networkJson(n: NetworkInfo, ctx: Context): Record<string, unknown> {
  const leases = ctx.networks.records.leasesIn(n.name);
  return {
    name: n.name, driver: n.driver, subnets: n.config.subnets, mtu: n.config.mtu, internal: n.config.internal,
    bridge: n.config.bridge ?? null, parent: n.config.parent ?? null, macvlanMode: n.config.macvlanMode ?? null, createdAt: n.createdAt,
    leases: leases.map((l) => ({ address: l.address, sandbox: ownerName(ctx, l.owner), ifname: l.ifname })),
  };
}

/** The sandbox name behind a lease owner (its key), or the key itself. */
export function ownerName(ctx: Context, owner: string): string {
  const prefix = `${ctx.keyOf('x').slice(0, -1)}`;
  return owner.startsWith(prefix) ? owner.slice(prefix.length) : owner;
}

export async function networkCreateCommand(ctx: Context, name: string, f: NetworkCreateFlags): Promise<void> {
  const mtu = f.mtu === undefined ? undefined : Number(f.mtu);
  if (f.driver !== undefined && f.driver !== 'bridge' && f.driver !== 'macvlan') {
    throw new CliError(`unknown driver ${JSON.stringify(f.driver)}: bridge or macvlan`, 'NSBOX_ERR_USAGE', EXIT.USAGE);
  }
  let info: NetworkInfo;
  try {
    info = await ctx.networks.create(name, {
      driver: f.driver as 'bridge' | 'macvlan' | undefined, subnets: f.subnet, gateway: f.gateway, ipv6: f.ipv6, bridgeName: f.bridgeName,
      parent: f.parent, macvlanMode: f.mode as MacvlanMode | undefined, mtu, internal: f.internal,
    });
  } catch (err) {
    throw asCliError(err);
  }
  if (ctx.json) printJson(networkJson(info, ctx));
  else process.stdout.write(`${name}\n`);
}

export async function networkLsCommand(ctx: Context): Promise<void> {
  const list = ctx.networks.list();
  if (ctx.json) return printJson(list.map((n) => networkJson(n, ctx)));
  printTable(['NAME', 'DRIVER', 'SUBNETS', 'GATEWAY', 'DEVICE', 'SANDBOXES'], list.map((n) => [
    n.name, n.driver, n.config.subnets.map((s) => s.subnet).join(','), n.config.subnets.map((s) => s.gateway).join(','),
    n.config.bridge ?? n.config.parent ?? '-', String(new Set(ctx.networks.records.leasesIn(n.name).map((l) => l.owner)).size),
  ]));
}

export async function networkInspectCommand(ctx: Context, name: string): Promise<void> {
  const n = ctx.networks.get(name);
  if (n === undefined) throw new CliError(`no network named ${JSON.stringify(name)} (see \`nsbox network ls\`)`, 'NSBOX_ERR_NOT_FOUND', EXIT.NOT_FOUND);
  const out = networkJson(n, ctx);
  if (ctx.json) return printJson(out);
  const leases = out.leases as { address: string; sandbox: string; ifname: string }[];
  process.stdout.write([
    `Name:      ${n.name}`,
    `Driver:    ${n.driver}${n.config.internal ? ' (internal)' : ''}`,
    `Device:    ${n.config.bridge ?? `${n.config.parent ?? '-'} (${n.config.macvlanMode ?? 'bridge'})`}`,
    `MTU:       ${n.config.mtu}`,
    ...n.config.subnets.map((s) => `Subnet:    ${s.subnet} gateway ${s.gateway}`),
    'Leases:',
    ...leases.map((l) => `  ${l.address} ${l.sandbox} ${l.ifname}`),
  ].join('\n') + '\n');
}

export async function networkRmCommand(ctx: Context, names: string[]): Promise<void> {
  for (const name of names) {
    if (ctx.networks.get(name) === undefined) {
      if (!ctx.json) process.stdout.write(`${name}: already gone\n`);
      continue;
    }
    const users = [...new Set(ctx.networks.records.leasesIn(name).map((l) => ownerName(ctx, l.owner)))];
    if (users.length > 0) {
      throw new CliError(`network ${name} is in use by ${users.join(', ')}; disconnect them first (nsbox disconnect ${name} SANDBOX)`, 'NSBOX_ERR_IN_USE', EXIT.CONFLICT);
    }
    try {
      await ctx.networks.remove(name);
    } catch (err) {
      throw asCliError(err);
    }
    if (!ctx.json) process.stdout.write(`${name}\n`);
  }
  if (ctx.json) printJson(names.map((name) => ({ name, removed: true })));
}

/** Connect a recorded, adopted sandbox to a network: recorded first, undone by gc if killed. */
export async function connectAdopted(ctx: Context, adopted: Awaited<ReturnType<Context['adopt']>>, rec: { name: string; key: string; config: { interfaces: InterfaceRecord[] } }, network: string, f: { ip?: string; ip6?: string; advertiseAddrNMsgs?: number }): Promise<InterfaceRecord> {
  const net = ctx.networks.get(network);
  if (net === undefined) throw new CliError(`no network named ${JSON.stringify(network)} (see \`nsbox network ls\`)`, 'NSBOX_ERR_NOT_FOUND', EXIT.NOT_FOUND);
  if (rec.config.interfaces.some((i) => i.network === network)) {
    throw new CliError(`sandbox ${rec.name} is already connected to ${network}`, 'NSBOX_ERR_EXISTS', EXIT.CONFLICT);
  }
  const ifname = generateIfaceName('eth', rec.config.interfaces.map((i) => i.dstName));
  const row: InterfaceRecord = { srcName: ifname, dstPrefix: 'eth', dstName: ifname, state: 'adding', network, options: { createdInContainer: true } };
  ctx.records.update(rec.name, (c) => { c.interfaces.push(row); });
  let att;
  try {
    att = await ctx.networks.attach(adopted.sandbox, network, { ...f, ifname, owner: rec.key });
    await pausePoint('connect:kernel');
  } catch (err) {
    ctx.records.update(rec.name, (c) => { c.interfaces = c.interfaces.filter((i) => i.dstName !== ifname); });
    throw asCliError(err);
  }
  const prefix = (cidr: string | undefined): string => (cidr ? cidr.slice(cidr.indexOf('/')) : '');
  const done = ctx.records.update(rec.name, (c) => {
    const r = c.interfaces.find((i) => i.dstName === ifname);
    if (r === undefined) return;
    r.state = 'ready';
    r.options.mac = att.mac;
    if (att.ipv4) r.options.ipv4 = `${att.ipv4}${prefix(att.interface.address)}`;
    if (att.ipv6) r.options.ipv6 = `${att.ipv6}${prefix(att.interface.addressIPv6)}`;
    if (att.gateway) {
      c.gateway = adopted.sandbox.gateway;
      c.gatewayIPv6 = adopted.sandbox.gatewayIPv6;
    }
  });
  return done!.config.interfaces.find((i) => i.dstName === ifname)!;
}

export async function connectCommand(ctx: Context, network: string, name: string, f: { ip?: string; ip6?: string }): Promise<void> {
  if (network === DEFAULT_NETWORK) await ctx.networks.ensureDefault();
  const row = await withAdopted(ctx, name, (adopted, rec) => connectAdopted(ctx, adopted, rec, network, f));
  if (ctx.json) printJson({ sandbox: name, network, interface: row });
  else process.stdout.write(`${row.dstName} ${[row.options.ipv4, row.options.ipv6].filter(Boolean).join(' ')}\n`);
}

export async function disconnectCommand(ctx: Context, network: string, name: string): Promise<void> {
  await withAdopted(ctx, name, async ({ sandbox }, rec) => {
    const row = rec.config.interfaces.find((i) => i.network === network);
    if (row === undefined && ctx.networks.records.leasesOf(rec.key, network).length === 0) {
      if (!ctx.networks.get(network)) throw new CliError(`no network named ${JSON.stringify(network)}`, 'NSBOX_ERR_NOT_FOUND', EXIT.NOT_FOUND);
      if (!ctx.json) process.stdout.write(`${name} is not connected to ${network}\n`);
      return;
    }
    try {
      await ctx.networks.detach(sandbox, network, { owner: rec.key });
    } catch (err) {
      throw asCliError(err);
    }
    ctx.records.update(name, (c) => {
      c.interfaces = c.interfaces.filter((i) => i.network !== network);
      c.gateway = sandbox.gateway;
      c.gatewayIPv6 = sandbox.gatewayIPv6;
    });
    if (ctx.json) printJson({ sandbox: name, network, disconnected: true });
  });
}
