/**
 * Layer: overlay.
 *
 * The agent's overlay loop (research B3.3), started by `nsbox agent` on a root that has an etcd
 * cluster (settings.ts):
 * 1. the liveness lease: the id kept in ROOT/overlay/agent.json is resumed if etcd still has it
 *    (a restarted agent: no delete event at the peers), else a new one; renewed on the same id
 *    through errors and outages (LeaseKeeper); a new lease only when etcd says the old one is
 *    gone, and then the host and endpoint keys are put again — unless `overlay leave` revoked
 *    it (agent.json says `left`): then the loop stops;
 * 2. the host key (underlay address, VTEP MAC per network) and this host's endpoint keys
 *    (one per leased address of its overlay networks, with its interface's MAC as the sandbox
 *    record has it: L2 needs them, L3 shows them), both on the lease, published from the store
 *    on every tick; an endpoint key is put and deleted only over this host's own value (a
 *    transaction): an address another host's record holds (an L2 endpoint moved here before it
 *    left there) waits for that record to go;
 * 3. list + watch of the prefix into the model (model.ts); every change debounced (~50 ms),
 *    then a tick: networks seen in etcd joined (join.ts), and each local overlay network's
 *    data plane brought to the model's desired state (reconcileOverlay: idempotent, replace);
 * 4. a tick for watch events writes only the entries that changed since the state it last
 *    brought about (applyOverlayDelta: no dump, no device check); a full tick (devices
 *    checked, the kernel dumped and reconciled) comes first, after a re-list, after an error,
 *    and every `resyncMs` (default 60 s); the store looked at on every write to it (inotify on
 *    its directory: a sandbox connected here is published within milliseconds) and every second;
 * 5. a host gone from etcd keeps its entries for `graceMs` (default 2 × TTL), then they go;
 * 6. etcd unreachable: nothing is reconciled from a model that was never listed, and a listed
 *    model only changes by etcd's events, so the data plane is never flushed.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { hostname } from 'node:os';
import type { Manager } from '../managed/index.js';
import { DB_FILE_NAME } from '../store/index.js';
import { macFromIPv4, overlayOwner } from '../network/index.js';
import { LeaseKeeper, type Etcd, type ListWatch } from './etcd.js';
import { Keyspace, type HostValue } from './keyspace.js';
import { joinNetwork, sourceAddressTo } from './join.js';
import { OverlayModel, type LocalNetwork } from './model.js';
import { connectEtcd, hasLeft, readAgentState, writeAgentState, type EtcdSettings } from './settings.js';
import { applyOverlayDelta, ensureOverlayDevices, reconcileOverlay, type OverlayDesired } from './dataplane/index.js';

export interface OverlayAgentOptions {
  manager: Manager;
  settings: EtcdSettings;
  /** Lease TTL in seconds (default 10). */
  ttl?: number;
  /** This host's underlay address (default: each network's, as its record has it). */
  underlay?: string;
  /** Full reconcile period (default 60 000 ms). */
  resyncMs?: number;
  /** How long a departed host's entries stay (default 2 × TTL). */
  graceMs?: number;
  /** Join every overlay network seen in etcd (default true). */
  joinAll?: boolean;
  log: (line: string) => void;
}

const DEBOUNCE_MS = 50;
const AGENT_VERSION = 'nsbox-agent/1';

/** The kernel's boot id (a host key from before a reboot is told apart). */
function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}
const LOCAL_POLL_MS = 1000;
/** A burst of store writes (one command's transaction) is looked at once, this long after its first. */
const STORE_SETTLE_MS = 5;

export class OverlayAgent {
  readonly #o: OverlayAgentOptions;
  readonly #ks: Keyspace;
  readonly #ttl: number;
  readonly #model: OverlayModel;
  readonly #hostId: string;
  #etcd: Etcd | undefined;
  #keeper: LeaseKeeper | undefined;
  #watch: ListWatch | undefined;
  #listed = false;
  #stopped = false;
  #chain: Promise<void> = Promise.resolve();
  #debounce: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  readonly #timers: NodeJS.Timeout[] = [];
  #storeWatcher: FSWatcher | undefined;
  #storeCheck: NodeJS.Timeout | undefined;
  /** What this agent put and the model may not have seen yet: key → value, lease and revision. */
  readonly #published = new Map<string, { value: string; lease: string; revision: number }>();
  #underlay: string | undefined;
  #localDigest = '';
  readonly #joinFailures = new Map<string, string>();
  /** Endpoint keys of this host held by another host's record: key → that host (logged once). */
  readonly #heldBy = new Map<string, string>();
  #lastError = '';
  /** Per network, the desired state last brought about (the base of the next delta) and its VTEP MAC. */
  readonly #applied = new Map<string, { desired: OverlayDesired; vtepMac: string }>();
  #fullNext = true;
  /** Ticks done (status, tests). */
  ticks = 0;

  constructor(options: OverlayAgentOptions) {
    this.#o = options;
    this.#ks = new Keyspace(options.settings.prefix);
    this.#ttl = options.ttl ?? 10;
    this.#model = new OverlayModel(this.#ks, options.graceMs ?? 2 * this.#ttl * 1000);
    this.#hostId = options.manager.hostName ?? hostname();
  }

  get leaseId(): string | undefined {
    return this.#keeper?.id;
  }

  #logError(what: string, err: unknown): void {
    const line = `${what}: ${(err as Error).message}`;
    if (line !== this.#lastError) this.#o.log(line); // the same failure once, not every 250 ms
    this.#lastError = line;
  }

  /** Take the lease (waiting through an etcd outage), then list, watch and reconcile until stop(). */
  async start(): Promise<void> {
    const etcd = connectEtcd(this.#o.settings);
    this.#etcd = etcd;
    const root = this.#o.manager.root;
    const previous = readAgentState(root);
    for (let wait = 250; !this.#stopped; wait = Math.min(wait * 2, 2000)) {
      try {
        this.#keeper = await LeaseKeeper.start(etcd, {
          ttl: this.#ttl, id: previous?.leaseId,
          onNewLease: (id, lost) => this.#newLease(id, lost),
          onError: (err) => this.#logError('lease renewal', err),
        });
        break;
      } catch (err) {
        this.#logError('taking the liveness lease', err);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    if (this.#stopped || this.#keeper === undefined) return;
    const resumed = previous?.leaseId === this.#keeper.id;
    this.#saveState(); // before saying so: the lease is in agent.json once the line is out
    this.#o.log(`overlay: host ${this.#hostId}, lease ${this.#keeper.id} (${resumed ? 'resumed' : 'new'}, TTL ${this.#ttl} s), etcd ${this.#o.settings.endpoints.join(',')}`);
    this.#watch = etcd.listAndWatch(this.#ks.prefix, {
      onReset: (kvs, revision) => {
        if (this.#listed) this.#o.log(`overlay: etcd compacted the history the watch needed; listed again at revision ${revision}`);
        this.#model.reset(kvs, revision, Date.now());
        this.#fullNext = true;
        this.#listed = true;
        this.#schedule(0);
      },
      onEvents: (events, revision) => {
        this.#model.apply(events, revision, Date.now());
        this.#schedule(DEBOUNCE_MS);
      },
      onError: (err) => this.#logError('watch', err),
    });
    this.#timers.push(setInterval(() => { this.#fullNext = true; this.#schedule(0); }, this.#o.resyncMs ?? 60_000));
    this.#timers.push(setInterval(() => { if (this.#localChanged()) this.#schedule(0); }, LOCAL_POLL_MS));
    this.#watchStore();
  }

  /**
   * Any process's write to the store (nsbox.db or its WAL: a `connect`, a CNI ADD, a `run`):
   * the local endpoints are looked at within STORE_SETTLE_MS, so a sandbox connected here is
   * published at once rather than at the next poll (which stays, for where inotify is not).
   */
  #watchStore(): void {
    let watcher: FSWatcher;
    try {
      watcher = watch(this.#o.manager.root, { persistent: false }, (_event, file) => {
        if (file === null || !file.startsWith(DB_FILE_NAME) || this.#storeCheck !== undefined) return;
        this.#storeCheck = setTimeout(() => {
          this.#storeCheck = undefined;
          if (this.#localChanged()) this.#schedule(0);
        }, STORE_SETTLE_MS);
      });
    } catch (err) {
      this.#logError('watching the store (a connect is then published within a second)', err);
      return;
    }
    watcher.on('error', (err) => this.#logError('watching the store', err));
    this.#storeWatcher = watcher;
  }

  #saveState(): void {
    if (this.#keeper === undefined) return;
    try {
      const now = readAgentState(this.#o.manager.root);
      if (now?.left === true && now.leaseId === this.#keeper.id) return; // `overlay leave` wrote it: kept for #newLease
      writeAgentState(this.#o.manager.root, { leaseId: this.#keeper.id, revision: this.#model.revision, ttl: this.#ttl });
    } catch (err) {
      this.#logError('saving the agent state', err);
    }
  }

  #newLease(id: string, lost: string): void {
    const state = readAgentState(this.#o.manager.root);
    if (state?.left === true && state.leaseId === lost) {
      this.#o.log(`overlay: lease ${lost} was revoked by \`overlay leave\`: stopping the overlay loop`);
      void this.#etcd?.revoke(id).catch(() => undefined);
      this.stop();
      return;
    }
    this.#o.log(`overlay: lease ${lost} was lost; keys put again on lease ${id}`);
    this.#published.clear();
    this.#saveState();
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#debounce !== undefined) {
      if (ms > 0) return; // one pending tick covers it
      clearTimeout(this.#debounce);
    }
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.#chain = this.#chain.then(() => this.#tick()).catch((err: unknown) => {
        this.#fullNext = true; // whatever half happened, the next tick looks at the kernel
        this.#logError('reconcile', err);
      });
    }, ms);
  }

  /** The local overlay networks, from the store. */
  #locals(): (LocalNetwork & { mode: 'l3' | 'l2'; vni: number; leases: { address: string; sandbox: string; mac: string }[] })[] {
    const networks = this.#o.manager.networks().filter((n) => n.driver === 'overlay' && n.config.overlay !== undefined);
    // each endpoint's MAC as its interface has it (given with --mac, else derived from the address): the sandbox records'
    const macs = new Map<string, string>();
    if (networks.some((n) => n.leases.length > 0)) {
      for (const { record } of this.#o.manager.sandboxes()) {
        for (const i of record.config.interfaces) if (i.network !== undefined && i.options.mac !== undefined) macs.set(`${record.key}\0${i.network}\0${i.dstName}`, i.options.mac.toLowerCase());
      }
    }
    return networks.flatMap((n) => {
      const o = n.config.overlay;
      if (n.driver !== 'overlay' || o === undefined) return [];
      return [{ name: n.name, hostId: o.hostId, underlay: o.underlay, block: o.block, mtu: n.config.mtu, owner: overlayOwner(), mode: o.mode, vni: o.vni, leases: n.leases.map((l) => ({ address: l.address, sandbox: l.sandbox, mac: macs.get(`${l.owner}\0${n.name}\0${l.ifname}`) ?? macFromIPv4(l.address) })) }];
    });
  }

  #localChanged(): boolean {
    let digest: string;
    try {
      digest = JSON.stringify(this.#locals());
    } catch {
      return false;
    }
    if (digest === this.#localDigest) return false;
    this.#localDigest = digest;
    return true;
  }

  async #tick(): Promise<void> {
    if (this.#stopped || !this.#listed || this.#etcd === undefined || this.#keeper === undefined) return;
    const etcd = this.#etcd;
    // networks seen in etcd and not here: joined
    if (this.#o.joinAll !== false) {
      const local = new Set(this.#o.manager.networks().map((n) => n.name));
      for (const net of this.#model.networks.keys()) {
        if (local.has(net) || hasLeft(this.#o.manager.root, net)) continue;
        try {
          await joinNetwork(this.#o.manager, etcd, this.#ks, this.#o.settings.endpoints, net, { underlay: this.#o.underlay });
          this.#joinFailures.delete(net);
          this.#o.log(`overlay: joined network ${net}`);
        } catch (err) {
          const why = (err as Error).message;
          if (this.#joinFailures.get(net) !== why) this.#o.log(`overlay: joining ${net}: ${why}`);
          this.#joinFailures.set(net, why);
        }
      }
    }
    const locals = this.#locals();
    // this host's devices and keys
    if (this.#underlay === undefined) this.#underlay = this.#o.underlay ?? await sourceAddressTo(this.#o.settings.endpoints[0]!).catch(() => undefined);
    const host: HostValue = { underlay: this.#underlay ?? locals[0]?.underlay ?? '', vtepMacs: {}, agentVersion: AGENT_VERSION, bootId: bootId() };
    // a full tick (first, re-list, resync, after an error) checks the devices and dumps the kernel;
    // one for watch events writes only what changed since the state last brought about (applyOverlayDelta)
    const full = this.#fullNext;
    this.#fullNext = false;
    for (const l of locals) {
      const d = this.#model.desired(l);
      if (d === undefined) continue;
      const applied = this.#applied.get(l.name);
      const vtepMac = !full && applied !== undefined ? applied.vtepMac : (await ensureOverlayDevices(d.network, d.local)).vtepMac;
      host.vtepMacs[l.name] = vtepMac;
      if (host.underlay === '') host.underlay = l.underlay;
    }
    const wanted = new Map<string, string>();
    if (host.underlay !== '') wanted.set(this.#ks.host(this.#hostId), JSON.stringify(host));
    for (const l of locals) {
      for (const lease of l.leases) {
        if (!lease.address.includes('.')) continue;
        wanted.set(this.#ks.endpoint(l.name, lease.address), JSON.stringify({ hostId: this.#hostId, mac: lease.mac, sandbox: lease.sandbox }));
      }
    }
    await this.#publish(wanted);
    // the data plane of each local network
    this.#model.expire(Date.now());
    for (const l of locals) {
      const d = this.#model.desired(l);
      if (d === undefined) continue;
      const applied = this.#applied.get(l.name);
      this.#applied.delete(l.name); // until this one is through
      const counts = (!full && applied !== undefined ? await applyOverlayDelta(applied.desired, d) : undefined) ?? await reconcileOverlay(d);
      this.#applied.set(l.name, { desired: d, vtepMac: host.vtepMacs[l.name] ?? '' });
      if (counts.added + counts.replaced + counts.removed > 0) {
        this.#o.log(`overlay: ${l.name}: ${counts.added} added, ${counts.replaced} replaced, ${counts.removed} removed (${d.peers.length} peers, ${d.endpoints.length} remote endpoints)`);
      }
    }
    // a departed host's grace ends: reconcile then
    const next = this.#model.expire(Date.now());
    if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer);
    if (next !== undefined) this.#graceTimer = setTimeout(() => this.#schedule(0), Math.max(0, next - Date.now()) + 10);
    this.ticks++;
    this.#saveState();
  }

  /** Put what differs from what etcd has of this host, delete this host's keys it should not have; all on the lease. */
  async #publish(wanted: Map<string, string>): Promise<void> {
    const etcd = this.#etcd!;
    const lease = this.#keeper!.id;
    // what etcd has of this host: the model's, and what was put since the model's revision
    const have = new Map<string, { value: string; lease: string }>();
    const mine = this.#model.hosts.get(this.#hostId);
    const hostKey = this.#ks.host(this.#hostId);
    if (mine !== undefined) have.set(hostKey, { value: JSON.stringify(mine), lease: this.#model.leases.get(hostKey) ?? '0' });
    for (const [net, eps] of this.#model.endpoints) {
      for (const [ip, e] of eps) {
        const key = this.#ks.endpoint(net, ip);
        if (e.hostId === this.#hostId) have.set(key, { value: JSON.stringify({ hostId: e.hostId, mac: e.mac, sandbox: e.sandbox }), lease: this.#model.leases.get(key) ?? '0' });
      }
    }
    for (const [key, p] of this.#published) {
      if (p.revision <= this.#model.revision) this.#published.delete(key);
      else if (p.value === '') have.delete(key);
      else have.set(key, p);
    }
    for (const [key, value] of wanted) {
      const h = have.get(key);
      if (h?.value === value && h.lease === lease) continue;
      const revision = this.#ks.parseKey(key)?.kind === 'endpoint' ? await this.#putEndpoint(key, value, lease, h?.value) : await etcd.put(key, value, { lease });
      if (revision !== undefined) this.#published.set(key, { value, lease, revision });
    }
    for (const [key, h] of have) {
      if (wanted.has(key)) continue;
      // an endpoint record only while it is still ours (it may have moved to another host meanwhile)
      if (this.#ks.parseKey(key)?.kind === 'endpoint') await etcd.deleteIf(key, h.value);
      else await etcd.delete(key);
      this.#published.set(key, { value: '', lease: '0', revision: this.#model.revision + 1 });
    }
  }

  /**
   * Put one of this host's endpoint records only over its own (or none): an address another
   * host's record holds (an L2 endpoint moving here before it left there, or a duplicate
   * --ip) is reported once and left to that host; its delete event brings the next tick.
   * Undefined: not put.
   */
  async #putEndpoint(key: string, value: string, lease: string, expected: string | undefined): Promise<number | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await this.#etcd!.putIf(key, value, { lease, expected });
      if (r.done) {
        this.#heldBy.delete(key);
        return r.revision;
      }
      let holder = '?';
      try {
        holder = (JSON.parse(r.existing?.value ?? '{}') as { hostId?: string }).hostId ?? '?';
      } catch {
        // not a record of ours: held all the same
      }
      if (r.existing !== undefined && holder !== this.#hostId) {
        if (this.#heldBy.get(key) !== holder) this.#o.log(`overlay: ${key} is held by host ${holder}: this host's endpoint is not published while it is`);
        this.#heldBy.set(key, holder);
        return undefined;
      }
      expected = r.existing?.value; // ours after all (the model was behind), or gone
    }
    return undefined;
  }

  /** Stop renewing (the lease then expires after its TTL unless the next agent resumes it) and watching; the data plane stays. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#keeper?.stop();
    this.#watch?.stop();
    for (const t of this.#timers) clearInterval(t);
    this.#storeWatcher?.close();
    if (this.#storeCheck !== undefined) clearTimeout(this.#storeCheck);
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer);
    this.#saveState();
    void this.#chain.finally(() => this.#etcd?.close());
  }
}
