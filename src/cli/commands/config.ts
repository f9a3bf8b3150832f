/**
 * Layer: cli.
 *
 * `nsbox route add|rm`, `gw set|unset`, `neigh add|rm`: routes, gateways and neighbours of
 * a sandbox, recorded so restore can rebuild them.
 */
import { isEthernetMac } from '../../netlink/wire/mac.js';
import { CliError, EXIT } from '../../errors.js';
import { parseCidr } from '../../netlink/route/ops/index.js';
import { decodeIp, encodeIp, ipVersion } from '../../netlink/wire/ip.js';
import type { SandboxRecord } from '../../store/index.js';
import type { Context } from '../context.js';
import { printJson } from '../output.js';
import { withAdopted } from './sandbox.js';

function usage(message: string): CliError {
  return new CliError(message, 'NSBOX_ERR_USAGE', EXIT.USAGE);
}

function checkIp(ip: string, what: string): 4 | 6 {
  const family = ipVersion(ip);
  if (family !== 4 && family !== 6) throw usage(`invalid ${what} ${JSON.stringify(ip)}: not an IPv4 or IPv6 address`);
  return family;
}

/** 'network/len' in canonical text; host bits set is an error that names the network meant. */
function canonicalCidr(text: string, what: string): string {
  let c;
  try {
    c = parseCidr(text, what);
  } catch (err) {
    throw usage((err as Error).message);
  }
  const bytes = encodeIp(c.address);
  const network = bytes.map((b, i) => b & (0xff << Math.max(0, Math.min(8, 8 * (i + 1) - c.prefixLen)) & 0xff));
  const cidr = `${decodeIp(network)}/${c.prefixLen}`;
  if (network.some((b, i) => b !== bytes[i])) throw usage(`invalid ${what} ${JSON.stringify(text)}: host bits are set (the network is ${cidr})`);
  return cidr;
}


export async function routeCommand(ctx: Context, action: 'add' | 'rm', name: string, f: { dst: string; via: string }): Promise<void> {
  const destination = canonicalCidr(f.dst, '--dst');
  const family = checkIp(f.via, '--via address');
  if ((destination.includes(':') ? 6 : 4) !== family) throw usage(`--via ${f.via} is not in the address family of --dst ${f.dst}`);
  await withAdopted(ctx, name, async ({ sandbox }, rec) => {
    const route = { destination, nextHop: f.via };
    if (action === 'add') {
      if (rec.config.routes.some((r) => r.destination === destination && r.nextHop === f.via)) {
        throw new CliError(`sandbox ${name} already has a route to ${destination} via ${f.via}`, 'NSBOX_ERR_EXISTS', EXIT.CONFLICT);
      }
      await sandbox.addStaticRoute(route);
      ctx.records.update(name, (c) => { c.routes.push(route); });
    } else {
      const recorded = rec.config.routes.find((r) => r.destination === destination && r.nextHop === f.via);
      if (recorded === undefined) throw new CliError(`sandbox ${name} has no route to ${destination} via ${f.via}`, 'NSBOX_ERR_NOT_FOUND', EXIT.NOT_FOUND);
      const live = sandbox.staticRoutes().length > 0 ? recorded : route;
      await sandbox.removeStaticRoute(live);
      ctx.records.update(name, (c) => { c.routes = c.routes.filter((r) => !(r.destination === destination && r.nextHop === f.via)); });
    }
    if (ctx.json) printJson({ sandbox: name, action, route });
  });
}

export async function gwCommand(ctx: Context, action: 'set' | 'unset', name: string, ip: string | undefined): Promise<void> {
  if (action === 'set' && ip === undefined) throw usage('nsbox gw set NAME IP: the gateway address is missing');
  const family = ip === undefined ? undefined : checkIp(ip, 'gateway');
  await withAdopted(ctx, name, async ({ sandbox }) => {
    if (action === 'set') {
      if (family === 4) {
        await sandbox.unsetGateway();
        await sandbox.setGateway(ip);
      } else {
        await sandbox.unsetGatewayIPv6();
        await sandbox.setGatewayIPv6(ip);
      }
    } else {
      if (family !== 6) await sandbox.unsetGateway();
      if (family !== 4) await sandbox.unsetGatewayIPv6();
    }
    const rec = ctx.records.update(name, (c) => {
      if (family === 4 || (family === undefined && action === 'unset')) c.gateway = action === 'set' ? ip : undefined;
      if (family === 6 || (family === undefined && action === 'unset')) c.gatewayIPv6 = action === 'set' ? ip : undefined;
    });
    if (ctx.json) printJson({ sandbox: name, gateway: rec?.config.gateway ?? null, gatewayIPv6: rec?.config.gatewayIPv6 ?? null });
  });
}

/** The srcName of the interface `dev` names (its name inside or its source name). */
function interfaceOf(rec: SandboxRecord, dev: string | undefined): string {
  const ready = rec.config.interfaces.filter((i) => i.state === 'ready');
  if (dev === undefined) {
    if (ready.length === 1) return ready[0]!.srcName;
    throw usage(`sandbox ${rec.name} has ${ready.length} interfaces: say which with --dev`);
  }
  const row = ready.find((i) => i.dstName === dev) ?? ready.find((i) => i.srcName === dev);
  if (row === undefined) throw new CliError(`sandbox ${rec.name} has no interface ${dev}`, 'NSBOX_ERR_NOT_FOUND', EXIT.NOT_FOUND);
  return row.srcName;
}

export async function neighCommand(ctx: Context, action: 'add' | 'rm', name: string, ip: string, mac: string, f: { dev?: string }): Promise<void> {
  checkIp(ip, 'neighbour address');
  if (!isEthernetMac(mac)) throw usage(`invalid MAC address ${JSON.stringify(mac)}: expected aa:bb:cc:dd:ee:ff`);
  const lladdr = mac.toLowerCase();
  await withAdopted(ctx, name, async ({ sandbox }, rec) => {
    const linkName = interfaceOf(rec, f.dev);
    if (action === 'add') {
      await sandbox.addNeighbor(ip, lladdr, { linkName });
      ctx.records.update(name, (c) => { c.neighbors.push({ ip, mac: lladdr, linkName }); });
    } else {
      await sandbox.deleteNeighbor(ip, lladdr, { linkName });
      ctx.records.update(name, (c) => { c.neighbors = c.neighbors.filter((n) => !(n.ip === ip && n.mac === lladdr && n.linkName === linkName)); });
    }
    if (ctx.json) printJson({ sandbox: name, action, neighbor: { ip, mac: lladdr, dev: linkName } });
  });
}
