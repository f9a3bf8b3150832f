/**
 * Layer: cni (process edge).
 *
 * One plugin call: environment + stdin -> one JSON document on stdout + exit code (SPEC §2).
 * `runCni` checks everything before the backend is called, in the order the Go skel does:
 * the CNI_* environment (code 4), stdin decoded (6), the config's version (6/1) and the
 * command's (1: CHECK needs 0.4.0, STATUS and GC 1.1.0), the config (7, or 2 for what nsbox
 * cannot honour), CNI_PATH when IPAM is delegated (4), and for ADD whether the result can be
 * written in the config's version (7), all before anything is done. VERSION is answered here.
 * It is the one funnel for errors: whatever is thrown becomes the spec's error object
 * (errors.ts), with the config's `cniVersion` when it can be read (else the newest), on stdout
 * with exit code 1, as libcni reads it.
 *
 * `main` is the `nsbox-cni` process (bin/nsbox-cni.js): it reads the real environment and
 * stdin and runs with the backend over the managed layer (managed-backend.ts), loaded only when a checked call reaches it: VERSION is called by
 * runtimes before every command, and must stay cheap.
 */
import type { CniBackend, CniCall } from './backend.js';
import { decodeConfig, parseEnvelope, parsePluginConfig, type ConfigEnvelope } from './config.js';
import { readCniEnv, type CniCommand, type CniEnv, type Environment } from './env.js';
import { CNI_ERR, CniError, cniErrorOf, encodeCniError, invalidField } from './errors.js';
import { NSBOX_IPAM } from './ipam-config.js';
import { checkAddExpressible, encodeResult } from './result.js';
import { CURRENT_VERSION, checkCommandVersion, isCniVersion, versionAnswer } from './version.js';
import { withoutPrivileges } from '../privileges.js';

/** What a call prints and exits with. */
export interface CniOutcome {
  exitCode: 0 | 1;
  /** One JSON document and a newline, or '' (DEL, CHECK, STATUS and GC print nothing on success). */
  stdout: string;
}

/** stdin's text, or a function reading it (a failure to read is code 5). */
export type CniStdin = string | (() => Promise<string>);

const success = (value: unknown): CniOutcome => ({ exitCode: 0, stdout: value === undefined ? '' : `${JSON.stringify(value)}\n` });

/** The version for an error object: the config's, when it is one nsbox speaks. */
function errorVersion(text: string): string {
  try {
    const v = (JSON.parse(text) as { cniVersion?: unknown } | null)?.cniVersion;
    return isCniVersion(v) ? v : CURRENT_VERSION;
  } catch {
    return CURRENT_VERSION;
  }
}

async function readStdin(stdin: CniStdin): Promise<string> {
  if (typeof stdin === 'string') return stdin;
  try {
    return await stdin();
  } catch (err) {
    throw new CniError(CNI_ERR.IO_FAILURE, 'failed to read the network config from stdin', { details: (err as Error).message, cause: err });
  }
}

/** A delegated IPAM plugin is found through CNI_PATH (SPEC §4): without it, code 4 before anything is done. */
function checkDelegatePath(envelope: ConfigEnvelope, env: CniEnv): void {
  const type = envelope.ipamType;
  if (type === undefined || type === NSBOX_IPAM || env.path.length > 0) return;
  throw new CniError(CNI_ERR.INVALID_ENV, 'required env variables [CNI_PATH] missing', {
    field: 'CNI_PATH',
    details: `ipam.type ${JSON.stringify(type)} is a plugin, found through CNI_PATH`,
  });
}

const attachmentOf = (env: CniEnv): { containerId: string; ifname: string } => ({ containerId: env.containerId!, ifname: env.ifname! });

/** Check a call and run it on `backend`; never throws. */
export async function runCni(environment: Environment, stdin: CniStdin, backend: CniBackend): Promise<CniOutcome> {
  let command: CniCommand | undefined;
  let version: string = CURRENT_VERSION;
  try {
    const text = await readStdin(stdin);
    version = errorVersion(text);
    const env = readCniEnv(environment);
    command = env.command;
    if (command === 'VERSION') return success(versionAnswer(text));
    const envelope = parseEnvelope(decodeConfig(text));
    checkCommandVersion(command, envelope.cniVersion);
    checkDelegatePath(envelope, env);
    const call: CniCall = { environment, stdin: text, cniPath: env.path, cniArgs: env.args };
    switch (command) {
      case 'ADD': {
        const config = parsePluginConfig(envelope, env.args);
        checkAddExpressible(config);
        const result = await backend.add({ ...call, config, attachment: attachmentOf(env), netns: env.netns! });
        return success(encodeResult(result, config.cniVersion));
      }
      case 'CHECK': {
        const config = parsePluginConfig(envelope, env.args);
        if (config.prevResult === undefined) throw invalidField('prevResult', 'missing: CHECK compares the result of ADD with what is there (SPEC §2 CHECK)');
        await backend.check({ ...call, config, attachment: attachmentOf(env), netns: env.netns!, prevResult: config.prevResult });
        return success(undefined);
      }
      case 'DEL':
        await backend.del({ ...call, config: envelope, attachment: attachmentOf(env), netns: env.netns });
        return success(undefined);
      case 'STATUS':
        await backend.status({ ...call, config: parsePluginConfig(envelope, env.args) });
        return success(undefined);
      case 'GC': {
        const valid = envelope.validAttachments;
        if (valid === undefined) throw invalidField('cni.dev/valid-attachments', 'missing: GC removes what is not in this list, so without it nothing is removed');
        await backend.gc({ ...call, config: envelope, validAttachments: valid });
        return success(undefined);
      }
    }
  } catch (err) {
    const refused = withoutPrivileges(err, 'the runtime must run the plugin as root');
    return { exitCode: 1, stdout: `${JSON.stringify(encodeCniError(cniErrorOf(refused ?? err, command), version))}\n` };
  }
}

/** All of the process's stdin; nothing when it is a terminal (someone trying VERSION by hand). */
async function processStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The backend over the managed layer, loaded only when runCni calls it (after every check, so
 * VERSION and refused input load neither the managed layer's modules nor SQLite), on the
 * state root NSBOX_ROOT (default /var/lib/nsbox).
 */
function lazyManagedBackend(): { backend: CniBackend; close(): void } {
  let loaded: Promise<{ backend: CniBackend; close(): void }> | undefined;
  const load = (): Promise<{ backend: CniBackend; close(): void }> => {
    loaded ??= import('./managed-backend.js').then(({ ManagedBackend, Manager }) => {
      const manager = Manager.open();
      return { backend: new ManagedBackend(manager), close: () => manager.close() };
    });
    return loaded;
  };
  const backend: CniBackend = {
    add: async (r) => (await load()).backend.add(r),
    del: async (r) => (await load()).backend.del(r),
    check: async (r) => (await load()).backend.check(r),
    status: async (r) => (await load()).backend.status(r),
    gc: async (r) => (await load()).backend.gc(r),
  };
  return { backend, close: () => { void loaded?.then((l) => l.close()); } };
}

/** The nsbox-cni process: returns the exit code (bin/nsbox-cni.js sets it). */
export async function main(): Promise<number> {
  const { backend, close } = lazyManagedBackend();
  const outcome = await runCni(process.env, processStdin, backend);
  close();
  process.stdout.write(outcome.stdout);
  return outcome.exitCode;
}
