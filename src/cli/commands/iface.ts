/**
 * Layer: cli.
 *
 * `nsbox iface add|rm`: move a host link into a sandbox (or make a bridge there) and back.
 */
import { CliError, EXIT } from '../../errors.js';
import { generateIfaceName, resolveOptions, type InterfaceOptions } from '../../sandbox/index.js';
import type { InterfaceRecord } from '../../store/index.js';
import { Rtnl, checkLinkName } from '../../netlink/route/ops/index.js';
import type { Context } from '../context.js';
import { printJson } from '../output.js';
import { pausePoint } from '../test-hooks.js';
import { withAdopted } from './sandbox.js';

export interface IfaceAddFlags {
  src: string;
  prefix?: string;
  name?: string;
  ip?: string;
  ip6?: string;
  mac?: string;
  master?: string;
  bridge?: boolean;
  route?: string[];
  sysctl?: string[];
}

function usage(message: string): CliError {
  return new CliError(message, 'NSBOX_ERR_USAGE', EXIT.USAGE);
}

/** How to rebuild the link after a reboot: a host veth's peer that stays in the host. */
async function describeHostLink(src: string): Promise<InterfaceRecord['link'] | null> {
  const host = Rtnl.open();
  try {
    const link = await host.link.find({ name: src });
    if (link === undefined) return null;
    const kind = link.info?.kind ?? 'device';
    if (kind !== 'veth' || !link.link || link.linkNetnsId !== undefined) return { kind, mtu: link.mtu };
    const peer = await host.link.find({ index: link.link });
    const master = peer?.master ? await host.link.find({ index: peer.master }) : undefined;
    return { kind, mtu: link.mtu, peer: peer?.name, peerMaster: master?.name };
  } finally {
    host.close();
  }
}

export async function ifaceAddCommand(ctx: Context, name: string, f: IfaceAddFlags): Promise<void> {
  if (f.name !== undefined && f.prefix !== undefined) throw usage('give --prefix or --name, not both');
  const prefix = f.prefix ?? 'eth';
  const options: InterfaceOptions = {
    dstName: f.name, ipv4: f.ip, ipv6: f.ip6, mac: f.mac, master: f.master, isBridge: f.bridge === true,
    routes: f.route, sysctls: f.sysctl,
  };
  const sysctls = f.sysctl;
  try {
    checkLinkName(f.src, '--src interface name');
    resolveOptions(f.src, prefix, options);
  } catch (err) {
    throw usage((err as Error).message);
  }
  await withAdopted(ctx, name, async ({ sandbox }, rec) => {
    const taken = rec.config.interfaces;
    if (taken.some((i) => i.srcName === f.src)) throw new CliError(`sandbox ${name} already has an interface from ${f.src}`, 'NSBOX_ERR_EXISTS', EXIT.CONFLICT);
    if (f.name !== undefined && taken.some((i) => i.dstName === f.name)) throw new CliError(`sandbox ${name} already has an interface named ${f.name}`, 'NSBOX_ERR_EXISTS', EXIT.CONFLICT);
    let link: InterfaceRecord['link'] | undefined;
    if (!f.bridge) {
      const described = await describeHostLink(f.src);
      if (described === null) throw new CliError(`no link named ${f.src} in the host (see \`ip link\`)`, 'NSBOX_ERR_NOT_FOUND', EXIT.NOT_FOUND);
      link = described;
    }
    const dstName = f.name ?? generateIfaceName(prefix, taken.map((i) => i.dstName));
    const row: InterfaceRecord = {
      srcName: f.src, dstPrefix: prefix, dstName, state: 'adding', link,
      options: {
        ipv4: f.ip, ipv6: f.ip6, mac: f.mac, master: f.master, isBridge: f.bridge || undefined, routes: f.route, sysctls,
      },
    };
    ctx.records.update(name, (c) => { c.interfaces.push(row); });
    await pausePoint('iface-add:recorded');
    let iface;
    try {
      iface = await sandbox.addInterface(f.src, prefix, { ...options, dstName });
      await pausePoint('iface-add:kernel');
    } catch (err) {
      ctx.records.update(name, (c) => { c.interfaces = c.interfaces.filter((i) => i.srcName !== f.src); });
      throw err;
    }
    const added = ctx.records.update(name, (c) => {
      const r = c.interfaces.find((i) => i.srcName === f.src);
      if (r) {
        r.state = 'ready';
        r.dstName = iface.dstName;
        if (iface.address === undefined) delete r.options.ipv4;
        if (iface.addressIPv6 === undefined) delete r.options.ipv6;
      }
    });
    const out = added?.config.interfaces.find((i) => i.srcName === f.src);
    if (ctx.json) printJson(out);
    else process.stdout.write(`${iface.dstName}\n`);
  });
}

export async function ifaceRmCommand(ctx: Context, name: string, ifname: string): Promise<void> {
  await withAdopted(ctx, name, async ({ sandbox }, rec) => {
    const row = rec.config.interfaces.find((i) => i.dstName === ifname) ?? rec.config.interfaces.find((i) => i.srcName === ifname);
    if (row === undefined) throw new CliError(`sandbox ${name} has no interface ${ifname}`, 'NSBOX_ERR_NOT_FOUND', EXIT.NOT_FOUND);
    const iface = sandbox.interfaces().find((i) => i.srcName === row.srcName);
    if (iface !== undefined) await iface.remove();
    ctx.records.update(name, (c) => { c.interfaces = c.interfaces.filter((i) => i.srcName !== row.srcName); });
    if (ctx.json) printJson({ sandbox: name, removed: row.dstName, returnedTo: row.options.isBridge ? null : row.srcName });
    else process.stdout.write(`${row.dstName}\n`);
  });
}
