/**
 * Layer: cli.
 *
 * `nsbox agent [--socket PATH]`: the host agent (agent/server.ts) on the state root
 * (--root / NSBOX_ROOT), serving CNI calls forwarded by the native shim and the kernel and store work of `nsbox run` and `exec` (agent/run-service.ts), until SIGTERM or
 * SIGINT (the calls in flight finish first), and `ls`, `inspect`, `create` and `rm` for the
 * native client (agent/cli-service.ts). Logs one line per call on stderr. On a root with
 * an etcd cluster (`--etcd`, NSBOX_ETCD, or remembered from `network create --driver overlay`)
 * it also runs the overlay loop (src/overlay/agent-loop.ts): this host's liveness lease, keys,
 * and the data plane of its overlay networks kept as etcd says.
 *
 * `--on-demand` is the agent the CLI starts for itself (agent/on-demand.ts): no overlay loop, no
 * line per call, and it stops after `--idle-exit` (default ON_DEMAND_IDLE_S) without a call served or
 * when nsbox is rebuilt. An agent started by hand stops an on-demand one and takes its place.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from '../../agent/server.js';
import { ON_DEMAND_IDLE_S, buildChangedCheck, claimOnDemand, onDemandAgent, releaseOnDemand } from '../../agent/on-demand.js';
import { CliService } from '../../agent/cli-service.js';
import { CniService } from '../../agent/cni-service.js';
import { ExecService, RunService } from '../../agent/run-service.js';
import { defaultSocket } from '../../agent/socket-path.js';
import type { AgentService } from '../../agent/service.js';
import type { Register } from '../context.js';
import { NsboxError } from '../../errors.js';
import { OverlayAgent } from '../../overlay/agent-loop.js';
import { resolveEtcdSettings, type EtcdFlags } from '../../overlay/settings.js';
import { addEtcdOptions } from './overlay-network.js';
import { main } from '../main.js';
import { useOutputSinks, type OutputSink } from '../output.js';

/** The CLI's main for a client's call (agent/cli-service.ts), its output in the call's own sink. */
function cliRunner(): ConstructorParameters<typeof CliService>[1] {
  const sinks = new AsyncLocalStorage<OutputSink>();
  useOutputSinks(() => sinks.getStore());
  return (argv, out, err) => sinks.run({ out, err }, () => main(argv));
}

interface AgentFlags extends EtcdFlags {
  socket?: string;
  leaseTtl?: string;
  underlay?: string;
  resync?: string;
  grace?: string;
  idleExit?: string;
  onDemand?: boolean;
}

/** How long an agent started by hand waits for the on-demand agent it stopped to let go of the socket. */
const TAKEOVER_WAIT_MS = 10_000;

/**
 * agent.serve(), first stopping the on-demand agent of the socket if there is one (this agent
 * was started by hand: it serves in that one's place, with its options).
 */
async function serveInPlaceOfOnDemand(agent: Agent, onListening: () => void, log: (line: string) => void): Promise<void> {
  const pid = onDemandAgent(agent.socket);
  if (pid === undefined || pid === 0) return agent.serve(onListening);
  log(`stopping the on-demand agent (pid ${pid}) to serve ${agent.socket} in its place`);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // gone meanwhile
  }
  const deadline = Date.now() + TAKEOVER_WAIT_MS;
  for (;;) {
    try {
      return await agent.serve(onListening);
    } catch (err) {
      if ((err as NsboxError).code !== 'NSBOX_ERR_IN_USE' || Date.now() > deadline) throw err;
      await sleep(20); // it finishes its calls in flight first
    }
  }
}

function positive(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new NsboxError(`${flag} ${JSON.stringify(text)}: a whole number ≥ 1`, 'NSBOX_ERR_USAGE');
  return n;
}

/**
 * libuv's thread pool for the agent, unless UV_THREADPOOL_SIZE says otherwise: a link deletion
 * holds a pool thread while the kernel finishes it (its RCU barrier, ~10–25 ms;
 * network/link-deletion.ts), and with the default 4 threads 100 CNI DELs at once queued
 * behind each other (1.18 s for all, against 0.36 s with 32; docs/benchmarks.md, "CNI").
 * libuv reads the variable when the pool starts, at its first use: here before any of the
 * agent's, when started as installed (bin/nsbox → bin/nsbox.cjs). An ES module entry (`node
 * bin/nsbox.js agent`) has started it by then, reading its own file: there set the variable.
 */
const AGENT_THREAD_POOL = '32';

export const register: Register = (program, run) => {
  const cmd = program.command('agent').description('serve CNI calls from the nsbox-cni shim on a unix socket (default ROOT/agent.sock) until SIGTERM; with etcd, keep this host in the overlay')
    .option('--socket <path>', 'the socket (root-only, 0600); the shim finds it through NSBOX_AGENT_SOCKET, else ROOT/agent.sock')
    .option('--lease-ttl <s>', 'overlay: the liveness lease\'s TTL in seconds (default 10)')
    .option('--underlay <addr>', 'overlay: this host\'s underlay address (default: the source address toward etcd)')
    .option('--resync <s>', 'overlay: seconds between full reconciles of the kernel (default 60)')
    .option('--grace <s>', 'overlay: seconds a departed host\'s entries stay (default 2 × TTL)')
    .option('--idle-exit <s>', 'stop after this many seconds without a call served, or when the socket file is removed (default: never; on demand 600)')
    .option('--on-demand', 'the agent the CLI starts when it finds none: no overlay loop, no line per call, stops after --idle-exit or when nsbox is rebuilt');
  addEtcdOptions(cmd);
  cmd.action((opts: AgentFlags) => {
    process.env.UV_THREADPOOL_SIZE ??= AGENT_THREAD_POOL;
    return run(async ({ manager }) => {
      const log = (line: string): void => { process.stderr.write(`nsbox agent: ${line}\n`); };
      const onDemand = opts.onDemand === true;
      const idleExit = positive(opts.idleExit, '--idle-exit') ?? (onDemand ? ON_DEMAND_IDLE_S : undefined);
      // An on-demand agent comes and goes: a host of an overlay runs one started by hand.
      const settings = onDemand ? undefined : resolveEtcdSettings(manager.root, opts, { required: false });
      const ttl = positive(opts.leaseTtl, '--lease-ttl');
      const resync = positive(opts.resync, '--resync');
      const grace = positive(opts.grace, '--grace');
      const overlay = settings === undefined ? undefined : new OverlayAgent({
        manager, settings, ttl, underlay: opts.underlay, log,
        resyncMs: resync === undefined ? undefined : resync * 1000, graceMs: grace === undefined ? undefined : grace * 1000,
      });
      const services = new Map<string, AgentService>([
        ['cni', new CniService(manager, log)], ['run', new RunService(manager)], ['exec', new ExecService(manager)], ['cli', new CliService(manager.root, cliRunner())],
      ]);
      const agent = new Agent({
        socket: opts.socket ?? defaultSocket(manager.root), services, log,
        logCall: onDemand ? () => undefined : log,
        idleExitMs: idleExit === undefined ? undefined : idleExit * 1000,
        outdated: onDemand ? buildChangedCheck() : undefined,
      });
      const stop = (signal: NodeJS.Signals): void => {
        log(`${signal}: finishing the calls in flight`);
        agent.stop();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      const onListening = (): void => {
        if (onDemand) claimOnDemand(agent.socket, manager.root);
        void overlay?.start().catch((err: unknown) => log(`overlay: ${(err as Error).message}`));
      };
      try {
        await (onDemand ? agent.serve(onListening) : serveInPlaceOfOnDemand(agent, onListening, log));
      } finally {
        if (onDemand) releaseOnDemand(agent.socket);
        overlay?.stop();
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
      }
    });
  });
};
