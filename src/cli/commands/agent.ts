/**
 * Layer: cli.
 *
 * `nsbox agent [--socket PATH]`: the host agent (agent/server.ts) on the state root
 * (--root / NSBOX_ROOT), serving CNI calls forwarded by the native shim, until SIGTERM or
 * SIGINT (the calls in flight finish first). Logs one line per call on stderr.
 */
import { Agent } from '../../agent/server.js';
import { CniService } from '../../agent/cni-service.js';
import { defaultSocket } from '../../agent/socket-path.js';
import type { AgentService } from '../../agent/service.js';
import type { Register } from '../context.js';

export const register: Register = (program, run) => {
  program.command('agent').description('serve CNI calls from the nsbox-cni shim on a unix socket (default ROOT/agent.sock) until SIGTERM')
    .option('--socket <path>', 'the socket (root-only, 0600); the shim finds it through NSBOX_AGENT_SOCKET, else ROOT/agent.sock')
    .action((opts: { socket?: string }) => run(async ({ manager }) => {
      const log = (line: string): void => { process.stderr.write(`nsbox agent: ${line}\n`); };
      const services = new Map<string, AgentService>([['cni', new CniService(manager, log)]]);
      const agent = new Agent({ socket: opts.socket ?? defaultSocket(manager.root), services, log });
      const stop = (signal: NodeJS.Signals): void => {
        log(`${signal}: finishing the calls in flight`);
        agent.stop();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      try {
        await agent.serve();
      } finally {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
      }
    }));
};
