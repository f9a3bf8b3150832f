/**
 * Layer: overlay.
 *
 * The agent's picture of etcd (pure): networks, hosts, blocks and endpoints under the prefix,
 * built from a list and kept by watch events, and from it what one network's data plane should
 * hold on this host (OverlayDesired). A host whose key goes (its lease expired or was revoked)
 * is kept as `departed` for a grace period (research B3.3 step 6: an etcd-side blip must not
 * break a working path), then its entries go; a host listed again is back at once. Values
 * that fail their schema are skipped and reported (`bad`), never trusted.
 */
import type { KeyValue, WatchEvent } from './etcd.js';
import type { BlockValue, EndpointValue, HostValue, Keyspace, NetworkValue } from './keyspace.js';
import type { OverlayDesired, OverlayPeer, OverlayRemoteEndpoint } from './dataplane/index.js';

/** This host's part of a network, as its local record has it. */
export interface LocalNetwork {
  name: string;
  hostId: string;
  underlay: string;
  block: string;
  mtu?: number;
  /** The state root's scope its devices are tagged with (dataplane OverlayLocal.owner). */
  owner?: string;
}

export class OverlayModel {
  readonly networks = new Map<string, NetworkValue>();
  readonly hosts = new Map<string, HostValue>();
  /** Hosts gone from etcd, kept until `until` (ms since the epoch). */
  readonly departed = new Map<string, { value: HostValue; until: number }>();
  /** net → block → holder. */
  readonly blocks = new Map<string, Map<string, BlockValue>>();
  /** net → ip → endpoint. */
  readonly endpoints = new Map<string, Map<string, EndpointValue>>();
  /** Keys whose values failed their schema, with why. */
  readonly bad = new Map<string, string>();
  /** Every key's lease ('0': none). */
  readonly leases = new Map<string, string>();
  revision = 0;

  readonly ks: Keyspace;
  readonly graceMs: number;

  constructor(ks: Keyspace, graceMs: number) {
    this.ks = ks;
    this.graceMs = graceMs;
  }

  /** The whole state at `revision` (first list, or a re-list after compaction). */
  reset(kvs: readonly KeyValue[], revision: number, now: number): void {
    const before = new Map(this.hosts);
    this.networks.clear();
    this.hosts.clear();
    this.blocks.clear();
    this.endpoints.clear();
    this.bad.clear();
    this.leases.clear();
    for (const kv of kvs) this.#put(kv, now);
    for (const [id, value] of before) if (!this.hosts.has(id)) this.departed.set(id, { value, until: now + this.graceMs });
    this.revision = revision;
  }

  apply(events: readonly WatchEvent[], revision: number, now: number): void {
    for (const e of events) {
      if (e.type === 'put') this.#put(e.kv, now);
      else this.#delete(e.kv.key, now);
    }
    this.revision = revision;
  }

  #put(kv: KeyValue, now: number): void {
    const k = this.ks.parseKey(kv.key);
    if (k === undefined) return;
    this.leases.set(kv.key, kv.lease);
    try {
      switch (k.kind) {
        case 'network': this.networks.set(k.net, this.ks.networkValue(kv.key, kv.value)); break;
        case 'host':
          this.hosts.set(k.hostId, this.ks.hostValue(kv.key, kv.value));
          this.departed.delete(k.hostId);
          break;
        case 'block': mapOf(this.blocks, k.net).set(k.block, this.ks.blockValue(kv.key, kv.value)); break;
        case 'endpoint': mapOf(this.endpoints, k.net).set(k.ip, this.ks.endpointValue(kv.key, kv.value)); break;
      }
      this.bad.delete(kv.key);
    } catch (err) {
      this.bad.set(kv.key, (err as Error).message);
    }
    void now;
  }

  #delete(key: string, now: number): void {
    this.bad.delete(key);
    this.leases.delete(key);
    const k = this.ks.parseKey(key);
    if (k === undefined) return;
    switch (k.kind) {
      case 'network': this.networks.delete(k.net); break;
      case 'host': {
        const value = this.hosts.get(k.hostId);
        this.hosts.delete(k.hostId);
        if (value !== undefined) this.departed.set(k.hostId, { value, until: now + this.graceMs });
        break;
      }
      case 'block': this.blocks.get(k.net)?.delete(k.block); break;
      case 'endpoint': this.endpoints.get(k.net)?.delete(k.ip); break;
    }
  }

  /** Drop departed hosts whose grace is over; the earliest grace still running (ms since the epoch), if any. */
  expire(now: number): number | undefined {
    let next: number | undefined;
    for (const [id, d] of this.departed) {
      if (d.until <= now) this.departed.delete(id);
      else next = next === undefined ? d.until : Math.min(next, d.until);
    }
    return next;
  }

  /** A host as the data plane may use it: listed, or departed within its grace. */
  hostOf(id: string): HostValue | undefined {
    return this.hosts.get(id) ?? this.departed.get(id)?.value;
  }

  /** What the data plane of `local` should hold; undefined while etcd has no such network. */
  desired(local: LocalNetwork): OverlayDesired | undefined {
    const v = this.networks.get(local.name);
    if (v === undefined) return undefined;
    const byHost = new Map<string, OverlayPeer>();
    const peerOf = (hostId: string): OverlayPeer | undefined => {
      if (hostId === local.hostId) return undefined;
      const h = this.hostOf(hostId);
      const vtepMac = h?.vtepMacs[local.name];
      if (h === undefined || vtepMac === undefined) return undefined;
      let p = byHost.get(hostId);
      if (p === undefined) byHost.set(hostId, p = { hostId, underlay: h.underlay, vtepMac, blocks: [] });
      return p;
    };
    for (const [block, holder] of this.blocks.get(local.name) ?? []) peerOf(holder.hostId)?.blocks.push(block);
    const endpoints: OverlayRemoteEndpoint[] = [];
    if (v.mode === 'l2') {
      for (const [ip, e] of this.endpoints.get(local.name) ?? []) {
        const p = peerOf(e.hostId);
        if (p !== undefined) endpoints.push({ ip, mac: e.mac, hostId: e.hostId, underlay: p.underlay });
      }
    }
    const peers = [...byHost.values()].sort((a, b) => a.hostId.localeCompare(b.hostId));
    for (const p of peers) p.blocks.sort();
    endpoints.sort((a, b) => a.ip.localeCompare(b.ip));
    return {
      network: { name: local.name, vni: v.vni, subnet: v.subnet, blockPrefixLength: v.blockPrefixLength, mode: v.mode, mtu: local.mtu ?? v.mtu, port: v.port },
      local: { hostId: local.hostId, underlay: local.underlay, block: local.block, ...(local.owner === undefined ? {} : { owner: local.owner }) },
      peers,
      endpoints,
    };
  }
}

function mapOf<K, V>(m: Map<string, Map<K, V>>, key: string): Map<K, V> {
  let inner = m.get(key);
  if (inner === undefined) m.set(key, inner = new Map());
  return inner;
}
