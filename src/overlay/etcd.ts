/**
 * Layer: overlay — the etcd v3 client the overlay's control plane uses (docs/overlay.md, "The
 * etcd layer"). Over @grpc/grpc-js with etcd's own protos (etcd-rpc.proto, compiled into
 * etcd-rpc.ts); nothing of nsbox below it, nothing above it here.
 *
 * What it offers, and why each is shaped so (research labs-overlay.md B2.1, B3.3):
 * - get/range (a prefix), each with the store revision it was read at; put; delete;
 *   createOnly: a txn `create_revision(key) == 0 → put` (flannel's claim: the loser learns it lost);
 *   putIf/deleteIf: the same with `value(key) == expected` (a record changed only by its holder);
 * - watch(prefix, fromRevision): one gRPC stream with `hasleader` metadata (a member without a
 *   leader cancels it instead of stalling), re-opened on any stream error from the revision
 *   after the last one seen, with a short backoff (100 ms → 1 s); a compaction past the
 *   revision asked for is reported (onCompacted), never skipped silently;
 * - listAndWatch: range, then watch from the next revision (no gap); on compaction, list again;
 * - LeaseKeeper: a lease kept alive on the SAME id every TTL/3 through errors and etcd restarts
 *   (etcd gives every lease a fresh TTL when a leader starts, so renewing the same id in time
 *   keeps its keys), granting a new one only when the server says the old one is gone (TTL ≤ 0);
 *   revoke.
 * - TLS with client certificates as options. Credentials are never logged or put in errors.
 * Unary calls carry `hasleader` too (a member that knows it has no leader answers UNAVAILABLE at
 * once) and are retried on UNAVAILABLE across the endpoints (round robin) until their deadline.
 * Idempotent ones (Range, Put, DeleteRange, Compact, LeaseTimeToLive, LeaseRevoke, a keep-alive)
 * also get a deadline per attempt and are retried when an attempt runs out: a proposal a
 * follower forwarded to a leader that just died is dropped, and the member never answers it
 * (measured: the first Put after SIGKILL of the leader hung to its 3 s deadline on a live member).
 */
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import { ETCD_RPC } from './etcd-rpc.js';

export interface EtcdTls {
  /** PEM of the CA that signed the members' certificates (default: the system's roots). */
  ca?: string | Buffer;
  /** PEM client certificate and its key, for members that require client certificates. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface EtcdOptions {
  /** Client URLs of the members: http://IP:PORT or https://IP:PORT (https needs `tls` or uses system roots). */
  endpoints: readonly string[];
  tls?: EtcdTls;
  /** Deadline of one unary call, retries included (default 3000 ms). */
  callTimeoutMs?: number;
  /**
   * Deadline of one attempt of an idempotent call, retried on another member after it (default
   * 1000 ms; at most callTimeoutMs). Non-idempotent calls (Txn, LeaseGrant) get callTimeoutMs whole.
   */
  attemptTimeoutMs?: number;
}

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  /** The lease the key is attached to ('0': none). */
  lease: string;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
}

export class EtcdError extends Error {
  readonly grpcCode: number | undefined;
  constructor(message: string, grpcCode?: number) {
    super(message);
    this.name = 'EtcdError';
    this.grpcCode = grpcCode;
  }
}

/* The wire shapes proto-loader gives (keepCase, longs as strings, bytes as Buffers). */
interface RawKv { key: Buffer; value: Buffer; create_revision: string; mod_revision: string; version: string; lease: string }
interface RawHeader { revision: string }
interface RawWatchResponse {
  header?: RawHeader; watch_id: string; created: boolean; canceled: boolean; compact_revision: string; cancel_reason: string;
  events: { type: 'PUT' | 'DELETE'; kv?: RawKv }[];
}
type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;
type ServiceClient = grpc.Client & Record<string, Unary & ((md: grpc.Metadata, opts?: grpc.CallOptions) => grpc.ClientDuplexStream<unknown, unknown>)>;

const LOAD_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

/** Everything strictly after `prefix` in key order: etcd's range_end of a prefix. */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = b.subarray(0, i + 1);
      end[i] = b[i]! + 1;
      return end;
    }
  }
  return Buffer.from([0]); // every key
}

function toKv(raw: RawKv): KeyValue {
  return {
    key: raw.key.toString(), value: raw.value.toString(), createRevision: Number(raw.create_revision),
    modRevision: Number(raw.mod_revision), version: Number(raw.version), lease: raw.lease,
  };
}

/** The grpc target and credentials of the endpoints (all http or all https; IP literals). */
function targetOf(options: EtcdOptions): { target: string; creds: grpc.ChannelCredentials } {
  if (options.endpoints.length === 0) throw new TypeError('etcd: no endpoints given');
  const urls = options.endpoints.map((e) => {
    let u: URL;
    try {
      u = new URL(e);
    } catch {
      throw new TypeError(`etcd: endpoint ${JSON.stringify(e)} is not a URL (http://IP:PORT or https://IP:PORT)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`etcd: endpoint ${JSON.stringify(e)}: only http and https`);
    return u;
  });
  const secure = urls[0]!.protocol === 'https:';
  if (urls.some((u) => (u.protocol === 'https:') !== secure)) throw new TypeError('etcd: endpoints mix http and https');
  const hosts = urls.map((u) => `${u.hostname}:${u.port || '2379'}`);
  const v6 = hosts.every((h) => h.startsWith('['));
  const literal = urls.every((u) => /^[\d.]+$/.test(u.hostname)) || v6;
  const target = literal ? `${v6 ? 'ipv6' : 'ipv4'}:${hosts.join(',')}` : `dns:${hosts[0]}`;
  if (!literal && hosts.length > 1) throw new TypeError('etcd: several endpoints must be IP addresses (one DNS name may stand for them all)');
  const tls = options.tls;
  const buf = (v: string | Buffer | undefined): Buffer | null => (v === undefined ? null : Buffer.from(v));
  const creds = secure ? grpc.credentials.createSsl(buf(tls?.ca), buf(tls?.key), buf(tls?.cert)) : grpc.credentials.createInsecure();
  return { target, creds };
}

const RETRYABLE = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);
/** Calls whose repetition leaves the store as one would (a Put's value is the same; a revision may be added). */
const IDEMPOTENT = new Set(['Range', 'Put', 'DeleteRange', 'Compact', 'LeaseTimeToLive', 'LeaseRevoke']);

/** etcd's WithRequireLeader: a member without a leader answers UNAVAILABLE instead of waiting. */
function leaderMetadata(): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('hasleader', 'true');
  return md;
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Etcd {
  readonly #kv: ServiceClient;
  readonly #watch: ServiceClient;
  readonly #lease: ServiceClient;
  readonly #timeout: number;
  readonly #attempt: number;
  readonly #watchers = new Set<Watcher>();
  #closed = false;

  private constructor(options: EtcdOptions) {
    const { target, creds } = targetOf(options);
    this.#timeout = options.callTimeoutMs ?? 3000;
    this.#attempt = Math.min(options.attemptTimeoutMs ?? 1000, this.#timeout);
    if (!(this.#timeout > 0) || !(this.#attempt > 0)) throw new TypeError(`etcd: callTimeoutMs and attemptTimeoutMs must be > 0 (got ${this.#timeout}, ${this.#attempt})`);
    const pkg = grpc.loadPackageDefinition(fromJSON(ETCD_RPC as Parameters<typeof fromJSON>[0], LOAD_OPTIONS)) as unknown as {
      etcdserverpb: Record<'KV' | 'Watch' | 'Lease', new (t: string, c: grpc.ChannelCredentials, o: grpc.ChannelOptions) => ServiceClient>;
    };
    // one channel for all three services; reconnect fast (the agent must be back within a TTL)
    const channelOptions: grpc.ChannelOptions = {
      'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 3000,
      'grpc.keepalive_permit_without_calls': 1,
    };
    this.#kv = new pkg.etcdserverpb.KV(target, creds, channelOptions);
    const channelOverride = this.#kv.getChannel() as grpc.Channel;
    this.#watch = new pkg.etcdserverpb.Watch(target, creds, { ...channelOptions, channelOverride });
    this.#lease = new pkg.etcdserverpb.Lease(target, creds, { ...channelOptions, channelOverride });
  }

  /** A client of the cluster at `options.endpoints` (connects lazily). */
  static connect(options: EtcdOptions): Etcd {
    return new Etcd(options);
  }

  /**
   * One unary call, retried on UNAVAILABLE (another endpoint, a restart, a member without a
   * leader) until the deadline; an idempotent one also after an attempt's own deadline.
   */
  async #call<T>(client: ServiceClient, method: string, req: unknown): Promise<T> {
    const deadline = Date.now() + this.#timeout;
    const perAttempt = IDEMPOTENT.has(method) ? this.#attempt : this.#timeout;
    let wait = 50;
    for (;;) {
      if (this.#closed) throw new EtcdError(`etcd ${method}: the client is closed`);
      const attemptDeadline = Math.min(deadline, Date.now() + perAttempt);
      try {
        return await new Promise<T>((resolve, reject) => {
          client[method]!(req, leaderMetadata(), { deadline: attemptDeadline }, (err, res) => (err ? reject(err) : resolve(res as T)));
        });
      } catch (err) {
        const e = err as grpc.ServiceError;
        const retry = e.code === grpc.status.UNAVAILABLE || (e.code === grpc.status.DEADLINE_EXCEEDED && attemptDeadline < deadline);
        if (retry && RETRYABLE.has(e.code) && Date.now() + wait < deadline) {
          if (e.code === grpc.status.UNAVAILABLE) await sleep(wait); // an attempt that ran out has waited already
          wait = Math.min(wait * 2, 500);
          continue;
        }
        throw new EtcdError(`etcd ${method}: ${e.details || e.message}`, e.code);
      }
    }
  }

  /** One key and the revision it was read at. */
  async get(key: string): Promise<{ kv: KeyValue | undefined; revision: number }> {
    const res = await this.#call<{ header: RawHeader; kvs: RawKv[] }>(this.#kv, 'Range', { key: Buffer.from(key) });
    return { kv: res.kvs[0] === undefined ? undefined : toKv(res.kvs[0]), revision: Number(res.header.revision) };
  }

  /** Every key under `prefix` (in key order), at `revision` (default: the latest), and the revision read. */
  async range(prefix: string, options: { revision?: number } = {}): Promise<{ kvs: KeyValue[]; revision: number }> {
    const res = await this.#call<{ header: RawHeader; kvs: RawKv[] }>(this.#kv, 'Range', {
      key: Buffer.from(prefix), range_end: prefixEnd(prefix), revision: String(options.revision ?? 0),
    });
    return { kvs: res.kvs.map(toKv), revision: Number(res.header.revision) };
  }

  /** Put a key (on `lease` when given); the revision of the write. */
  async put(key: string, value: string, options: { lease?: string } = {}): Promise<number> {
    const res = await this.#call<{ header: RawHeader }>(this.#kv, 'Put', { key: Buffer.from(key), value: Buffer.from(value), lease: options.lease ?? '0' });
    return Number(res.header.revision);
  }

  /**
   * Create `key` only if it does not exist (txn: create_revision == 0 → put). `created` false:
   * someone holds it, and `existing` is what they wrote (read in the same transaction).
   * With `unchangedSince`, also only if no key under its prefix was written after its revision
   * (mod_revision of every key in the range ≤ it): a choice made from a range read at that
   * revision still holds. `created` false with no `existing`: one was written meanwhile (read
   * again and choose again).
   */
  async createOnly(key: string, value: string, options: { lease?: string; unchangedSince?: { prefix: string; revision: number } } = {}): Promise<{ created: boolean; revision: number; existing?: KeyValue }> {
    const k = Buffer.from(key);
    const since = options.unchangedSince;
    const unchanged = since === undefined ? [] : [{ result: 'LESS', target: 'MOD', key: Buffer.from(since.prefix), range_end: prefixEnd(since.prefix), mod_revision: String(since.revision + 1) }];
    const res = await this.#call<{ header: RawHeader; succeeded: boolean; responses: { response_range?: { kvs: RawKv[] } }[] }>(this.#kv, 'Txn', {
      compare: [{ result: 'EQUAL', target: 'CREATE', key: k, create_revision: '0' }, ...unchanged],
      success: [{ request_put: { key: k, value: Buffer.from(value), lease: options.lease ?? '0' } }],
      failure: [{ request_range: { key: k } }],
    });
    const existing = res.responses[0]?.response_range?.kvs[0];
    return { created: res.succeeded, revision: Number(res.header.revision), ...(existing === undefined ? {} : { existing: toKv(existing) }) };
  }

  /**
   * Put `key` only if its value is `expected` now (undefined: only if it does not exist). `done`
   * false: it was not, and `existing` is what it holds (read in the same transaction).
   */
  async putIf(key: string, value: string, options: { lease?: string; expected: string | undefined }): Promise<{ done: boolean; revision: number; existing?: KeyValue }> {
    if (options.expected === undefined) {
      const r = await this.createOnly(key, value, options);
      return { done: r.created, revision: r.revision, ...(r.existing === undefined ? {} : { existing: r.existing }) };
    }
    const k = Buffer.from(key);
    const res = await this.#call<{ header: RawHeader; succeeded: boolean; responses: { response_range?: { kvs: RawKv[] } }[] }>(this.#kv, 'Txn', {
      compare: [{ result: 'EQUAL', target: 'VALUE', key: k, value: Buffer.from(options.expected) }],
      success: [{ request_put: { key: k, value: Buffer.from(value), lease: options.lease ?? '0' } }],
      failure: [{ request_range: { key: k } }],
    });
    const existing = res.responses[0]?.response_range?.kvs[0];
    return { done: res.succeeded, revision: Number(res.header.revision), ...(existing === undefined ? {} : { existing: toKv(existing) }) };
  }

  /** Delete `key` only if its value is `expected` now; whether it was deleted. */
  deleteIf(key: string, expected: string): Promise<boolean> {
    return this.#deleteWhen(key, [{ result: 'EQUAL', target: 'VALUE', key: Buffer.from(key), value: Buffer.from(expected) }]);
  }

  /**
   * Delete `key` only if it is still as written at `modRevision` (txn: mod_revision == it) and,
   * with `whileAbsent`, that key does not exist; whether it was deleted.
   */
  deleteIfUnchanged(key: string, modRevision: number, options: { whileAbsent?: string } = {}): Promise<boolean> {
    const absent = options.whileAbsent === undefined ? [] : [{ result: 'EQUAL', target: 'CREATE', key: Buffer.from(options.whileAbsent), create_revision: '0' }];
    return this.#deleteWhen(key, [{ result: 'EQUAL', target: 'MOD', key: Buffer.from(key), mod_revision: String(modRevision) }, ...absent]);
  }

  /** Delete `key` in a transaction when every comparison holds; whether it was deleted. */
  async #deleteWhen(key: string, compare: readonly object[]): Promise<boolean> {
    const res = await this.#call<{ succeeded: boolean }>(this.#kv, 'Txn', { compare, success: [{ request_delete_range: { key: Buffer.from(key) } }], failure: [] });
    return res.succeeded;
  }

  /** Delete a key, or with `prefix` every key under it; how many were deleted. */
  async delete(key: string, options: { prefix?: boolean } = {}): Promise<number> {
    const res = await this.#call<{ deleted: string }>(this.#kv, 'DeleteRange', { key: Buffer.from(key), ...(options.prefix ? { range_end: prefixEnd(key) } : {}) });
    return Number(res.deleted);
  }

  /** Compact the history up to `revision` (older revisions can no longer be read or watched). */
  async compact(revision: number): Promise<void> {
    await this.#call(this.#kv, 'Compact', { revision: String(revision), physical: true });
  }

  /** Grant a lease of `ttl` seconds; its id. */
  async grant(ttl: number): Promise<string> {
    const res = await this.#call<{ ID: string; error: string }>(this.#lease, 'LeaseGrant', { TTL: String(ttl), ID: '0' });
    if (res.error) throw new EtcdError(`etcd LeaseGrant: ${res.error}`);
    return res.ID;
  }

  /** The seconds a lease has left (≤ 0: it is gone). */
  async timeToLive(id: string): Promise<number> {
    const res = await this.#call<{ TTL: string }>(this.#lease, 'LeaseTimeToLive', { ID: id, keys: false });
    return Number(res.TTL);
  }

  /** Renew a lease once (one LeaseKeepAlive exchange); the TTL the server gave it (≤ 0: gone). */
  keepAliveOnce(id: string): Promise<number> {
    return new Promise((resolve, reject) => {
      // one attempt's deadline: LeaseKeeper retries every 250 ms, on the next member
      const stream = this.#lease.LeaseKeepAlive!(leaderMetadata(), { deadline: Date.now() + this.#attempt });
      let done = false;
      stream.on('data', (res: { TTL: string }) => {
        if (done) return;
        done = true;
        stream.end();
        stream.cancel();
        resolve(Number(res.TTL));
      });
      stream.on('error', (err: grpc.ServiceError) => {
        if (done) return;
        done = true;
        reject(new EtcdError(`etcd LeaseKeepAlive: ${err.details || err.message}`, err.code));
      });
      stream.on('end', () => {
        if (!done) {
          done = true;
          reject(new EtcdError('etcd LeaseKeepAlive: the stream ended without an answer'));
        }
      });
      stream.write({ ID: id });
    });
  }

  /** Revoke a lease: etcd deletes every key attached to it in one revision. Gone already is success. */
  async revoke(id: string): Promise<void> {
    try {
      await this.#call(this.#lease, 'LeaseRevoke', { ID: id });
    } catch (err) {
      if (err instanceof EtcdError && err.grpcCode === grpc.status.NOT_FOUND) return;
      throw err;
    }
  }

  /**
   * Watch every key under `prefix` from `fromRevision` (inclusive) on, until `stop()`. See
   * Watcher for the events; the stream asks for a leader and re-opens itself after errors.
   */
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    const w = new Watcher(this.#watch, prefix, fromRevision, handlers, () => this.#watchers.delete(w));
    this.#watchers.add(w);
    w.start();
    return w;
  }

  /**
   * List `prefix`, then watch from the revision after the list: `onReset` gets the whole state
   * (first, and again after a compaction made the watch lose its place), `onEvents` each change
   * after it. With `resumeRevision` (what a restarted agent saw last) it watches from there first
   * and lists only if that history was compacted.
   */
  listAndWatch(prefix: string, handlers: ListWatchHandlers, options: { resumeRevision?: number } = {}): ListWatch {
    return new ListWatch(this, prefix, handlers, options.resumeRevision);
  }

  /** Stop every watch and close the channel. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of [...this.#watchers]) w.stop();
    this.#kv.close();
    this.#watch.close();
    this.#lease.close();
  }
}

export interface WatchHandlers {
  /** Changes of one revision (or more), in order. */
  onEvents(events: WatchEvent[], revision: number): void;
  /** The history from the revision asked for is compacted (up to `compactRevision`): the watch has stopped; list again. */
  onCompacted?(compactRevision: number): void;
  /** A stream error; the watch re-opens by itself (this is for logs and tests). */
  onError?(err: Error): void;
}

/** One watch stream over a prefix, re-opened from the next revision after errors. */
export class Watcher extends EventEmitter {
  readonly #client: ServiceClient;
  readonly #prefix: string;
  readonly #handlers: WatchHandlers;
  readonly #onStop: () => void;
  #next: number;
  #stream: grpc.ClientDuplexStream<unknown, unknown> | undefined;
  #stopped = false;
  #backoff = 100;

  constructor(client: ServiceClient, prefix: string, fromRevision: number, handlers: WatchHandlers, onStop: () => void) {
    super();
    this.#client = client;
    this.#prefix = prefix;
    this.#next = fromRevision;
    this.#handlers = handlers;
    this.#onStop = onStop;
  }

  /** The first revision not delivered yet. */
  get nextRevision(): number {
    return this.#next;
  }

  start(): void {
    if (this.#stopped) return;
    const md = new grpc.Metadata();
    md.set('hasleader', 'true'); // etcd's WithRequireLeader
    const stream = this.#client.Watch!(md);
    this.#stream = stream;
    let ended = false;
    const again = (err: Error): void => {
      if (ended) return;
      ended = true;
      stream.cancel();
      if (this.#stopped) return;
      this.#handlers.onError?.(err);
      setTimeout(() => this.start(), this.#backoff).unref();
      this.#backoff = Math.min(this.#backoff * 2, 1000);
    };
    stream.on('data', (raw: RawWatchResponse) => {
      if (ended || this.#stopped) return;
      if (raw.created) this.#backoff = 100;
      if (raw.canceled) {
        ended = true;
        stream.cancel();
        const compacted = Number(raw.compact_revision);
        if (compacted > 0) {
          this.#stopped = true;
          this.#onStop();
          this.#handlers.onCompacted?.(compacted);
          return;
        }
        ended = false;
        again(new EtcdError(`etcd watch canceled: ${raw.cancel_reason || 'no reason given'}`));
        return;
      }
      if (raw.events.length === 0) return;
      const events = raw.events.filter((e) => e.kv !== undefined).map((e) => ({ type: e.type === 'DELETE' ? 'delete' as const : 'put' as const, kv: toKv(e.kv!) }));
      const last = events.reduce((m, e) => Math.max(m, e.kv.modRevision), 0);
      if (last > 0) this.#next = last + 1;
      this.#handlers.onEvents(events, last);
    });
    stream.on('error', (err: grpc.ServiceError) => again(new EtcdError(`etcd watch: ${err.details || err.message}`, err.code)));
    stream.on('end', () => again(new EtcdError('etcd watch: the stream ended')));
    stream.write({ create_request: { key: Buffer.from(this.#prefix), range_end: prefixEnd(this.#prefix), start_revision: String(this.#next) } });
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stream?.cancel();
    this.#onStop();
  }
}

export interface ListWatchHandlers {
  /** The whole state under the prefix at `revision` (first, and after a compaction). */
  onReset(kvs: KeyValue[], revision: number): void;
  onEvents(events: WatchEvent[], revision: number): void;
  onError?(err: Error): void;
}

/** list + watch with re-list on compaction (flannel's resyncWatch). */
export class ListWatch {
  readonly #etcd: Etcd;
  readonly #prefix: string;
  readonly #handlers: ListWatchHandlers;
  #watcher: Watcher | undefined;
  #stopped = false;
  /** How many times the state was listed (1 + one per compaction). */
  lists = 0;

  constructor(etcd: Etcd, prefix: string, handlers: ListWatchHandlers, resumeRevision: number | undefined) {
    this.#etcd = etcd;
    this.#prefix = prefix;
    this.#handlers = handlers;
    if (resumeRevision === undefined) void this.#list();
    else this.#watchFrom(resumeRevision);
  }

  /** The first revision not delivered yet (undefined before the first list answered). */
  get nextRevision(): number | undefined {
    return this.#watcher?.nextRevision;
  }

  async #list(): Promise<void> {
    for (let wait = 100; !this.#stopped; wait = Math.min(wait * 2, 1000)) {
      try {
        const { kvs, revision } = await this.#etcd.range(this.#prefix);
        if (this.#stopped) return;
        this.lists++;
        this.#handlers.onReset(kvs, revision);
        this.#watchFrom(revision + 1);
        return;
      } catch (err) {
        this.#handlers.onError?.(err as Error);
        await sleep(wait);
      }
    }
  }

  #watchFrom(revision: number): void {
    this.#watcher = this.#etcd.watch(this.#prefix, revision, {
      onEvents: (events, rev) => this.#handlers.onEvents(events, rev),
      onCompacted: () => void this.#list(),
      onError: (err) => this.#handlers.onError?.(err),
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#watcher?.stop();
  }
}

export interface LeaseKeeperOptions {
  /** Seconds. */
  ttl: number;
  /** A lease id held before (a restarted agent's): kept if the server still has it. */
  id?: string;
  /** A new lease replaced a lost one: the caller puts its keys again on it. */
  onNewLease?(id: string, lost: string): void;
  /** A renewal failed (it is retried on the same id). */
  onError?(err: Error): void;
}

/**
 * A lease kept alive on the same id (research B2.1): renewed every TTL/3; a failed renewal is
 * retried every 250 ms on the same id, whatever the outage; a new lease is granted only when
 * the server answers that the id is gone (TTL ≤ 0).
 */
export class LeaseKeeper {
  readonly #etcd: Etcd;
  readonly #options: LeaseKeeperOptions;
  #id = '0';
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Renewals answered (for status and tests). */
  renewals = 0;

  private constructor(etcd: Etcd, options: LeaseKeeperOptions) {
    if (!Number.isInteger(options.ttl) || options.ttl < 1) throw new TypeError(`lease TTL must be a whole number of seconds ≥ 1, not ${options.ttl}`);
    this.#etcd = etcd;
    this.#options = options;
  }

  /** Resume `options.id` if the server still has it, else grant a new lease; then keep it alive. */
  static async start(etcd: Etcd, options: LeaseKeeperOptions): Promise<LeaseKeeper> {
    const k = new LeaseKeeper(etcd, options);
    // LeaseTimeToLive answers whole seconds, rounded down: 0 is a lease with less than a second
    // left (-1 one that is gone), so it is renewed at once rather than taken for lost.
    if (options.id !== undefined && options.id !== '0' && (await etcd.timeToLive(options.id)) >= 0 && (await etcd.keepAliveOnce(options.id)) > 0) k.#id = options.id;
    else k.#id = await etcd.grant(options.ttl);
    k.#schedule(k.#interval());
    return k;
  }

  get id(): string {
    return this.#id;
  }

  #interval(): number {
    return (this.#options.ttl * 1000) / 3;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#renew(), ms);
  }

  async #renew(): Promise<void> {
    if (this.#stopped) return;
    try {
      const ttl = await this.#etcd.keepAliveOnce(this.#id);
      if (this.#stopped) return;
      if (ttl <= 0) {
        const lost = this.#id;
        this.#id = await this.#etcd.grant(this.#options.ttl);
        this.#options.onNewLease?.(this.#id, lost);
      } else {
        this.renewals++;
      }
      this.#schedule(this.#interval());
    } catch (err) {
      this.#options.onError?.(err as Error);
      this.#schedule(Math.min(250, this.#interval()));
    }
  }

  /** Stop renewing (the lease then expires after its TTL: what a dead host looks like). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  /** Stop and revoke: every key on the lease goes at once (`nsbox overlay leave`). */
  async revoke(): Promise<void> {
    this.stop();
    await this.#etcd.revoke(this.#id);
  }
}
