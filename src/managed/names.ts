/**
 * Layer: managed.
 *
 * Names: each sandbox's /etc/netns/NAME/resolv.conf and hosts (their text: name-files.ts),
 * which `nsbox exec`/`run` (the nsbox-exec helper) and `ip netns exec NAME` bind over /etc,
 * so sandboxes sharing a network resolve each other and every sandbox has a resolver it can
 * reach.
 *
 * Ownership. nsbox makes /etc/netns/NAME only for its own sandboxes and only where nothing is:
 * a marker ROOT/etc-netns/NAME is written before the directory is made and removed after it is
 * gone, so a process killed in between leaves a marker that gc follows. (The marker cannot be
 * inside the directory: ip netns exec binds every entry there over /etc.) A directory nsbox did
 * not make is never written to or removed, and `create` refuses its name (NSBOX_ERR_CONFLICT).
 * Removal deletes nsbox's two files and the directory; a directory someone put files of their
 * own in stays, with those files.
 *
 * Consistency. The files are derived from the store (records and every network's leases) and
 * rewritten in place (the running processes of a sandbox see them through bind mounts, which
 * a rename would leave on the old file), only when their text changed. Reading the store and
 * writing the files is one synchronous section under the names lock, entered after the change
 * was committed: the last writer read the latest state, so concurrent commands leave every file
 * right, and a command killed before it rewrote them leaves stale text that the next rewrite,
 * gc or restore corrects.
 */
import { chmodSync, closeSync, existsSync, fchmodSync, ftruncateSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NsboxError } from '../errors.js';
import { parseIp } from '../net/cidr.js';
import type { Lease, SandboxRecord } from '../store/index.js';
import { renderHosts, renderResolvConf, type NamedAddress, type ResolvConf } from './name-files.js';
import type { StateRoot } from './root.js';
import { emptyPending, mergePending, pendingFor, runDeferred } from './names-defer.js';

/** Where `ip netns exec NAME` (and the nsbox-exec helper) finds the files it binds over /etc. */
export const ETC_NETNS_DIR = '/etc/netns';
/** The host files a sandbox's names files are made from. */
export const HOST_RESOLV_CONF = '/etc/resolv.conf';
export const HOST_HOSTS = '/etc/hosts';
/** systemd-resolved's list of the upstream servers behind its 127.0.0.53 stub. */
export const RESOLVED_UPSTREAM = '/run/systemd/resolve/resolv.conf';

const RESOLV = 'resolv.conf';
const HOSTS = 'hosts';
/** The markers of the directories nsbox made, in the state root. */
const MARKERS = 'etc-netns';

/** The directory whose files are bound over /etc for sandbox `name`: /etc/netns/NAME (NAME@HOST for a root with a host name). */
export function etcDirOf(root: StateRoot, name: string): string {
  return join(ETC_NETNS_DIR, root.sharedName(name));
}

const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

function markerOf(root: StateRoot, name: string): string {
  return join(root.dir, MARKERS, name);
}

/** Whether nsbox (this root) made /etc/netns/NAME. */
function ownsEtcDir(root: StateRoot, name: string): boolean {
  return existsSync(markerOf(root, name));
}

/** The sandboxes whose /etc/netns directory nsbox (this root) made: one read for a whole section. */
function ownedEtcDirs(root: StateRoot): Set<string> {
  try {
    return new Set(readdirSync(join(root.dir, MARKERS)));
  } catch (err) {
    if (isMissing(err)) return new Set();
    throw err;
  }
}

/** Whether something (anything, a dangling symlink too) is at `path`. */
export function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** --dns servers checked (each an IPv4 or IPv6 address; TypeError otherwise), duplicates dropped. */
export function checkDnsServers(dns: readonly string[] | undefined, what = 'DNS server'): string[] | undefined {
  if (dns === undefined) return undefined;
  if (!Array.isArray(dns)) throw new TypeError(`${what}s must be an array of addresses`);
  for (const server of dns) parseIp(server, what);
  return [...new Set(dns)];
}

function conflict(dir: string): NsboxError {
  return new NsboxError(`${dir} already exists and was not made by nsbox; choose another name, or remove it`, 'NSBOX_ERR_CONFLICT');
}

/** Refuse, before anything is made, a name whose /etc/netns directory exists and is not nsbox's. */
export function checkEtcDirFree(root: StateRoot, name: string): void {
  if (!ownsEtcDir(root, name) && exists(etcDirOf(root, name))) throw conflict(etcDirOf(root, name));
}

/**
 * Write `text` to `path` in place (the same inode: bind mounts of it see the change) if it
 * differs; a missing file is created (0644: every user in the sandbox reads it), a missing
 * directory is not.
 */
function writeInPlace(path: string, text: string): 'written' | 'unchanged' | 'no-directory' {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (err) {
    if (!isMissing(err)) throw err;
    try {
      fd = openSync(path, 'wx+', 0o644);
    } catch (err2) {
      if (isMissing(err2)) return 'no-directory';
      throw err2;
    }
    fchmodSync(fd, 0o644);
  }
  try {
    if (readFileSync(fd, 'utf8') === text) return 'unchanged';
    ftruncateSync(fd, 0);
    writeSync(fd, text, 0, 'utf8');
    return 'written';
  } finally {
    closeSync(fd);
  }
}

/**
 * Make /etc/netns/NAME for a sandbox (the marker first); the names lock held. 'taken' when
 * the directory is there and not nsbox's; 'failed' (after a warning) when it cannot be made,
 * e.g. a read-only /etc: the sandbox then sees the host's files, as before nsbox wrote names.
 */
function claimLocked(root: StateRoot, name: string): 'ours' | 'taken' | 'failed' {
  const dir = etcDirOf(root, name);
  const marker = markerOf(root, name);
  try {
    if (existsSync(marker)) {
      mkdirSync(dir, { recursive: true, mode: 0o755 }); // made again if someone removed it
      return 'ours';
    }
    if (exists(dir)) return 'taken';
    mkdirSync(dirname(marker), { recursive: true, mode: 0o700 });
    writeFileSync(marker, `${dir}\n`, { mode: 0o600 });
  } catch (err) {
    root.warn(`cannot make ${dir} (${(err as Error).message}): sandbox ${name} sees the host's ${HOST_RESOLV_CONF} and ${HOST_HOSTS}`);
    return 'failed';
  }
  try {
    mkdirSync(ETC_NETNS_DIR, { recursive: true, mode: 0o755 });
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755); // whatever the umask
    return 'ours';
  } catch (err) {
    unlinkSync(marker);
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'taken';
    root.warn(`cannot make ${dir} (${(err as Error).message}): sandbox ${name} sees the host's ${HOST_RESOLV_CONF} and ${HOST_HOSTS}`);
    return 'failed';
  }
}

/** What a refresh covers. */
export interface NamesScope {
  /** Every sandbox of the root (gc, restore). */
  all?: boolean;
  /** These sandboxes … */
  sandboxes?: readonly string[];
  /** … and every sandbox with an address on these networks. */
  networks?: readonly string[];
  /** Also write their resolv.conf again, from the host's configuration now. */
  resolv?: boolean;
  /** Make the directory of a ready sandbox in scope that has none (removed by hand, or older than names). */
  ensure?: boolean;
}

/** The host files, read once per section. */
interface HostFiles {
  resolvConf: string | undefined;
  resolved: string | undefined;
  hosts: string | undefined;
}

function readHostFiles(): HostFiles {
  return { resolvConf: readIfThere(HOST_RESOLV_CONF), resolved: readIfThere(RESOLVED_UPSTREAM), hosts: readIfThere(HOST_HOSTS) };
}

function addressOf(cidr: string): string {
  const slash = cidr.indexOf('/');
  return slash < 0 ? cidr : cidr.slice(0, slash);
}

/** The store as the hosts files need it, grouped once per section. */
interface Membership {
  /** Each recorded sandbox's leases, by its key. */
  leasesOf: Map<string, Lease[]>;
  /** Each network's members (recorded sandboxes), in lease order. */
  members: Map<string, Required<NamedAddress>[]>;
}

function membershipOf(root: StateRoot, records: readonly SandboxRecord[]): Membership {
  const nameOf = new Map(records.map((r) => [r.key, r.name]));
  const m: Membership = { leasesOf: new Map(), members: new Map() };
  for (const l of root.networks.allLeases()) {
    const name = nameOf.get(l.owner);
    if (name === undefined) continue;
    let own = m.leasesOf.get(l.owner);
    if (own === undefined) m.leasesOf.set(l.owner, (own = []));
    own.push(l);
    let members = m.members.get(l.network);
    if (members === undefined) m.members.set(l.network, (members = []));
    members.push({ name, address: l.address, network: l.network });
  }
  return m;
}

/** The hosts file of `rec`: its addresses, then the other sandboxes on its networks (in the order it joined them). */
function hostsOf(rec: SandboxRecord, m: Membership, hostHosts: string | undefined): string {
  const own = m.leasesOf.get(rec.key) ?? [];
  const joined = new Set(own.map((l) => l.network));
  const networks = [...new Set([...rec.config.interfaces.flatMap((i) => (i.network === undefined ? [] : [i.network])), ...joined])].filter((n) => joined.has(n));
  const others = rec.config.interfaces.filter((i) => i.network === undefined && i.state === 'ready')
    .flatMap((i) => [i.options.ipv4, i.options.ipv6].filter((a): a is string => a !== undefined).map((a) => ({ address: addressOf(a) })));
  return renderHosts({
    name: rec.name,
    own: [...networks.flatMap((n) => own.filter((l) => l.network === n).map((l) => ({ address: l.address, network: n }))), ...others],
    peers: networks.flatMap((n) => (m.members.get(n) ?? []).filter((p) => p.name !== rec.name)),
    host: hostHosts,
  });
}

function resolvOf(rec: SandboxRecord, host: HostFiles): ResolvConf {
  return renderResolvConf(rec.name, { host: host.resolvConf, resolved: host.resolved, dns: rec.config.dns });
}

/**
 * Rewrite the names files of the sandboxes in `scope` that have nsbox's directory (hosts; with
 * `resolv`, resolv.conf too). Returns the resolv.conf of each sandbox it wrote one for. A file
 * that cannot be written is warned about (root.warn), not thrown: the change it follows is done.
 */
export function refreshNames(root: StateRoot, scope: NamesScope): Map<string, ResolvConf> {
  if (!scope.all && !scope.sandboxes?.length && !scope.networks?.length) return new Map();
  const pending = pendingFor(root);
  if (pending !== undefined) {
    mergePending(pending, scope); // written once, when the deferred scope ends (names-defer.ts)
    return new Map();
  }
  return root.namesLocked(() => {
    const written = new Map<string, ResolvConf>();
    const records = root.records.list();
    const m = membershipOf(root, records);
    const names = new Set(scope.all ? records.map((r) => r.name) : scope.sandboxes ?? []);
    for (const network of scope.networks ?? []) for (const member of m.members.get(network) ?? []) names.add(member.name);
    if (names.size === 0) return written;
    const owned = ownedEtcDirs(root);
    const host = readHostFiles();
    for (const rec of records) {
      if (!names.has(rec.name)) continue;
      if (!owned.has(rec.name) && !(scope.ensure && rec.state === 'ready' && claimLocked(root, rec.name) === 'ours')) continue;
      const dir = etcDirOf(root, rec.name);
      try {
        // A directory removed by hand stays removed (restore makes it again, with ensure).
        if (writeInPlace(join(dir, HOSTS), hostsOf(rec, m, host.hosts)) === 'no-directory') continue;
        if (scope.resolv || scope.ensure) {
          const resolv = resolvOf(rec, host);
          writeInPlace(join(dir, RESOLV), resolv.text);
          written.set(rec.name, resolv);
        }
      } catch (err) {
        root.warn(`cannot write the names files of sandbox ${rec.name} in ${dir}: ${(err as Error).message}`);
      }
    }
    return written;
  });
}

/**
 * Run `fn` with the names refreshes it causes merged and done once when it ends (names-defer.ts),
 * whether it succeeds or fails. Nested scopes merge into the outermost. A resolv.conf left with no
 * server is warned about once (naming the first sandbox and how many more), not per sandbox.
 */
export async function deferNames<T>(root: StateRoot, fn: () => Promise<T>): Promise<T> {
  if (pendingFor(root) !== undefined) return fn();
  const pending = emptyPending();
  try {
    return await runDeferred(root, pending, fn);
  } finally {
    const written = refreshNames(root, {
      all: pending.all, sandboxes: [...pending.sandboxes], networks: [...pending.networks], resolv: pending.resolv, ensure: pending.ensure,
    });
    const without = [...written].filter(([, r]) => r.problem !== undefined);
    if (without.length > 0) {
      const [name, r] = without[0]!;
      const more = without.length > 1 ? ` (and ${without.length - 1} more sandboxes)` : '';
      root.warn(`sandbox ${name}${more} has no DNS server: ${r.problem}; give one with --dns IP (nsbox create, nsbox run)`);
    }
  }
}

/**
 * Give a new sandbox (its record in state 'creating', its lock held) its /etc/netns directory
 * with both files. NSBOX_ERR_CONFLICT when the directory exists and is not nsbox's.
 */
export function makeEtcDir(root: StateRoot, name: string): void {
  root.namesLocked(() => {
    const claimed = claimLocked(root, name);
    if (claimed === 'taken') throw conflict(etcDirOf(root, name));
    if (claimed === 'failed') return;
    const rec = root.record(name);
    const host = readHostFiles();
    writeInPlace(join(etcDirOf(root, name), HOSTS), hostsOf(rec, membershipOf(root, [rec]), host.hosts));
    writeInPlace(join(etcDirOf(root, name), RESOLV), resolvOf(rec, host).text);
  });
}

/**
 * Remove a sandbox's /etc/netns directory if nsbox made it: its two files, the directory (left
 * with the files someone else put there), then the marker. Gone already is success. Returns
 * the failures (the marker then stays, for gc).
 */
export function removeEtcDir(root: StateRoot, name: string): string[] {
  return root.namesLocked(() => {
    if (!ownsEtcDir(root, name)) return [];
    const dir = etcDirOf(root, name);
    const errors: string[] = [];
    for (const file of [RESOLV, HOSTS]) {
      try {
        unlinkSync(join(dir, file));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') errors.push(`${join(dir, file)}: ${(err as Error).message}`);
      }
    }
    try {
      rmdirSync(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTEMPTY') errors.push(`${dir}: ${(err as Error).message}`);
    }
    if (errors.length === 0) unlinkSync(markerOf(root, name));
    return errors;
  });
}

/** Sandboxes of this root whose /etc/netns directory nsbox made and that have no record (for gc). */
export function orphanEtcDirs(root: StateRoot): string[] {
  return [...ownedEtcDirs(root)].filter((name) => root.records.get(name) === undefined);
}
