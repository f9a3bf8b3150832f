/**
 * Layer: managed.
 *
 * One nsbox state root: where the database, the locks and the namespace files live
 * (`root`, `NSBOX_ROOT`, default /var/lib/nsbox), the store opened on first use, the
 * per-sandbox locks and the names lock, sandbox names and keys, the /run/netns symlinks that
 * make sandboxes visible to iproute2, and the warnings a command has to say once.
 *
 * A root is a host (docs/overlay.md, "Roots as hosts"): run under `nsenter --net=H`, the
 * network namespace nsbox runs in is the host's, the root its state. Its names in places every
 * root of the machine shares (/run/netns, /etc/netns) are the sandbox's name, unless the root
 * has a host name (`--host`, NSBOX_HOST, kept in ROOT/host from its first use on): then they
 * are NAME@HOST. '@' is never in a sandbox name, so two roots with different host names (or
 * one with and one without) never collide there.
 */
import { join, resolve } from 'node:path';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { NsboxError } from '../errors.js';
import { basePath, setBasePath, withFileLock, withFileLockSync } from '../sandbox/index.js';
import { LabRecords, openDb, PortRecords, SandboxRecords, type Db, type SandboxRecord } from '../store/index.js';
import { Networks, checkName } from '../network/index.js';
import { pausePoint } from './test-hooks.js';
import type { ForwardFinding, HostChange } from '../firewall/index.js';

export const DEFAULT_ROOT = '/var/lib/nsbox';

/**
 * The state root's absolute path: `root` (--root), else NSBOX_ROOT, else DEFAULT_ROOT. An
 * empty NSBOX_ROOT is an unset one (a runtime passing the variable on without a value), and a
 * relative one is taken from the working directory.
 */
export function stateRootDir(root?: string): string {
  return resolve(root ?? (process.env.NSBOX_ROOT || DEFAULT_ROOT));
}
/** Where iproute2 looks for named namespaces; nsbox puts a symlink there for each sandbox. */
export const IPROUTE_NETNS_DIR = '/run/netns';

/** The file in a root that holds its host name. */
const HOST_FILE = 'host';
const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** A lab's name (src/lab/schema.ts has the same rule for the file's `lab:`): it names ROOT/labs/LAB and a lock file. */
const LAB_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export interface RootOptions {
  /** The state directory (default NSBOX_ROOT, else /var/lib/nsbox). */
  root?: string;
  /**
   * The root's host name (default NSBOX_HOST): its sandboxes appear in /run/netns and
   * /etc/netns as NAME@HOST. Kept in ROOT/host on first use; a root keeps its name for good.
   */
  host?: string;
}

/** A host name checked: what a sandbox name may be (TypeError otherwise). */
export function checkHostName(host: string): string {
  if (typeof host !== 'string' || !HOST_RE.test(host)) {
    throw new TypeError(`invalid host name ${JSON.stringify(host)}: 1 to 63 characters of letters, digits, '_', '.', '-', starting with a letter or digit`);
  }
  return host;
}

/** A lab name checked before it names a file (TypeError otherwise: '..', '/', NUL, overlong never reach a path). */
export function checkLabName(lab: string): string {
  if (typeof lab !== 'string' || !LAB_RE.test(lab)) {
    throw new TypeError(`invalid lab name ${JSON.stringify(lab.length > 80 ? `${lab.slice(0, 80)}…` : lab)}: 1 to 63 letters, digits, '-' or '_', starting with a letter or digit`);
  }
  return lab;
}

/** A lock file's name: one path component, never '..', '/' or NUL (a name that would escape ROOT/locks is a bug above). */
function lockPath(dir: string, file: string): string {
  if (file.includes('/') || file.includes('\0') || file === '.' || file === '..' || file.length > 255) {
    throw new NsboxError(`refusing lock file name ${JSON.stringify(file)}: not one file name in ${join(dir, 'locks')}`, 'NSBOX_ERR_USAGE');
  }
  return join(dir, 'locks', file);
}

export class StateRoot {
  readonly dir: string;
  #db: Db | undefined;
  #records: SandboxRecords | undefined;
  #ports: PortRecords | undefined;
  #labs: LabRecords | undefined;
  #networks: Networks | undefined;
  readonly #warnings = new Set<string>();
  readonly #givenHost: string | undefined;
  #host: { name: string | undefined } | undefined;

  constructor(options: RootOptions = {}) {
    this.dir = stateRootDir(options.root);
    const given = options.host ?? (process.env.NSBOX_HOST || undefined);
    this.#givenHost = given === undefined ? undefined : checkHostName(given);
    // The namespace files move with the root, so separate roots never see each other's.
    setBasePath(this.dir === DEFAULT_ROOT ? '/run/nsbox' : join(this.dir, 'run'));
    // a name given is checked against the root's (and kept by it) at once, whatever the command
    if (this.#givenHost !== undefined) void this.host;
  }

  #openDb(): Db {
    this.#db ??= openDb(this.dir);
    return this.#db;
  }

  get records(): SandboxRecords {
    this.#records ??= new SandboxRecords(this.#openDb());
    return this.#records;
  }

  /** Published ports, in the same database. */
  get ports(): PortRecords {
    this.#ports ??= new PortRecords(this.#openDb());
    return this.#ports;
  }

  /** Labs and their active faults, in the same database. */
  get labs(): LabRecords {
    this.#labs ??= new LabRecords(this.#openDb());
    return this.#labs;
  }

  /** Networks and leases, in the same database. */
  get networks(): Networks {
    this.#networks ??= new Networks(this.#openDb(), { pause: pausePoint });
    return this.#networks;
  }

  /** Host-wide settings the networks changed so far (nothing when they were never opened). */
  takeHostChanges(): HostChange[] {
    return this.#networks?.takeHostChanges() ?? [];
  }

  /** Other firewalls' forward chains found dropping the traffic of networks created so far. */
  takeForwardFindings(): ForwardFinding[] {
    return this.#networks?.takeForwardFindings() ?? [];
  }

  /** Note something the caller should say once (the same text twice is said once). */
  warn(text: string): void {
    this.#warnings.add(text);
  }

  /** The warnings noted since the last call. */
  takeWarnings(): string[] {
    const out = [...this.#warnings];
    this.#warnings.clear();
    return out;
  }

  /** Close the database and the host handle; they open again on next use. */
  close(): void {
    this.#networks?.close();
    this.#networks = undefined;
    this.#db?.close();
    this.#db = undefined;
    this.#records = undefined;
    this.#ports = undefined;
    this.#labs = undefined;
  }

  /**
   * The root's host name, or undefined. The first use with a name given writes ROOT/host (only
   * while the root has no sandbox: their names outside the root were made without it); a name
   * given later must be the same one (NSBOX_ERR_CONFLICT otherwise).
   */
  get host(): string | undefined {
    this.#host ??= { name: this.#resolveHost() };
    return this.#host.name;
  }

  #resolveHost(): string | undefined {
    const file = join(this.dir, HOST_FILE);
    let kept: string | undefined;
    try {
      kept = readFileSync(file, 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const given = this.#givenHost;
    if (kept !== undefined) {
      if (given !== undefined && given !== kept) {
        throw new NsboxError(`state root ${this.dir} is host ${JSON.stringify(kept)}, not ${JSON.stringify(given)}: drop --host / NSBOX_HOST, or use another --root`, 'NSBOX_ERR_CONFLICT');
      }
      return checkHostName(kept);
    }
    if (given === undefined) return undefined;
    if (this.records.list().length > 0) {
      throw new NsboxError(`state root ${this.dir} already has sandboxes named without a host; a root gets its host name (--host / NSBOX_HOST) before its first sandbox: use another --root for host ${JSON.stringify(given)}`, 'NSBOX_ERR_CONFLICT');
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${given}\n`, { mode: 0o600, flag: 'wx' });
    return given;
  }

  /** A sandbox's name where every root of the machine looks (/run/netns, /etc/netns): NAME, or NAME@HOST. */
  sharedName(name: string): string {
    const host = this.host;
    return host === undefined ? name : `${name}@${host}`;
  }

  /** The netns file of a sandbox name. */
  keyOf(name: string): string {
    return join(basePath(), name);
  }

  /** The sandbox name behind a key of this root (a lease owner), or the key itself. */
  nameOf(key: string): string {
    const dir = `${basePath()}/`;
    return key.startsWith(dir) ? key.slice(dir.length) : key;
  }

  /** The record, or a not-found error naming what to do. */
  record(name: string): SandboxRecord {
    checkName('sandbox', name);
    const rec = this.records.get(name);
    if (rec === undefined) throw new NsboxError(`no sandbox named ${JSON.stringify(name)} (see \`nsbox ls\`)`, 'NSBOX_ERR_NOT_FOUND');
    return rec;
  }

  /**
   * Cross-process locks in ROOT/locks: `NAME.lock` serialises work on a sandbox; `NAME.run` is
   * held by a `nsbox run` for its whole life (gc collects runs whose lock is free);
   * `_names.lock` (no sandbox name starts with `_`) serialises the names files (managed/names.ts);
   * `_lab.LAB.lock` serialises the changes to a lab (src/lab/).
   */
  async #withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
    const res = await withFileLock(lockPath(this.dir, file), fn);
    if (!res.locked) throw new Error('unreachable: a waiting lock always locks');
    return res.value;
  }

  async #tryLock<T>(file: string, fn: () => Promise<T>): Promise<T | undefined> {
    const res = await withFileLock(lockPath(this.dir, file), fn, { wait: false });
    return res.locked ? res.value : undefined;
  }

  /** Hold the sandbox's lock while `fn` runs. */
  async locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    checkName('sandbox', name); // before its lock file is made: an invalid name leaves nothing behind
    return this.#withLock(`${name}.lock`, fn);
  }

  /** Try the sandbox's lock without waiting; undefined when another process holds it (in use). */
  tryLocked<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
    return this.#tryLock(`${name}.lock`, fn);
  }

  /** Hold the lab's lock while `fn` runs (an `up`, a `down`, a fault applied or healed). */
  async labLocked<T>(lab: string, fn: () => Promise<T>): Promise<T> {
    return this.#withLock(`_lab.${checkLabName(lab)}.lock`, fn);
  }

  /** Try the lab's lock without waiting; undefined when another process holds it (an `up` is running). */
  async tryLabLocked<T>(lab: string, fn: () => Promise<T>): Promise<T | undefined> {
    return this.#tryLock(`_lab.${checkLabName(lab)}.lock`, fn);
  }

  /** The directory of a lab's files (its supervisor's socket and logs): ROOT/labs/LAB. */
  labDir(lab: string): string {
    return join(this.dir, 'labs', checkLabName(lab));
  }

  /** Hold the run lock of a `nsbox run` sandbox for its whole life. */
  async runLocked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    checkName('sandbox', name);
    return this.#withLock(`${name}.run`, fn);
  }

  /**
   * Run the synchronous `fn` holding the names lock; taken last (never while waiting for another
   * lock) and never held across an await, so it cannot deadlock.
   */
  namesLocked<T>(fn: () => T): T {
    return withFileLockSync(join(this.dir, 'locks', '_names.lock'), fn);
  }

  /** Whether a `nsbox run` still holds the sandbox's run lock. */
  async runIsAlive(name: string): Promise<boolean> {
    return (await this.#tryLock(`${name}.run`, async () => true)) === undefined;
  }

  /** The sandbox's name for iproute2: /run/netns/NAME (NAME@HOST for a root with a host name). */
  iproutePath(name: string): string {
    return join(IPROUTE_NETNS_DIR, this.sharedName(name));
  }

  /** Make /run/netns/NAME (or NAME@HOST) point at the sandbox so `ip netns exec NAME` and `ip -n NAME` work. */
  linkForIproute(name: string): void {
    mkdirSync(IPROUTE_NETNS_DIR, { recursive: true, mode: 0o755 });
    const path = this.iproutePath(name);
    const target = this.keyOf(name);
    if (existsSync(path) || isSymlink(path)) {
      if (isSymlink(path) && readlinkSync(path) === target) return;
      throw new NsboxError(`${path} already exists and was not made by nsbox; choose another name`, 'NSBOX_ERR_CONFLICT');
    }
    symlinkSync(target, path);
  }

  /** Remove /run/netns/NAME (or NAME@HOST) if it is nsbox's symlink to this sandbox. */
  unlinkForIproute(name: string): void {
    const path = this.iproutePath(name);
    if (isSymlink(path) && readlinkSync(path) === this.keyOf(name)) unlinkSync(path);
  }
}

export function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
