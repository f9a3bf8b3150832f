/**
 * Layer: overlay.
 *
 * `nsbox overlay gc`: the records in etcd of hosts gone for good (research B3.2: a block is not
 * on the liveness lease, so a partitioned host that is still alive keeps its block; it is
 * released only once its host has been gone for a while). A host is gone when its host key is
 * (its lease expired or was revoked) and something of it is left: a block, or an endpoint key
 * not on a live lease. The first pass that finds it gone writes gone/HOST = {since}; a pass
 * `goneForMs` after `since` deletes its blocks and endpoint keys, each in a transaction that
 * holds only while the key is unchanged and the host key still absent (a host back meanwhile
 * keeps everything), then the mark. A host seen back has its mark removed. The host running gc
 * is never gone to itself.
 */
import type { Etcd, KeyValue } from './etcd.js';
import type { Keyspace } from './keyspace.js';

export interface OverlayGcOptions {
  /** How long a host must have been gone before its records go (ms; 0: at once). */
  goneForMs: number;
  /** The host running gc (never collected). */
  self?: string;
  dryRun?: boolean;
  now?: number;
}

export interface OverlayGcResult {
  /** Hosts gone, with since when (ISO) and what of theirs went (or would go, or waits). */
  hosts: { hostId: string; since: string; released: string[]; waiting: string[] }[];
  /** Hosts back whose marks were removed. */
  back: string[];
}

const GoneValue = (text: string): number | undefined => {
  try {
    const since = Date.parse((JSON.parse(text) as { since?: string }).since ?? '');
    return Number.isFinite(since) ? since : undefined;
  } catch {
    return undefined;
  }
};

export async function overlayGc(etcd: Etcd, ks: Keyspace, o: OverlayGcOptions): Promise<OverlayGcResult> {
  const now = o.now ?? Date.now();
  const { kvs } = await etcd.range(ks.prefix);
  const hosts = new Set<string>();
  const marks = new Map<string, KeyValue>();
  /** host → its keys that outlive its lease */
  const left = new Map<string, KeyValue[]>();
  const liveLeases = new Set<string>();
  for (const kv of kvs) {
    const k = ks.parseKey(kv.key);
    if (k?.kind === 'host') {
      hosts.add(k.hostId);
      liveLeases.add(kv.lease);
    }
  }
  for (const kv of kvs) {
    if (kv.key.startsWith(`${ks.prefix}gone/`)) {
      marks.set(kv.key.slice(`${ks.prefix}gone/`.length), kv);
      continue;
    }
    const k = ks.parseKey(kv.key);
    let holder: string | undefined;
    try {
      if (k?.kind === 'block') holder = ks.blockValue(kv.key, kv.value).hostId;
      else if (k?.kind === 'endpoint' && (kv.lease === '0' || !liveLeases.has(kv.lease))) holder = ks.endpointValue(kv.key, kv.value).hostId;
    } catch {
      holder = undefined; // a bad value names no host we could judge
    }
    if (holder !== undefined && !hosts.has(holder) && holder !== o.self) left.set(holder, [...(left.get(holder) ?? []), kv]);
  }
  const result: OverlayGcResult = { hosts: [], back: [] };
  for (const [hostId, mark] of marks) {
    if (!hosts.has(hostId) && left.has(hostId)) continue;
    if (hosts.has(hostId)) result.back.push(hostId); // else nothing of it is left: the mark alone goes
    if (!o.dryRun) await etcd.deleteIfUnchanged(mark.key, mark.modRevision);
  }
  for (const [hostId, keys] of left) {
    const mark = marks.get(hostId);
    let since = mark === undefined ? undefined : GoneValue(mark.value);
    if (since === undefined) {
      since = now;
      if (!o.dryRun) await etcd.put(ks.gone(hostId), JSON.stringify({ since: new Date(now).toISOString() }));
    }
    const names = keys.map((kv) => kv.key.slice(ks.prefix.length));
    const entry = { hostId, since: new Date(since).toISOString(), released: [] as string[], waiting: [] as string[] };
    result.hosts.push(entry);
    if (now - since < o.goneForMs) {
      entry.waiting = names;
      continue;
    }
    let all = true;
    for (const [i, kv] of keys.entries()) {
      const gone = o.dryRun === true || await etcd.deleteIfUnchanged(kv.key, kv.modRevision, { whileAbsent: ks.host(hostId) });
      if (gone) entry.released.push(names[i]!);
      else all = false;
    }
    if (all && !o.dryRun) await etcd.delete(ks.gone(hostId));
  }
  result.hosts.sort((a, b) => a.hostId.localeCompare(b.hostId));
  return result;
}
