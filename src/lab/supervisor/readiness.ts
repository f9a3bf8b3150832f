/**
 * Layer: lab.
 *
 * One try of a process's readiness check (model.ts ReadyCheck), run in its node: `tcp` a
 * connect made inside the node's namespace (Manager.tcpConnects: the socket is made there),
 * `command` the command run in the node as `nsbox exec` runs one (ready when it exits 0; killed
 * if it outlasts the time left), `log` the text seen in the process's output (the caller
 * watches its output and says so).
 */
import type { Manager } from '../../managed/index.js';
import type { ReadyCheck } from '../model.js';

export interface ReadyTry {
  manager: Manager;
  sandbox: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Whether the process's output has shown the `log` text since it started. */
  logSeen: boolean;
  /** ms left before the check's timeout. */
  leftMs: number;
}

async function commandSucceeds(t: ReadyTry, argv: string[]): Promise<boolean> {
  const child = await t.manager.spawnIn(t.sandbox, argv, { stdio: 'ignore', env: t.env, cwd: t.cwd });
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(t.leftMs, 1));
    child.once('error', () => { clearTimeout(timer); resolve(false); });
    child.once('exit', (code) => { clearTimeout(timer); resolve(code === 0); });
  });
}

export async function readyOnce(check: ReadyCheck, t: ReadyTry): Promise<boolean> {
  switch (check.kind) {
    case 'tcp': return t.manager.tcpConnects(t.sandbox, check.host, check.port, Math.max(1, Math.min(t.leftMs, 1000)));
    case 'command': return commandSucceeds(t, check.argv);
    case 'log': return t.logSeen;
  }
}

/** How long to wait between tries (a log check looks at what was already seen: often). */
export const intervalOf = (check: ReadyCheck): number => (check.kind === 'log' ? 25 : check.intervalMs);
