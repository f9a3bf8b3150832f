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
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent } from '../../agent/server.js';
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
    .option('--grace <s>', 'overlay: seconds a departed host\'s entries stay (default 2 × TTL)');
  addEtcdOptions(cmd);
  cmd.action((opts: AgentFlags) => {
    process.env.UV_THREADPOOL_SIZE ??= AGENT_THREAD_POOL;
    return run(async ({ manager }) => {
      const log = (line: string): void => { process.stderr.write(`nsbox agent: ${line}\n`); };
      const settings = resolveEtcdSettings(manager.root, opts, { required: false });
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
      const agent = new Agent({ socket: opts.socket ?? defaultSocket(manager.root), services, log });
      const stop = (signal: NodeJS.Signals): void => {
        log(`${signal}: finishing the calls in flight`);
        agent.stop();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      try {
        await agent.serve(() => { void overlay?.start().catch((err: unknown) => log(`overlay: ${(err as Error).message}`)); });
      } finally {
        overlay?.stop();
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
      }
    });
  });
};
