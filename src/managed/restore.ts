/**
 * Layer: managed.
 *
 * After nsbox (or whatever drove it) died, re-adopt every live sandbox from its record; with
 * `recreate`, rebuild the ones whose namespace is gone (after a reboot) from their records:
 * network bridges first, then namespace, interfaces (a veth whose peer stayed in the host is
 * made again, born inside), addresses, routes, gateways, neighbours; last, every sandbox's
 * names files are written again (resolv.conf from the host's resolver now, which a reboot may
 * have changed; the directory made where it went missing). With `firewallOnly`, only the nsbox
 * table is made to hold what the store says (rebuilt whole, in one transaction, when it is
 * missing): what a hook after `nft flush ruleset` needs, and nothing that touches links,
 * namespaces or locks.
 */
import { Sandbox, basePath, hostNetlink, isNamespaceMounted, type InterfaceOptions } from '../sandbox/index.js';
import { checkNamespaceFilesOutlive } from './mount-scope.js';
import type { InterfaceRecord, SandboxRecord } from '../store/index.js';
import { adopt } from './adopt.js';
import { EXTERNAL_LABEL, isExternal } from './external.js';
import { refreshNames } from './names.js';
import type { StateRoot } from './root.js';

export interface RestoreOutcome {
  /** The sandbox's name, or 'network NAME' for a network's host side (its bridge). */
  name: string;
  status: 'adopted' | 'recreated' | 'gone' | 'interrupted' | 'failed' | 'in-use';
  detail: string;
}

export interface RestoreOptions {
  /** Rebuild sandboxes whose namespace is gone from their records. */
  recreate?: boolean;
  /** Only the firewall table, from the store (after `nft flush ruleset`); no bridges, no sandboxes. */
  firewallOnly?: boolean;
  /** Called before each sandbox record is looked at. */
  onProgress?: (name: string, done: number, total: number) => void;
}

export async function restore(root: StateRoot, options: RestoreOptions = {}): Promise<RestoreOutcome[]> {
  if (options.firewallOnly) return restoreFirewall(root);
  // Networks' host sides (bridges) first: after a reboot they are gone too, and sandboxes hang off them.
  const outcomes: RestoreOutcome[] = [];
  for (const net of root.networks.list()) {
    if (net.config.creating === true) {
      outcomes.push({ name: `network ${net.name}`, status: 'interrupted', detail: 'network create was interrupted; run `nsbox gc`' });
      continue;
    }
    try {
      const made = net.config.bridge === undefined ? `${net.driver} host side` : `bridge ${net.config.bridge}`;
      if (await root.networks.ensureHostSide(net)) outcomes.push({ name: `network ${net.name}`, status: 'recreated', detail: made });
    } catch (err) {
      outcomes.push({ name: `network ${net.name}`, status: 'failed', detail: (err as Error).message });
    }
  }
  outcomes.push(...await restoreFirewall(root));
  const records = root.records.list();
  for (const [i, listed] of records.entries()) {
    options.onProgress?.(listed.name, i + 1, records.length);
    const outcome = await root.tryLocked(listed.name, async (): Promise<RestoreOutcome> => {
      const rec = root.records.get(listed.name);
      if (rec === undefined) return { name: listed.name, status: 'gone', detail: 'removed meanwhile' };
      if (rec.state !== 'ready') return { name: rec.name, status: 'interrupted', detail: `${rec.state} was interrupted; run \`nsbox gc\`` };
      try {
        if (isNamespaceMounted(rec.key)) return await adoptLive(rec);
        if (!options.recreate) return { name: rec.name, status: 'gone', detail: 'network namespace gone; run `nsbox restore --recreate`' };
        if (isExternal(rec)) return { name: rec.name, status: 'gone', detail: `its namespace was ${rec.labels[EXTERNAL_LABEL]}, made outside nsbox: nothing to recreate; run \`nsbox gc\`` };
        return await recreate(root, rec);
      } catch (err) {
        return { name: rec.name, status: 'failed', detail: (err as Error).message };
      }
    });
    outcomes.push(outcome ?? { name: listed.name, status: 'in-use', detail: 'another nsbox process is working on it' });
  }
  refreshNames(root, { all: true, resolv: true, ensure: true });
  return outcomes;
}

/** The nsbox table made to hold what the store says; an outcome when something was repaired or failed. */
async function restoreFirewall(root: StateRoot): Promise<RestoreOutcome[]> {
  try {
    const fw = await root.networks.firewall.reconcile();
    if (fw.rebuilt || fw.added.length > 0 || fw.removed.length > 0) {
      return [{ name: 'firewall inet nsbox', status: 'recreated', detail: fw.rebuilt ? 'table rebuilt from the store' : `${fw.added.length} element(s) put back, ${fw.removed.length} removed` }];
    }
    return [];
  } catch (err) {
    return [{ name: 'firewall inet nsbox', status: 'failed', detail: (err as Error).message }];
  }
}

/** Re-adopt a live sandbox (addresses re-advertised) and check its interfaces are in the kernel. */
async function adoptLive(rec: SandboxRecord): Promise<RestoreOutcome> {
  const { sandbox, interfaces } = await adopt(rec, { advertise: true });
  try {
    const missing: string[] = [];
    for (const dstName of interfaces.keys()) {
      if ((await sandbox.netlink.link.find({ name: dstName })) === undefined) missing.push(dstName);
    }
    const detail = `${interfaces.size} interface(s)${missing.length ? `; missing in the kernel: ${missing.join(', ')}` : ''}`;
    return { name: rec.name, status: missing.length ? 'failed' : 'adopted', detail };
  } finally {
    sandbox.close();
  }
}

function optionsOf(row: InterfaceRecord): InterfaceOptions {
  return { ...row.options, dstName: row.dstName };
}

/** Rebuild a sandbox whose namespace is gone from its record. */
async function recreate(root: StateRoot, rec: SandboxRecord): Promise<RestoreOutcome> {
  checkNamespaceFilesOutlive(basePath(), `sandbox ${rec.name}`);
  const sandbox = await Sandbox.create(rec.key);
  const host = hostNetlink();
  const problems: string[] = [];
  const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
    }
  };
  try {
    root.linkForIproute(rec.name);
    for (const row of rec.config.interfaces.filter((i) => i.state === 'ready')) {
      await step(row.dstName, async () => {
        if (row.network !== undefined) {
          // Give the sandbox the same addresses on the network again.
          root.networks.release(rec.key, row.network);
          const ip = row.options.ipv4?.split('/')[0];
          const ip6 = row.options.ipv6?.split('/')[0];
          await root.networks.attach(sandbox, row.network, { ip, ip6, ifname: row.dstName, owner: rec.key });
        } else if (row.link?.peerSandbox !== undefined) {
          throw new Error(`one end of a veth pair with sandbox ${row.link.peerSandbox} (${row.link.peerName ?? '?'}): restore does not make pairs between sandboxes again (remove the sandboxes and make them anew; a lab: \`nsbox lab down\`, then \`up\`)`);
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
          throw new Error(`host link ${row.srcName} does not exist and cannot be made again`);
        }
      });
    }
    if (rec.config.gateway && sandbox.gateway === undefined) await step(`gateway ${rec.config.gateway}`, () => sandbox.setGateway(rec.config.gateway));
    if (rec.config.gatewayIPv6 && sandbox.gatewayIPv6 === undefined) await step(`gateway ${rec.config.gatewayIPv6}`, () => sandbox.setGatewayIPv6(rec.config.gatewayIPv6));
    for (const r of rec.config.routes) await step(`route ${r.destination}`, () => sandbox.addStaticRoute(r));
    for (const n of rec.config.neighbors) await step(`neighbour ${n.ip}`, () => sandbox.addNeighbor(n.ip, n.mac, { linkName: n.linkName }));
  } finally {
    sandbox.close();
  }
  return problems.length
    ? { name: rec.name, status: 'failed', detail: `recreated with problems: ${problems.join('; ')}` }
    : { name: rec.name, status: 'recreated', detail: `${rec.config.interfaces.length} interface(s), ${rec.config.routes.length} route(s)` };
}
