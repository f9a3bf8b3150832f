/**
 * Layer: cli.
 *
 * The overlay side of `nsbox network create|rm` (network.ts): the etcd options every overlay
 * command takes, and create/join and leave through src/overlay/join.ts. An etcd error becomes
 * NSBOX_ERR_ETCD naming the endpoints (never a credential).
 */
import type { Command } from 'commander';
import { NsboxError } from '../../errors.js';
import type { Manager, NetworkView } from '../../managed/index.js';
import { EtcdError, type Etcd } from '../../overlay/etcd.js';
import { joinNetwork, leaveNetwork, type OverlayCreateOptions } from '../../overlay/join.js';
import { Keyspace } from '../../overlay/keyspace.js';
import { connectEtcd, rememberEtcdSettings, resolveEtcdSettings, type EtcdFlags, type EtcdSettings } from '../../overlay/settings.js';

/** --etcd and its TLS files, on `cmd`. */
export function addEtcdOptions(cmd: Command): Command {
  return cmd
    .option('--etcd <urls>', 'overlay: the etcd cluster, http(s)://IP:PORT[,…] (or NSBOX_ETCD); remembered in the root')
    .option('--etcd-ca <file>', 'overlay: PEM CA of the etcd members (or NSBOX_ETCD_CA)')
    .option('--etcd-cert <file>', 'overlay: PEM client certificate for etcd (or NSBOX_ETCD_CERT)')
    .option('--etcd-key <file>', 'overlay: PEM key of the client certificate (or NSBOX_ETCD_KEY)')
    .option('--etcd-prefix <prefix>', 'overlay: the key prefix (default /nsbox/v1/, or NSBOX_ETCD_PREFIX)');
}

/** Run `fn` with a client of the root's etcd; an etcd failure is NSBOX_ERR_ETCD. */
export async function withEtcd<T>(manager: Manager, flags: EtcdFlags, fn: (etcd: Etcd, ks: Keyspace, s: EtcdSettings) => Promise<T>): Promise<T> {
  const s = resolveEtcdSettings(manager.root, flags, { required: true, remember: false })!;
  const etcd = connectEtcd(s);
  try {
    const out = await fn(etcd, new Keyspace(s.prefix), s);
    rememberEtcdSettings(manager.root, s); // only once the command succeeded: a refused one leaves nothing
    return out;
  } catch (err) {
    if (err instanceof EtcdError) throw new NsboxError(`etcd at ${s.endpoints.join(',')}: ${err.message}`, 'NSBOX_ERR_ETCD');
    throw err;
  } finally {
    etcd.close();
  }
}

/** `network create NET --driver overlay …`: define (with --subnet) or join, and make this host's side. */
export function overlayCreate(manager: Manager, name: string, flags: EtcdFlags, o: OverlayCreateOptions): Promise<NetworkView> {
  return withEtcd(manager, flags, (etcd, ks, s) => joinNetwork(manager, etcd, ks, s.endpoints, name, o));
}

/** `network rm`: overlay networks are left through etcd (their block released), the others removed as before. */
export async function overlayRemove(manager: Manager, names: readonly string[], flags: EtcdFlags & { global?: boolean }): Promise<{ name: string; removed: boolean }[]> {
  const overlay = new Set(manager.networks().filter((n) => n.driver === 'overlay').map((n) => n.name));
  const out: { name: string; removed: boolean }[] = [];
  for (const name of names) {
    if (!overlay.has(name) && !flags.global) {
      out.push(...await manager.removeNetworks([name]));
      continue;
    }
    const r = await withEtcd(manager, flags, (etcd, ks) => leaveNetwork(manager, etcd, ks, name, { global: flags.global }));
    out.push({ name, removed: r.left || r.deleted });
  }
  return out;
}
