/**
 * Layer: network.
 *
 * The macvlan driver: per sandbox a macvlan link on a host interface (the parent), made
 * directly inside the namespace, on the parent's LAN. Nothing is made in the host: the
 * parent is the user's, so set-up and teardown have nothing to do.
 */
import { ConfigError } from '../errors.js';
import { MACVLAN_MODES, type MacvlanMode } from '../netlink/route/schema/link-macvlan.js';
import type { NetworkRecord } from '../store/index.js';
import { asConfigError } from './config-error.js';
import type { CreateRequest, DriverContext, DriverPlan, LinkRequest, NetworkDriver } from './driver.js';

const DEFAULT_MODE: MacvlanMode = 'bridge';

async function validate({ options, subnets }: CreateRequest, ctx: DriverContext): Promise<DriverPlan> {
  const { parent, macvlanMode = DEFAULT_MODE } = options;
  if (parent === undefined) throw new ConfigError('a macvlan network needs --parent (the host interface)', 'parent');
  if (subnets.length === 0) throw new ConfigError('a macvlan network needs --subnet (the parent\'s LAN)', 'subnet');
  asConfigError('mode', () => MACVLAN_MODES.encode(macvlanMode, 'macvlan mode'));
  if (await ctx.host().link.find({ name: parent }) === undefined) throw new ConfigError(`parent interface ${parent} not found in the host`, 'parent');
  return { subnets: [...subnets], config: { parent, macvlanMode } };
}

/** A macvlan link on the parent, born inside the sandbox. */
async function attach(network: NetworkRecord, link: LinkRequest, ctx: DriverContext): Promise<{ hostIf: undefined }> {
  const parent = await ctx.host().link.find({ name: network.config.parent! });
  if (parent === undefined) throw new ConfigError(`parent interface ${network.config.parent} of network ${network.name} not found in the host`, 'parent');
  await ctx.host().link.add({
    name: link.ifname, kind: 'macvlan', mode: (network.config.macvlanMode ?? DEFAULT_MODE) as MacvlanMode, link: parent.index,
    netnsFd: link.netnsFd, mtu: network.config.mtu, address: link.mac,
  });
  return { hostIf: undefined };
}

const nothingToDo = (): Promise<void> => Promise.resolve();

export const macvlanDriver: NetworkDriver = {
  name: 'macvlan',
  validate,
  conflict: () => undefined,
  setUp: () => Promise.resolve(false),
  attach,
  hostLinks: () => [], // the macvlan link lives in the sandbox alone
  detach: nothingToDo,
  tearDown: nothingToDo,
};
