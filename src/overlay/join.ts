/**
 * Layer: overlay.
 *
 * A host creating, joining and leaving an overlay network:
 * - define: the network's key, made once with a create-only transaction; the same definition
 *   again succeeds, a different one is a conflict naming both;
 * - join: this host's block claimed (create-only on blocks/NET/CIDR, the next one on
 *   conflict; a block this host holds already is kept), then the local record (driver overlay)
 *   made through the Manager, which makes the devices; a failure releases a block it claimed;
 * - leave: the local record removed (refused while sandboxes are connected), this host's
 *   block released; `global`: the network's key too, only when no host holds a block.
 */
import { createSocket } from 'node:dgram';
import { networkInterfaces, hostname } from 'node:os';
import { NsboxError } from '../errors.js';
import { addressRange, bigIntToIp, cidrText, parseNetwork } from '../net/cidr.js';
import type { Manager, NetworkView } from '../managed/index.js';
import type { Etcd, KeyValue } from './etcd.js';
import { DEFAULT_VXLAN_PORT, type Keyspace, type NetworkValue } from './keyspace.js';
import { markLeft } from './settings.js';

export interface OverlayCreateOptions {
  /** Given: the network is defined (or checked against its definition); absent: joined. */
  subnet?: string;
  vni?: number;
  mode?: 'l3' | 'l2';
  mtu?: number;
  blockPrefixLength?: number;
  port?: number;
  /** This host's underlay address (default: the source address of the route to the first etcd member). */
  underlay?: string;
}

/** This root's host id in etcd: its host name (--host), else the machine's. */
export function hostIdOf(manager: Manager): string {
  return manager.hostName ?? hostname();
}

/** The address this host reaches `url` from (the kernel's route lookup, by a connected UDP socket; nothing is sent). */
export async function sourceAddressTo(url: string): Promise<string> {
  const u = new URL(url);
  const sock = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(Number(u.port || 2379), u.hostname.replace(/^\[|\]$/g, ''), () => resolve());
    });
    return sock.address().address;
  } finally {
    sock.close();
  }
}

/** The underlay address: given (and on a link of this host), else the route's to etcd. */
export async function underlayAddress(given: string | undefined, endpoints: readonly string[]): Promise<string> {
  if (given === undefined) return sourceAddressTo(endpoints[0]!);
  const mine = Object.values(networkInterfaces()).flat().some((a) => a?.family === 'IPv4' && a.address === given);
  if (!mine) throw new NsboxError(`--underlay ${given} is not an address of this host`, 'NSBOX_ERR_USAGE');
  return given;
}

/** A block's gateway: its first host address, on this host's bridge (as the data plane puts it). */
function blockGateway(block: string): string {
  return bigIntToIp(addressRange(parseNetwork(block, 'block', { prefixRequired: true })).first + 1n, 4);
}

function defaultBlockPrefix(subnetPrefix: number): number {
  return Math.min(Math.max(24, subnetPrefix + 2), 28);
}

/** The definition `options` ask for, checked; `usedVnis` to pick a free VNI when none is given. */
export function definitionOf(name: string, o: OverlayCreateOptions, usedVnis: ReadonlySet<number>): NetworkValue {
  let net;
  try {
    net = parseNetwork(o.subnet!, 'subnet', { prefixRequired: true });
  } catch (err) {
    throw new NsboxError(`invalid --subnet ${JSON.stringify(o.subnet)}: ${(err as Error).message}`, 'NSBOX_ERR_USAGE');
  }
  if (net.family !== 4) throw new NsboxError(`overlay network ${name}: --subnet must be IPv4 (${o.subnet})`, 'NSBOX_ERR_USAGE');
  const blockPrefixLength = o.blockPrefixLength ?? defaultBlockPrefix(net.prefixLen);
  if (!Number.isInteger(blockPrefixLength) || blockPrefixLength < net.prefixLen || blockPrefixLength > 30) {
    throw new NsboxError(`--block-size ${blockPrefixLength}: a prefix length from /${net.prefixLen} (the subnet's) to /30`, 'NSBOX_ERR_USAGE');
  }
  let vni = o.vni;
  if (vni === undefined) for (vni = 100; usedVnis.has(vni); vni++);
  if (!Number.isInteger(vni) || vni < 1 || vni > 0xffffff) throw new NsboxError(`--vni ${vni}: 1 to 16777215`, 'NSBOX_ERR_USAGE');
  if (o.mtu !== undefined && (!Number.isInteger(o.mtu) || o.mtu < 576 || o.mtu > 65535)) throw new NsboxError(`--mtu ${o.mtu}: 576 to 65535`, 'NSBOX_ERR_USAGE');
  const mode = o.mode ?? 'l3';
  if (mode !== 'l3' && mode !== 'l2') throw new NsboxError(`--mode ${String(mode)}: l3 or l2`, 'NSBOX_ERR_USAGE');
  return { vni, subnet: cidrText(net), blockPrefixLength, mode, ...(o.mtu !== undefined ? { mtu: o.mtu } : {}), port: o.port ?? DEFAULT_VXLAN_PORT };
}

/** How often a create reads the networks again after another network was defined meanwhile. */
const DEFINE_ATTEMPTS = 8;

/**
 * The network's definition in etcd: made once (create-only), or the existing one checked against
 * what was given. Its VNI is chosen from the networks read at revision R and written only if no
 * network was written after R: two creates racing for the lowest free VNI (or for one --vni)
 * cannot both take it; the one that loses reads again and chooses again.
 */
export async function defineNetwork(etcd: Etcd, ks: Keyspace, name: string, o: OverlayCreateOptions, defined?: (revision: number) => void): Promise<NetworkValue> {
  const key = ks.network(name);
  if (o.subnet === undefined) {
    const { kv } = await etcd.get(key);
    if (kv === undefined) throw new NsboxError(`no overlay network ${name} in etcd (${key}): create it once with --subnet CIDR`, 'NSBOX_ERR_NOT_FOUND');
    return ks.networkValue(key, kv.value);
  }
  const prefix = `${ks.prefix}networks/`;
  for (let attempt = 1; ; attempt++) {
    const { kvs, revision } = await etcd.range(prefix);
    const vnis = kvs.flatMap((kv) => {
      try {
        return [{ key: kv.key, vni: ks.networkValue(kv.key, kv.value).vni }];
      } catch {
        return []; // a bad value holds no VNI we can read
      }
    });
    const wanted = definitionOf(name, o, new Set(vnis.map((v) => v.vni)));
    if (o.vni !== undefined) {
      // a VNI is one network's: another network of it would share its hosts' vxlan devices' traffic
      const holder = vnis.find((v) => v.key !== key && v.vni === o.vni);
      if (holder !== undefined) {
        throw new NsboxError(`--vni ${o.vni} is taken in etcd by overlay network ${holder.key.slice(prefix.length)}; give another --vni, or none for the lowest free one`, 'NSBOX_ERR_CONFLICT');
      }
    }
    const res = await etcd.createOnly(key, JSON.stringify(wanted), { unchangedSince: { prefix, revision } });
    if (res.created) {
      defined?.(res.revision);
      return wanted;
    }
    if (res.existing !== undefined) return checkDefinition(ks, name, key, res.existing, wanted, o);
    if (attempt === DEFINE_ATTEMPTS) {
      throw new NsboxError(`overlay network ${name}: other networks were defined in etcd during each of ${DEFINE_ATTEMPTS} tries; run the command again`, 'NSBOX_ERR_ETCD');
    }
  }
}

/** The definition another create wrote, checked against what this one asked for (what was given must match). */
function checkDefinition(ks: Keyspace, name: string, key: string, existing: KeyValue, wanted: NetworkValue, o: OverlayCreateOptions): NetworkValue {
  const have = ks.networkValue(key, existing.value);
  const differs: string[] = [];
  const cmp = (field: keyof NetworkValue, given: unknown): void => {
    if (given !== undefined && have[field] !== given) differs.push(`${field} ${String(have[field])} (asked: ${String(given)})`);
  };
  cmp('subnet', wanted.subnet);
  cmp('vni', o.vni);
  cmp('mode', o.mode);
  cmp('mtu', o.mtu);
  cmp('blockPrefixLength', o.blockPrefixLength);
  cmp('port', o.port);
  if (differs.length > 0) {
    throw new NsboxError(`overlay network ${name} exists in etcd with another definition: ${differs.join(', ')}; join it without --subnet, or choose another name`, 'NSBOX_ERR_CONFLICT');
  }
  return have;
}

/** The blocks of a network, in order. */
function* blocksOf(v: NetworkValue): Generator<string> {
  const net = parseNetwork(v.subnet, 'subnet', { prefixRequired: true });
  const { first, last } = addressRange(net);
  const size = 1n << BigInt(32 - v.blockPrefixLength);
  for (let b = first; b <= last; b += size) yield `${bigIntToIp(b, 4)}/${v.blockPrefixLength}`;
}

/** This host's block: the one it holds, else the first free one claimed with a create-only transaction. */
export async function claimBlock(etcd: Etcd, ks: Keyspace, name: string, v: NetworkValue, hostId: string): Promise<{ block: string; claimed: boolean }> {
  const { kvs } = await etcd.range(ks.blocks(name));
  const taken = new Set<string>();
  for (const kv of kvs) {
    const parsed = ks.parseKey(kv.key);
    if (parsed?.kind !== 'block') continue;
    taken.add(parsed.block);
    try {
      if (ks.blockValue(kv.key, kv.value).hostId === hostId) return { block: parsed.block, claimed: false };
    } catch {
      // someone else's bad value: the block stays taken
    }
  }
  const value = JSON.stringify({ hostId, claimedAt: new Date().toISOString() });
  for (const block of blocksOf(v)) {
    if (taken.has(block)) continue;
    const res = await etcd.createOnly(ks.block(name, block), value);
    if (res.created) return { block, claimed: true };
  }
  throw new NsboxError(`overlay network ${name} has no free block of /${v.blockPrefixLength} left in ${v.subnet}`, 'NSBOX_ERR_EXHAUSTED');
}

/** Release this host's block (only if it is still this host's). */
export async function releaseBlock(etcd: Etcd, ks: Keyspace, name: string, block: string, hostId: string): Promise<void> {
  const key = ks.block(name, block);
  const { kv } = await etcd.get(key);
  if (kv === undefined) return;
  let holder: string | undefined;
  try {
    holder = ks.blockValue(key, kv.value).hostId;
  } catch {
    return;
  }
  if (holder === hostId) await etcd.delete(key);
}

/**
 * Create (with `subnet`) or join the overlay network `name` on this host: its definition, this
 * host's block, the local record and devices. A local record of the same network is kept
 * (the same command again succeeds).
 */
export async function joinNetwork(manager: Manager, etcd: Etcd, ks: Keyspace, endpoints: readonly string[], name: string, o: OverlayCreateOptions): Promise<NetworkView> {
  const underlay = await underlayAddress(o.underlay, endpoints);
  let createdAt: number | undefined;
  const v = await defineNetwork(etcd, ks, name, o, (revision) => { createdAt = revision; });
  try {
    return await joinDefined(manager, etcd, ks, name, v, underlay);
  } catch (err) {
    // a definition this command made goes again when it failed: a refused create leaves nothing in etcd
    // (only while no block of it is held: a host that joined meanwhile keeps it)
    if (createdAt !== undefined && (await etcd.range(ks.blocks(name)).catch(() => ({ kvs: [{}] }))).kvs.length === 0) {
      await etcd.deleteIfUnchanged(ks.network(name), createdAt).catch(() => undefined);
    }
    throw err;
  }
}

async function joinDefined(manager: Manager, etcd: Etcd, ks: Keyspace, name: string, v: NetworkValue, underlay: string): Promise<NetworkView> {
  const sameLocal = (): NetworkView | undefined => {
    const local = manager.networks().find((n) => n.name === name);
    if (local === undefined) return undefined;
    const lo = local.config.overlay;
    if (local.driver === 'overlay' && lo !== undefined && lo.vni === v.vni && lo.subnet === v.subnet && lo.mode === v.mode) return local;
    throw new NsboxError(`a local network named ${name} exists and is not overlay network ${name} of etcd: remove it first`, 'NSBOX_ERR_EXISTS');
  };
  const local = sameLocal();
  if (local !== undefined) return local;
  const hostId = hostIdOf(manager);
  const { block, claimed } = await claimBlock(etcd, ks, name, v, hostId);
  try {
    markLeft(manager.root, name, false);
    return await manager.createNetwork(name, {
      // L2: the sandboxes take the whole subnet's prefix, their gateway this host's bridge (its block's first address)
      driver: 'overlay', mtu: v.mtu, gateway: v.mode === 'l2' ? blockGateway(block) : undefined,
      overlay: { subnet: v.subnet, vni: v.vni, blockPrefixLength: v.blockPrefixLength, mode: v.mode, port: v.port, ...(v.mtu !== undefined ? { mtu: v.mtu } : {}), block, hostId, underlay },
    });
  } catch (err) {
    // this host's agent (or another command) may have joined meanwhile, with the block it claimed: that one stands
    const raced = err instanceof NsboxError && err.code === 'NSBOX_ERR_EXISTS' ? sameLocal() : undefined;
    if (claimed && raced?.config.overlay?.block !== block) await releaseBlock(etcd, ks, name, block, hostId).catch(() => undefined);
    if (raced !== undefined) return raced;
    throw err;
  }
}

/**
 * Leave the overlay network on this host; `global`: also delete its definition, refused (before
 * anything changes) while another host holds a block of it.
 */
export async function leaveNetwork(manager: Manager, etcd: Etcd, ks: Keyspace, name: string, options: { global?: boolean } = {}): Promise<{ left: boolean; deleted: boolean }> {
  const local = manager.networks().find((n) => n.name === name);
  const o = local?.config.overlay;
  if (local !== undefined && (local.driver !== 'overlay' || o === undefined)) throw new NsboxError(`network ${name} is not an overlay network`, 'NSBOX_ERR_USAGE');
  if (options.global) {
    const me = o?.hostId ?? hostIdOf(manager);
    const { kvs } = await etcd.range(ks.blocks(name));
    const others = kvs.flatMap((kv) => {
      const k = ks.parseKey(kv.key);
      let holder: string;
      try {
        holder = ks.blockValue(kv.key, kv.value).hostId;
      } catch {
        holder = '?';
      }
      return holder === me ? [] : [`${k?.kind === 'block' ? k.block : kv.key} (host ${holder})`];
    });
    if (others.length > 0) {
      throw new NsboxError(`overlay network ${name} still has blocks held by other hosts: ${others.join(', ')}; run \`nsbox network rm ${name}\` on them first`, 'NSBOX_ERR_IN_USE');
    }
  }
  let left = false;
  if (local !== undefined && o !== undefined) {
    await manager.removeNetworks([name]);
    markLeft(manager.root, name, true); // before the block goes: the agent must not join again meanwhile
    await releaseBlock(etcd, ks, name, o.block, o.hostId);
    // this host's endpoint records of the network (the agent's, on its lease)
    const { kvs } = await etcd.range(ks.endpoints(name));
    for (const kv of kvs) {
      try {
        if (ks.endpointValue(kv.key, kv.value).hostId === o.hostId) await etcd.delete(kv.key);
      } catch {
        // not ours to judge
      }
    }
    left = true;
  }
  if (!options.global) return { left, deleted: false };
  const deleted = (await etcd.delete(ks.network(name))) > 0;
  return { left, deleted };
}
