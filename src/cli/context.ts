/**
 * Layer: cli.
 *
 * What every command needs: where state and namespaces live (--root / NSBOX_ROOT), the state
 * store, the per-sandbox lock, name checks, and re-adopting a recorded sandbox.
 */
import { join } from 'node:path';
import { existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { CliError, EXIT } from '../errors.js';
import { Sandbox, setBasePath, basePath, withFileLock, type Interface } from '../sandbox/index.js';
import { openDb, SandboxRecords, type Db, type SandboxRecord } from '../store/index.js';
import { Networks } from '../network/index.js';

export const DEFAULT_ROOT = '/var/lib/nsbox';
/** Where iproute2 looks for named namespaces; nsbox puts a symlink there for each sandbox. */
export const IPROUTE_NETNS_DIR = '/run/netns';

export interface GlobalOptions {
  root?: string;
  json?: boolean;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function checkSandboxName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new CliError(`invalid sandbox name ${JSON.stringify(name)}: 1 to 63 characters of letters, digits, '_', '.', '-', starting with a letter or digit`, 'NSBOX_ERR_USAGE', EXIT.USAGE);
  }
}

export class Context {
  readonly root: string;
  readonly json: boolean;
  #db: Db | undefined;
  #records: SandboxRecords | undefined;
  #networks: Networks | undefined;

  constructor(options: GlobalOptions) {
    this.root = options.root ?? process.env.NSBOX_ROOT ?? DEFAULT_ROOT;
    this.json = options.json === true;
    // The namespace files move with the root, so separate roots never see each other's.
    setBasePath(this.root === DEFAULT_ROOT ? '/run/nsbox' : join(this.root, 'run'));
  }

  #openDb(): Db {
    this.#db ??= openDb(this.root);
    return this.#db;
  }

  get records(): SandboxRecords {
    this.#records ??= new SandboxRecords(this.#openDb());
    return this.#records;
  }

  /** Networks and leases, in the same database. */
  get networks(): Networks {
    this.#networks ??= new Networks(this.#openDb());
    return this.#networks;
  }

  close(): void {
    this.#networks?.close();
    this.#networks = undefined;
    this.#db?.close();
    this.#db = undefined;
    this.#records = undefined;
  }

  keyOf(name: string): string {
    return join(basePath(), name);
  }

  linkPathOf(name: string): string {
    return join(IPROUTE_NETNS_DIR, name);
  }

  /** The record, or a not-found error naming what to do. */
  record(name: string): SandboxRecord {
    checkSandboxName(name);
    const rec = this.records.get(name);
    if (rec === undefined) throw new CliError(`no sandbox named ${JSON.stringify(name)} (see \`nsbox ls\`)`, 'NSBOX_ERR_NOT_FOUND', EXIT.NOT_FOUND);
    return rec;
  }

  /**
   * Cross-process locks in ROOT/locks: `NAME.lock` serialises work on a sandbox; `NAME.run` is
   * held by a `nsbox run` for its whole life (gc collects runs whose lock is free).
   */
  async #withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
    const res = await withFileLock(join(this.root, 'locks', file), fn);
    if (!res.locked) throw new Error('unreachable: a waiting lock always locks');
    return res.value;
  }

  async #tryLock<T>(file: string, fn: () => Promise<T>): Promise<T | undefined> {
    const res = await withFileLock(join(this.root, 'locks', file), fn, { wait: false });
    return res.locked ? res.value : undefined;
  }

  /** Hold the sandbox's lock while `fn` runs. */
  locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.#withLock(`${name}.lock`, fn);
  }

  /** Try the sandbox's lock without waiting; undefined when another process holds it (in use). */
  tryLocked<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
    return this.#tryLock(`${name}.lock`, fn);
  }

  runLocked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.#withLock(`${name}.run`, fn);
  }

  tryRunLocked<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
    return this.#tryLock(`${name}.run`, fn);
  }

  /** Make /run/netns/NAME point at the sandbox so `ip netns exec NAME` and `ip -n NAME` work. */
  linkForIproute(name: string): void {
    mkdirSync(IPROUTE_NETNS_DIR, { recursive: true, mode: 0o755 });
    const path = this.linkPathOf(name);
    const target = this.keyOf(name);
    if (existsSync(path) || isSymlink(path)) {
      if (isSymlink(path) && readlinkSync(path) === target) return;
      throw new CliError(`${path} already exists and was not made by nsbox; choose another name`, 'NSBOX_ERR_CONFLICT', EXIT.CONFLICT);
    }
    symlinkSync(target, path);
  }

  /** Remove /run/netns/NAME if it is nsbox's symlink to this sandbox. */
  unlinkForIproute(name: string): void {
    const path = this.linkPathOf(name);
    if (isSymlink(path) && readlinkSync(path) === this.keyOf(name)) unlinkSync(path);
  }

  /**
   * Adopt a recorded sandbox whose namespace is live, with its interfaces, routes and
   * gateways re-registered from the record (no kernel change, no ARP/NA).
   */
  async adopt(rec: SandboxRecord): Promise<{ sandbox: Sandbox; interfaces: Map<string, Interface> }> {
    const sandbox = await Sandbox.create(rec.key, { isRestore: true });
    try {
      const list = rec.config.interfaces.filter((i) => i.state === 'ready');
      const ifaces = await sandbox.restoreInterfaces(list.map((i) => ({
        srcName: i.srcName, dstPrefix: i.dstPrefix, dstName: i.dstName, options: { ...i.options, advertiseAddrNMsgs: 0 },
      })));
      const byDst = new Map<string, Interface>();
      for (const iface of ifaces) byDst.set(iface.dstName, iface);
      sandbox.restoreRoutes(rec.config.routes);
      if (rec.config.gateway) sandbox.restoreGateway(true, rec.config.gateway, '');
      if (rec.config.gatewayIPv6) sandbox.restoreGateway(false, rec.config.gatewayIPv6, '');
      return { sandbox, interfaces: byDst };
    } catch (err) {
      sandbox.close();
      throw err;
    }
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
