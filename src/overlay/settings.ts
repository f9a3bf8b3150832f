/**
 * Layer: overlay.
 *
 * What a state root remembers of the overlay, in ROOT/overlay/ (0700, files 0600):
 * - etcd.json: the etcd cluster (endpoints, the key prefix, and the PATHS of the TLS CA,
 *   client certificate and key — never their contents), written by the first command given
 *   `--etcd` (or NSBOX_ETCD) so later commands and the agent find it;
 * - agent.json: the agent's liveness lease id and the last revision it saw, so a restarted
 *   agent resumes the same lease (no delete event at the peers);
 * - left/NET: an overlay network this host left, which its agent does not join again.
 * Credentials are never logged nor put into an error message: only the file names are.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { NsboxError } from '../errors.js';
import { Etcd, type EtcdTls } from './etcd.js';
import { DEFAULT_PREFIX, Keyspace } from './keyspace.js';

const EtcdSettingsSchema = z.object({
  endpoints: z.array(z.string().regex(/^https?:\/\/[^/\s]+$/)).min(1),
  prefix: z.string().default(DEFAULT_PREFIX),
  ca: z.string().optional(),
  cert: z.string().optional(),
  key: z.string().optional(),
}).strict();
export type EtcdSettings = z.infer<typeof EtcdSettingsSchema>;

/** `left`: `overlay leave` revoked `leaseId`; the agent holding it stops instead of taking a new lease. */
const AgentStateSchema = z.object({ leaseId: z.string(), revision: z.number().int(), ttl: z.number().int(), left: z.boolean().optional() }).strict();
export type AgentState = z.infer<typeof AgentStateSchema>;

/** What the command line gave (flags win over the environment). */
export interface EtcdFlags {
  etcd?: string;
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
  etcdPrefix?: string;
}

const dirOf = (root: string): string => join(root, 'overlay');

function writePrivate(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new NsboxError(`${file}: ${(err as Error).message}`, 'NSBOX_ERR_STORE');
  }
}

/** The settings of the root, if it has any. */
export function storedEtcdSettings(root: string): EtcdSettings | undefined {
  const file = join(dirOf(root), 'etcd.json');
  const json = readJson(file);
  if (json === undefined) return undefined;
  const r = EtcdSettingsSchema.safeParse(json);
  if (!r.success) throw new NsboxError(`${file} is not valid: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'NSBOX_ERR_STORE');
  return r.data;
}

/**
 * The etcd settings for a command: from its flags, else NSBOX_ETCD* from the environment (both
 * remembered in the root), else the root's. `required`: none at all is a usage error naming
 * what to give; else undefined.
 */
export function resolveEtcdSettings(root: string, flags: EtcdFlags, options: { required: boolean; remember?: boolean }): EtcdSettings | undefined {
  const env = process.env;
  const endpoints = flags.etcd ?? (env.NSBOX_ETCD || undefined);
  const stored = storedEtcdSettings(root);
  if (endpoints === undefined) {
    if (stored === undefined && options.required) {
      throw new NsboxError('no etcd cluster for this root: give --etcd URL[,URL…] (or NSBOX_ETCD), e.g. --etcd http://10.0.0.5:2379', 'NSBOX_ERR_USAGE');
    }
    return stored;
  }
  const given = {
    endpoints: endpoints.split(',').map((s) => s.trim()).filter((s) => s !== ''),
    prefix: flags.etcdPrefix ?? (env.NSBOX_ETCD_PREFIX || stored?.prefix || DEFAULT_PREFIX),
    ca: flags.etcdCa ?? (env.NSBOX_ETCD_CA || undefined),
    cert: flags.etcdCert ?? (env.NSBOX_ETCD_CERT || undefined),
    key: flags.etcdKey ?? (env.NSBOX_ETCD_KEY || undefined),
  };
  const r = EtcdSettingsSchema.safeParse(given);
  if (!r.success) throw new NsboxError(`invalid --etcd ${JSON.stringify(endpoints)}: give http(s)://IP:PORT URLs separated by commas`, 'NSBOX_ERR_USAGE');
  if ((r.data.cert === undefined) !== (r.data.key === undefined)) throw new NsboxError('--etcd-cert and --etcd-key go together (a client certificate and its key)', 'NSBOX_ERR_USAGE');
  new Keyspace(r.data.prefix); // checks the prefix
  if (options.remember !== false) rememberEtcdSettings(root, r.data);
  return r.data;
}

/**
 * Remember `s` in the root (ROOT/overlay/etcd.json) unless it holds them already. A command
 * that may be refused resolves with `remember: false` and calls this once it succeeded: a
 * refused command leaves nothing behind.
 */
export function rememberEtcdSettings(root: string, s: EtcdSettings): void {
  const text = `${JSON.stringify(s, null, 2)}\n`;
  const file = join(dirOf(root), 'etcd.json');
  try {
    if (readFileSync(file, 'utf8') === text) return;
  } catch {
    // none yet
  }
  writePrivate(file, text);
}

function readPem(file: string | undefined, what: string): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new NsboxError(`cannot read the etcd ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, 'NSBOX_ERR_USAGE');
  }
}

/** A client of the cluster (TLS files read now; their contents never leave the client). */
export function connectEtcd(s: EtcdSettings, options: { callTimeoutMs?: number } = {}): Etcd {
  const tls: EtcdTls | undefined = s.ca !== undefined || s.cert !== undefined
    ? { ca: readPem(s.ca, 'CA'), cert: readPem(s.cert, 'client certificate'), key: readPem(s.key, 'client key') }
    : undefined;
  try {
    return Etcd.connect({ endpoints: s.endpoints, tls, callTimeoutMs: options.callTimeoutMs });
  } catch (err) {
    // OpenSSL's reason only (e.g. "asn1 encoding routines::too long"): never the files' contents
    if (tls === undefined) throw err;
    throw new NsboxError(`the etcd TLS files are not a valid PEM CA, client certificate and key (${[s.ca, s.cert, s.key].filter((f) => f !== undefined).join(', ')}): ${(err as Error).message}: give PEM files (--etcd-ca, --etcd-cert, --etcd-key)`, 'NSBOX_ERR_USAGE', { cause: err });
  }
}

export function readAgentState(root: string): AgentState | undefined {
  const json = readJson(join(dirOf(root), 'agent.json'));
  const r = AgentStateSchema.safeParse(json);
  return r.success ? r.data : undefined;
}

export function writeAgentState(root: string, state: AgentState): void {
  writePrivate(join(dirOf(root), 'agent.json'), `${JSON.stringify(state)}\n`);
}

/**
 * The overlay networks this host left with `network rm` (ROOT/overlay/left/NET): the agent does
 * not join them again on its own; `network create NET --driver overlay` does, and clears the mark.
 */
export function markLeft(root: string, net: string, left: boolean): void {
  const file = join(dirOf(root), 'left', net);
  if (left) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, '', { mode: 0o600 });
  } else {
    rmSync(file, { force: true });
  }
}

export function hasLeft(root: string, net: string): boolean {
  return existsSync(join(dirOf(root), 'left', net));
}
