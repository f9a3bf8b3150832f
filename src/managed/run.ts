/**
 * Layer: managed.
 *
 * Processes in sandboxes: `exec` runs a command in a recorded sandbox, `run` in a fresh one
 * connected to networks (nsbox0 by default, created on first use) and removed when the
 * command exits, unless kept. The child is forked from inside a netns window (no `ip`,
 * `nsenter` or shell in between) as the nsbox-exec helper, which gives it `ip netns exec`'s
 * mount namespace (/sys, the sandbox's /etc/netns files over /etc) and execs the command; its
 * stdio are inherited; the caller's signals are forwarded to
 * it from before it starts, so one that arrives while it is being started is held and
 * delivered instead of killing the parent and orphaning the child. A run holds its run lock
 * for its whole life, so if its process is killed gc knows the sandbox is nobody's.
 */
import { nodeCrypto, nodeOs } from '../builtins.js';
import type { ChildProcess } from 'node:child_process';
import { parseIp } from '../net/cidr.js';
import { DEFAULT_NETWORK, checkName } from '../network/index.js';
import { goneAware, withAdopted } from './adopt.js';
import { connectAdopted, requireNetwork } from './connect.js';
import type { StateRoot } from './root.js';
import { createSandbox, removeSandbox, type RemoveOutcome } from './sandboxes.js';
import { spawnIn } from './spawn-in.js';
import { checkDnsServers, etcDirOf, refreshNames } from './names.js';
import { checkNamespaceFilesOutlive } from './mount-scope.js';
import { basePath, execReplace, isNamespaceMounted } from '../sandbox/index.js';
import { NsboxError } from '../errors.js';
import { execHelperArgs, execHelperPath } from './exec-helper.js';
import { publishLocked } from './ports.js';
import type { PortMapping } from './port-spec.js';
import type { HostPortHold } from '../firewall/index.js';
import type { PortRecord } from '../store/index.js';
import { phase } from '../trace.js';

/** Label on sandboxes made by `run`: 'ephemeral' ones are gc'ed once their run died. */
export const RUN_LABEL = 'nsbox.run';
export const RUN_EPHEMERAL = 'ephemeral';

/** The exit code of nsbox itself when it failed before it could run the command. */
export const EXEC_FAILED = 125;

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGTSTP'];

/** How a command ended: its exit code, or 128 + N and the signal when it died of signal N. */
export interface ChildOutcome {
  code: number;
  signal?: NodeJS.Signals;
}

/**
 * Wait for a child, forwarding this process's signals to it. Pass the spawn's promise, not the
 * child: forwarding starts at once. A command that cannot start ends with 127 (not found),
 * 126 (not executable) or 125, after a line on stderr.
 */
export function superviseChild(spawned: ChildProcess | Promise<ChildProcess>, command: string): Promise<ChildOutcome> {
  let child: ChildProcess | undefined;
  const held: NodeJS.Signals[] = [];
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED) {
    const h = (): void => { if (child) child.kill(sig); else held.push(sig); };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  const stopForwarding = (): void => { for (const [sig, h] of handlers) process.off(sig, h); };
  return Promise.resolve(spawned).then((c) => new Promise<ChildOutcome>((resolve) => {
    child = c;
    const done = (result: ChildOutcome): void => {
      stopForwarding();
      resolve(result);
    };
    c.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code === 'ENOENT' ? 127 : err.code === 'EACCES' ? 126 : EXEC_FAILED;
      process.stderr.write(`nsbox: cannot run ${command}: ${err.code === 'ENOENT' ? 'command not found' : err.message}\n`);
      done({ code });
    });
    c.once('exit', (code, signal) => {
      if (signal) done({ code: 128 + (nodeOs().constants.signals[signal] ?? 0), signal });
      else done({ code: code ?? 1 });
    });
    for (const sig of held.splice(0)) c.kill(sig);
  }), (err: unknown) => {
    stopForwarding();
    throw err;
  });
}

function checkArgv(argv: readonly string[], usage: string): void {
  if (argv.length === 0 || argv.some((a) => typeof a !== 'string')) throw new TypeError(`nothing to run: ${usage}`);
}

export interface ExecOptions {
  env?: NodeJS.ProcessEnv;
  /** Called once the sandbox is found, before the child starts (the CLI closes its store there). */
  beforeSpawn?: () => void;
}

/**
 * What `exec` does before it starts the command, for a command started elsewhere (`nsbox agent`'s
 * "exec" kind hands it to the client, agent/run-service.ts) or in place of this process
 * (execInPlace): the record found, its namespace still there (else NSBOX_ERR_NETNS_GONE, as
 * `exec` says it), its names files brought up to date; where the command is to be started.
 */
export function execTarget(root: StateRoot, name: string): LaunchInfo {
  const rec = root.record(name);
  if (!isNamespaceMounted(rec.key)) {
    throw goneAware(name, new NsboxError(`failed get network namespace "${rec.key}": no namespace is mounted there`, 'NSBOX_ERR_NETNS_GONE'));
  }
  refreshNames(root, { sandboxes: [name], resolv: true });
  return { name, netns: rec.key, etcDir: etcDirOf(root, name) };
}

/**
 * Run a command inside a recorded sandbox and wait for it. Its names files are brought up to
 * date first (a host whose resolver or /etc/hosts changed since; written only if they differ).
 */
export async function exec(root: StateRoot, name: string, argv: readonly string[], o: ExecOptions = {}): Promise<ChildOutcome> {
  checkArgv(argv, 'nsbox exec NAME -- CMD [ARGS…]');
  const rec = root.record(name);
  refreshNames(root, { sandboxes: [name], resolv: true });
  o.beforeSpawn?.();
  return superviseChild(spawnIn(root, rec, argv, { env: o.env ?? process.env }), argv[0]!);
}

export interface ExecInPlaceOptions {
  env?: NodeJS.ProcessEnv;
  /** Called last, once everything else is checked: what the process must do before it is replaced (the CLI closes its store and runs its exit work). */
  beforeReplace?: () => void;
}

/**
 * `exec` without a child, for a process with nothing left to do after it (the CLI): the process
 * becomes the nsbox-exec helper, which joins the sandbox's namespace (--netns) and becomes the
 * command, so the command's pid, signals and exit status are this process's, as with the native
 * hand-off client. No child_process, spawn or wait: ~10 ms of a cold `nsbox exec`. Throws,
 * replacing nothing, when the sandbox or its namespace is not there or the helper cannot start;
 * what the command itself cannot do (not found: 127) nsbox-exec says, as for a spawned helper.
 */
export function execInPlace(root: StateRoot, name: string, argv: readonly string[], o: ExecInPlaceOptions = {}): never {
  checkArgv(argv, 'nsbox exec NAME -- CMD [ARGS…]');
  const target = execTarget(root, name);
  const helper = execHelperPath();
  o.beforeReplace?.();
  return execReplace(helper, [helper, '--netns', target.netns, ...execHelperArgs(target.name, target.etcDir, argv)], o.env ?? process.env);
}

export interface RunOptions {
  /** Sandbox name (default run-<random>). */
  name?: string;
  /** Networks to connect to, in order (default nsbox0). */
  networks?: readonly string[];
  /** A static address (IPv4 or IPv6) on the first network. */
  ip?: string;
  /** Keep the sandbox when the command exits. */
  keep?: boolean;
  env?: NodeJS.ProcessEnv;
  /** DNS servers for the sandbox's resolv.conf instead of the host's. */
  dns?: readonly string[];
  /** Ports to publish to the sandbox (Docker's -p, parsed: managed/port-spec.ts); their host ports are held until it is removed. */
  publish?: readonly PortMapping[];
  /** Told the published ports (a free host port asked for as 0 has its number) before the command starts. */
  onPublished?: (ports: readonly PortRecord[]) => void;
  /** Called once the sandbox is ready, before the command starts (the CLI says its warnings there). */
  beforeSpawn?: () => void;
  /** Told how the removal afterwards went (also when nsbox's own part failed and nothing ran). */
  onRemoved?: (outcome: RemoveOutcome) => void;
  /**
   * Start and wait for the command elsewhere instead of spawning it here: `nsbox agent`'s "run"
   * service hands the ready sandbox to the `nsbox run` client that asked, which starts the
   * command through `nsbox-exec --netns FILE` and says how it ended (agent/run-service.ts).
   * Everything before and after (networks, lock, sandbox, ports, removal) is this function's.
   */
  launch?: (sandbox: LaunchInfo) => Promise<ChildOutcome>;
}

/** What a `launch` needs to start a command in the sandbox (see RunOptions.launch). */
export interface LaunchInfo {
  name: string;
  /** The file the sandbox's network namespace is bound at. */
  netns: string;
  /** The files nsbox-exec binds over /etc (/etc/netns/NAME). */
  etcDir: string;
}

export interface RunOutcome extends ChildOutcome {
  /** The sandbox's name. */
  name: string;
}

/** Run a command in a fresh sandbox on networks; the sandbox is removed afterwards unless kept. */
export async function run(root: StateRoot, argv: readonly string[], o: RunOptions = {}): Promise<RunOutcome> {
  phase('run: started');
  checkArgv(argv, 'nsbox run [options] -- CMD [ARGS…]');
  const ip = o.ip === undefined ? undefined : parseIp(o.ip);
  const dns = checkDnsServers(o.dns);
  const networks = o.networks?.length ? [...new Set(o.networks)] : [DEFAULT_NETWORK];
  for (const net of networks) if (net !== DEFAULT_NETWORK) requireNetwork(root, net);
  const name = o.name ?? `run-${nodeCrypto().randomBytes(4).toString('hex')}`;
  checkName('sandbox', name);
  // before nsbox0 is made: a refused run makes nothing (it once left nsbox0 behind)
  checkNamespaceFilesOutlive(basePath(), `sandbox ${name}`);
  if (networks.includes(DEFAULT_NETWORK)) await root.networks.ensureDefault();
  phase('run: networks checked (nsbox0 there)');
  // Held from before the sandbox exists until it is gone: if this process dies, gc knows.
  return root.runLocked(name, async () => {
    phase('run: run lock taken');
    await createSandbox(root, name, { labels: { [RUN_LABEL]: o.keep ? 'kept' : RUN_EPHEMERAL }, dns });
    phase('run: sandbox created (netns, names files, record)');
    let outcome: ChildOutcome;
    let hold: HostPortHold | undefined;
    try {
      await withAdopted(root, name, async (adopted) => {
        for (const [i, net] of networks.entries()) {
          const first = i === 0 ? ip : undefined;
          await connectAdopted(root, adopted, root.record(name), net, first?.family === 6 ? { ip6: first.address } : { ip: first?.address });
        }
        if (o.publish !== undefined && o.publish.length > 0) {
          const published = await publishLocked(root, root.record(name), o.publish);
          hold = published.hold;
          o.onPublished?.(published.ports);
        }
      });
      phase('run: connected (veth, address, routes)');
      o.beforeSpawn?.();
      if (o.launch !== undefined) {
        outcome = await o.launch({ name, netns: root.record(name).key, etcDir: etcDirOf(root, name) });
      } else {
        const spawned = spawnIn(root, name, argv, { env: o.env ?? process.env });
        void spawned.then(() => phase('run: command spawned'), () => undefined);
        outcome = await superviseChild(spawned, argv[0]!);
      }
      phase('run: command exited');
    } finally {
      if (!o.keep) o.onRemoved?.(await removeSandbox(root, name));
      hold?.release();
      phase('run: sandbox removed');
    }
    return { ...outcome, name };
  });
}
