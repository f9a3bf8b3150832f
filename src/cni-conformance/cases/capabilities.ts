/**
 * Layer: cni-conformance (process edge).
 *
 * Capabilities (CONVENTIONS.md), tested only when the plugin object declares them in
 * `capabilities`, as a runtime passes `runtimeConfig` only then: `mac` (the container
 * interface gets it), `ips` (it gets that address), `portMappings` (ADD succeeds; DEL leaves
 * no rule behind). A plugin answering code 2 (unsupported field) is a skip, not a failure:
 * the feature is absent, not wrong.
 */
import { detail, fail, skip, type Attachment, type Context } from '../context.js';
import { linksIn } from '../kernel.js';

const G = 'capabilities';
const MAC = '0a:58:0a:f1:00:09';

function withCapability(ctx: Context, cap: string, args: Record<string, unknown>, check: (a: Attachment) => void): void {
  if (!ctx.net.capabilities.includes(cap)) skip(`the config does not declare the ${cap} capability`);
  const a = ctx.attach({ capabilityArgs: args });
  try {
    if (a.add.status === 1 && a.add.json?.code === 2) skip(`the plugin refuses it: ${detail(a.add)}`);
    if (a.add.status !== 0) fail(`ADD ${detail(a.add)}`);
    check(a);
    const d = ctx.del(a);
    if (d.status !== 0) fail(`DEL ${detail(d)}`);
    const left = ctx.leftovers(a);
    if (left.length > 0) fail(`left after DEL: ${left.join(', ')}`);
  } finally {
    ctx.del(a);
    ctx.dropNetns(a);
  }
}

export function capabilityCases(ctx: Context, ipsAddress: string | undefined): void {
  ctx.case({ id: 'CAP-MAC', group: G, rebaseline: true, title: 'runtimeConfig.mac: the container interface has that MAC' }, () => {
    withCapability(ctx, 'mac', { mac: MAC }, (a) => {
      const link = linksIn(a.ns).find((l) => l.ifname === a.ifname);
      if (link?.mac !== MAC) fail(`${a.ifname} has ${String(link?.mac)}`);
    });
  });
  ctx.case({ id: 'CAP-IPS', group: G, rebaseline: true, title: 'runtimeConfig.ips: the container interface has that address' }, () => {
    if (ipsAddress === undefined) skip('no address known to ask for');
    withCapability(ctx, 'ips', { ips: [ipsAddress] }, (a) => {
      if (a.address !== ipsAddress) fail(`asked for ${ipsAddress}, got ${String(a.address)}`);
    });
  });
  ctx.case({ id: 'CAP-PORTMAPPINGS', group: G, rebaseline: true, title: 'runtimeConfig.portMappings: ADD succeeds, DEL leaves no rule behind' }, () => {
    withCapability(ctx, 'portMappings', { portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }] }, () => undefined);
  });
}
