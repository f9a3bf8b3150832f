/**
 * Layer: cli.
 *
 * `nsbox network create|ls|inspect|rm`: bridge and macvlan networks with address management.
 */
import { Option } from 'commander';
import { DRIVER_NAMES, type MacvlanMode } from '../../network/index.js';
import type { NetworkView } from '../../managed/index.js';
import { collect, type Register } from '../context.js';
import { NsboxError } from '../../errors.js';
import { addEtcdOptions, overlayCreate, overlayRemove } from './overlay-network.js';
import type { EtcdFlags } from '../../overlay/settings.js';
import { printJson, printTable } from '../output.js';

interface NetworkCreateFlags extends EtcdFlags {
  driver?: 'bridge' | 'macvlan' | 'overlay';
  vni?: string;
  blockSize?: string;
  underlay?: string;
  subnet?: string[];
  gateway?: string;
  ipv6?: boolean;
  bridgeName?: string;
  parent?: string;
  mode?: string;
  mtu?: string;
  internal?: boolean;
  masquerade?: boolean;
}

/** A network as --json shows it (docs/cli.md, "Network object"). */
function networkJson(n: NetworkView): Record<string, unknown> {
  return {
    name: n.name, driver: n.driver, subnets: n.config.subnets, mtu: n.config.mtu, internal: n.config.internal,
    masquerade: n.driver === 'bridge' ? n.config.masquerade ?? true : null,
    bridge: n.config.bridge ?? null, parent: n.config.parent ?? null, macvlanMode: n.config.macvlanMode ?? null, createdAt: n.createdAt,
    ...(n.config.overlay !== undefined ? { overlay: n.config.overlay } : {}),
    leases: n.leases.map((l) => ({ address: l.address, sandbox: l.sandbox, ifname: l.ifname })),
  };
}

function inspectText(n: NetworkView): string {
  return [
    `Name:      ${n.name}`,
    `Driver:    ${n.driver}${n.config.internal ? ' (internal)' : ''}`,
    n.config.overlay !== undefined
      ? `Overlay:   ${n.config.overlay.subnet} VNI ${n.config.overlay.vni} ${n.config.overlay.mode}, block ${n.config.overlay.block} (host ${n.config.overlay.hostId}, underlay ${n.config.overlay.underlay})`
      : `Device:    ${n.config.bridge ?? `${n.config.parent ?? '-'} (${n.config.macvlanMode ?? 'bridge'})`}`,
    `MTU:       ${n.config.mtu}`,
    ...n.config.subnets.map((s) => `Subnet:    ${s.subnet} gateway ${s.gateway}`),
    'Leases:',
    ...n.leases.map((l) => `  ${l.address} ${l.sandbox} ${l.ifname}`),
  ].join('\n') + '\n';
}

export const register: Register = (program, run) => {
  const network = program.command('network').description('bridge and macvlan networks with address management');
  const create = network.command('create').argument('<name>')
    .description('create a network (a bridge with the gateway address, macvlan on --parent, or overlay across hosts over etcd)')
    .addOption(new Option('--driver <driver>', DRIVER_NAMES.join(' or ')).default('bridge').choices(DRIVER_NAMES))
    .option('--subnet <cidr>', 'an IPv4 and/or (with --ipv6) an IPv6 subnet (repeatable; default: a free /16 in 10.88.0.0/8)', collect)
    .option('--gateway <ip>', 'IPv4 gateway (default: the first address of the subnet)')
    .option('--ipv6', 'give sandboxes IPv6 addresses from the IPv6 --subnet')
    .option('--bridge-name <br>', 'bridge to create or use (default nsbr-<name>)')
    .option('--parent <if>', 'macvlan: the host interface')
    .option('--mode <mode>', 'macvlan mode: bridge, private, vepa, passthru, source; overlay mode: l3 (default) or l2')
    .option('--mtu <n>', 'MTU of the bridge and the sandbox links (default 1500)')
    .option('--internal', 'no way out: no default route in the sandboxes, and (bridge) nothing forwarded out of the host')
    .option('--no-masquerade', 'bridge: route the sandboxes\' traffic out with their own addresses instead of the host\'s')
    .option('--vni <n>', 'overlay: the VXLAN network id (default: the lowest free from 100)')
    .option('--block-size <prefixlen>', 'overlay: the prefix length of each host\'s block (default /24 of a /16 or larger)')
    .option('--underlay <addr>', 'overlay: this host\'s underlay address (default: the source address toward etcd)');
  addEtcdOptions(create);
  create.action((name: string, f: NetworkCreateFlags) => run(async ({ manager, json }) => {
      if (f.driver === 'overlay') {
        const local = Object.entries({ '--gateway': f.gateway, '--ipv6': f.ipv6, '--bridge-name': f.bridgeName, '--parent': f.parent, '--internal': f.internal, '--no-masquerade': f.masquerade === false ? true : undefined })
          .filter(([, v]) => v !== undefined).map(([k]) => k);
        if (local.length > 0) throw new NsboxError(`${local.join(', ')} do(es) not apply to an overlay network (its gateway is each host's block's, on the overlay's own bridge)`, 'NSBOX_ERR_USAGE');
        const view = await overlayCreate(manager, name, f, {
          subnet: singleSubnet(f.subnet), vni: optInt(f.vni, '--vni'), mode: modeOf(f.mode), mtu: optInt(f.mtu, '--mtu'),
          blockPrefixLength: optInt(f.blockSize?.replace(/^\//, ''), '--block-size'), underlay: f.underlay,
        });
        if (json) printJson(networkJson(view));
        else process.stdout.write(`${name}\n`);
        return;
      }
      const view = await manager.createNetwork(name, {
        driver: f.driver, subnets: f.subnet, gateway: f.gateway, ipv6: f.ipv6, bridgeName: f.bridgeName, parent: f.parent,
        macvlanMode: f.mode as MacvlanMode | undefined, mtu: f.mtu === undefined ? undefined : Number(f.mtu), internal: f.internal,
        masquerade: f.masquerade,
      });
      if (json) printJson(networkJson(view));
      else process.stdout.write(`${name}\n`);
    }));

  network.command('ls').alias('list').description('list networks')
    .action(() => run(async ({ manager, json }) => {
      const list = manager.networks();
      if (json) return printJson(list.map(networkJson));
      printTable(['NAME', 'DRIVER', 'SUBNETS', 'GATEWAY', 'DEVICE', 'SANDBOXES'], list.map((n) => [
        n.name, n.driver, n.config.subnets.map((s) => s.subnet).join(','), n.config.subnets.map((s) => s.gateway).join(','),
        n.config.bridge ?? n.config.parent ?? '-', String(new Set(n.leases.map((l) => l.sandbox)).size),
      ]));
    }));

  network.command('inspect').argument('<name>').description('show a network and its leases')
    .action((name: string) => run(async ({ manager, json }) => {
      const view = manager.network(name);
      if (json) printJson(networkJson(view));
      else process.stdout.write(inspectText(view));
    }));

  const rm = network.command('rm').alias('remove').argument('<names...>').description('remove networks no sandbox is connected to (overlay: this host leaves it)')
    .option('--global', 'overlay: also delete the network from etcd (refused while any host holds a block of it)');
  addEtcdOptions(rm);
  rm.action((names: string[], f: EtcdFlags & { global?: boolean }) => run(async ({ manager, json }) => {
      const results = await overlayRemove(manager, names, f);
      if (json) printJson(results);
      else for (const r of results) process.stdout.write(r.removed ? `${r.name}\n` : `${r.name}: already gone\n`);
    }));
};

function optInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new NsboxError(`${flag} ${JSON.stringify(text)}: a whole number`, 'NSBOX_ERR_USAGE');
  return n;
}

function singleSubnet(subnets: string[] | undefined): string | undefined {
  if (subnets !== undefined && subnets.length > 1) throw new NsboxError('an overlay network has one IPv4 --subnet', 'NSBOX_ERR_USAGE');
  return subnets?.[0];
}

function modeOf(mode: string | undefined): 'l3' | 'l2' | undefined {
  if (mode === undefined || mode === 'l3' || mode === 'l2') return mode;
  throw new NsboxError(`overlay --mode ${JSON.stringify(mode)}: l3 or l2`, 'NSBOX_ERR_USAGE');
}
