/**
 * Layer: cni (process edge).
 *
 * The CNI_* environment of one plugin call (SPEC §2 "Parameters" and, per operation, its
 * "Required/Optional environment parameters"), read and checked before stdin is looked at.
 * Every problem is code 4 ("invalid necessary environment variables"; the message names the
 * variable). A variable the command does not use is not read at all: libcni sets
 * CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_ARGS to "" for GC and STATUS, and CNI_NETNS,
 * CNI_IFNAME and CNI_PATH to "dummy" for VERSION. An empty variable counts as missing.
 */
import { isIp } from './fields.js';
import { checkLinkName } from '../netlink/route/ops/ref.js';
import { isEthernetMac } from '../netlink/wire/mac.js';
import { CNI_ERR, CniError } from './errors.js';

/** SPEC §2 "CNI operations" (STATUS is missing from the spec's own CNI_COMMAND list, but is one). */
export const CNI_COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'] as const;

export type CniCommand = (typeof CNI_COMMANDS)[number];

type CniVariable = 'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME' | 'CNI_ARGS' | 'CNI_PATH';

/** What each operation requires (SPEC §2, "Required environment parameters" of each operation). */
export const REQUIRED_ENV: Readonly<Record<CniCommand, readonly CniVariable[]>> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  STATUS: [],
  GC: ['CNI_PATH'],
  VERSION: [],
};

/** What each operation reads: the required ones and the spec's "Optional environment parameters". */
const USED_ENV: Readonly<Record<CniCommand, readonly CniVariable[]>> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'],
  DEL: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'],
  STATUS: ['CNI_PATH'],
  GC: ['CNI_PATH'],
  VERSION: [],
};

/** SPEC §2 CNI_CONTAINERID: alphanumeric first, then alphanumerics, '_', '.' or '-'. */
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** CNI_ARGS, parsed (CONVENTIONS.md "CNI_ARGS"). */
export interface CniArgs {
  /** Every pair as given, the last of a repeated key winning (what Go's LoadArgs keeps). */
  pairs: ReadonlyMap<string, string>;
  /** `IP=<ip>[/<prefix>]`: an address asked of IPAM (host-local, static; ignored when `args.cni.ips` is given). */
  ip: string | undefined;
  /** `MAC=aa:bb:cc:dd:ee:ff`: the container interface's MAC (the bridge plugin's `MacEnvArgs`). */
  mac: string | undefined;
}

/** The CNI_* environment of a call, checked for its command. */
export interface CniEnv {
  command: CniCommand;
  /** CNI_CONTAINERID (ADD, DEL, CHECK). */
  containerId: string | undefined;
  /** CNI_NETNS (ADD, CHECK; optional for DEL). */
  netns: string | undefined;
  /** CNI_IFNAME (ADD, DEL, CHECK). */
  ifname: string | undefined;
  /** CNI_ARGS (ADD, DEL, CHECK); empty when unset. */
  args: CniArgs;
  /** CNI_PATH split on ':' (empty entries dropped); [] when unset. */
  path: string[];
}

export type Environment = Readonly<Record<string, string | undefined>>;

function invalidEnv(variable: string, msg: string, details?: string): CniError {
  return new CniError(CNI_ERR.INVALID_ENV, msg, { field: variable, details });
}

const EMPTY_ARGS: CniArgs = { pairs: new Map(), ip: undefined, mac: undefined };

/**
 * Parse CNI_ARGS: `KEY=VALUE` pairs separated by ';'. A pair without exactly one '=' or with an
 * empty key is refused, as Go's LoadArgs does. Keys nsbox does not know are kept and ignored:
 * the spec hands CNI_ARGS to every plugin "with no indication if they are going to be consumed"
 * (SPEC §3), so no `IgnoreUnknown=1` is needed (Go's LoadArgs refuses unknown keys without it).
 */
export function parseCniArgs(text: string): CniArgs {
  if (text === '') return EMPTY_ARGS;
  const pairs = new Map<string, string>();
  for (const pair of text.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || pair.indexOf('=', eq + 1) >= 0) throw invalidEnv('CNI_ARGS', `invalid CNI_ARGS pair ${JSON.stringify(pair)}: expected KEY=VALUE pairs separated by ';'`);
    pairs.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const ignoreUnknown = pairs.get('IgnoreUnknown');
  if (ignoreUnknown !== undefined && !/^(1|0|true|false)$/i.test(ignoreUnknown)) {
    throw invalidEnv('CNI_ARGS', `invalid CNI_ARGS IgnoreUnknown=${JSON.stringify(ignoreUnknown)}: expected 1, 0, true or false`);
  }
  const ip = pairs.get('IP') || undefined;
  if (ip !== undefined && !isIp(ip, { prefix: 'optional' })) throw invalidEnv('CNI_ARGS', `invalid CNI_ARGS IP=${JSON.stringify(ip)}: expected an IPv4 or IPv6 address, optionally with /prefix`);
  const mac = pairs.get('MAC') || undefined;
  if (mac !== undefined && !isEthernetMac(mac)) throw invalidEnv('CNI_ARGS', `invalid CNI_ARGS MAC=${JSON.stringify(mac)}: expected aa:bb:cc:dd:ee:ff`);
  return { pairs, ip, mac: mac?.toLowerCase() };
}

/** Read and check the CNI_* environment for its command. Code 4 naming the variable. */
export function readCniEnv(env: Environment): CniEnv {
  const command = env.CNI_COMMAND ?? '';
  if (command === '') throw invalidEnv('CNI_COMMAND', 'required env variables [CNI_COMMAND] missing', `one of ${CNI_COMMANDS.join(', ')}`);
  if (!(CNI_COMMANDS as readonly string[]).includes(command)) {
    throw invalidEnv('CNI_COMMAND', `unknown CNI_COMMAND: ${command}`, `one of ${CNI_COMMANDS.join(', ')}`);
  }
  const cmd = command as CniCommand;
  const missing = REQUIRED_ENV[cmd].filter((v) => (env[v] ?? '') === '');
  if (missing.length > 0) throw invalidEnv(missing[0]!, `required env variables [${missing.join(',')}] missing`, `${cmd} needs ${REQUIRED_ENV[cmd].join(', ')}`);
  const used = new Set(USED_ENV[cmd]);
  const read = (v: CniVariable): string | undefined => (used.has(v) && env[v] !== '' ? env[v] : undefined);

  const containerId = read('CNI_CONTAINERID');
  if (containerId !== undefined && !CONTAINER_ID.test(containerId)) {
    throw invalidEnv('CNI_CONTAINERID', 'invalid characters in CNI_CONTAINERID', `${JSON.stringify(containerId)}: it must start with a letter or digit, followed by letters, digits, '_', '.' or '-'`);
  }
  const ifname = read('CNI_IFNAME');
  if (ifname !== undefined) {
    try {
      checkLinkName(ifname, 'CNI_IFNAME');
    } catch (err) {
      throw invalidEnv('CNI_IFNAME', (err as Error).message, 'an interface name: 1 to 15 bytes, not "." or "..", no \'/\', \':\' or whitespace');
    }
  }
  const args = read('CNI_ARGS');
  const path = read('CNI_PATH');
  return {
    command: cmd,
    containerId,
    netns: read('CNI_NETNS'),
    ifname,
    args: args === undefined ? EMPTY_ARGS : parseCniArgs(args),
    path: path === undefined ? [] : path.split(':').filter((p) => p !== ''),
  };
}
