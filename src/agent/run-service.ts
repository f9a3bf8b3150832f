/**
 * Layer: agent (process edge).
 *
 * The "run" kind: the kernel and store work of `nsbox run -- CMD` done by the agent, which has
 * Node, the library and the store already up, for a client that only starts the command
 * (src/cli/run-handoff.ts, native/handoff-client.c; docs/benchmarks.md, "Cold start"). The same managed `run` as the
 * CLI's (networks, run lock, sandbox, connections, removal), with its `launch` step handed to
 * the client over the connection:
 *
 *   client → request (kind "run", stdin: JSON RunSpec, env: NSBOX_ROOT)
 *   agent  → reply: served, stdout the target "NAME\0NETNS\0ETCDIR" (protocol.ts encodeTarget),
 *            stderr the warnings to print
 *            (or declined, with the reason: the client then runs the whole command itself)
 *   client → one JSON line {code, signal?} once the command ended
 *   agent  → reply: served, stderr what the removal and the host changes say; end
 *
 * The run lock is the agent's for the run's life, so gc never takes a live run's sandbox.
 * A client that goes away (killed) ends the conversation: the sandbox is removed at once.
 * The agent declines before doing anything when the call names another root, when a network
 * it would connect to does not exist yet (the first run makes nsbox0, and says what that
 * changed on the host, in-process), and whenever its part fails before the command starts
 * (after undoing it): the client's own run then says what was wrong, exactly as without an
 * agent.
 */
import type { Socket } from 'node:net';
import type { ChildOutcome, Manager } from '../managed/index.js';
import { STATUS, encodeReply, encodeTarget, type AgentReply, type AgentRequest } from './protocol.js';
import { declined, otherRoot, type AgentService } from './service.js';

/** What the client asks for: `nsbox run`'s options it hands off (run-handoff.ts parses them). */
export interface RunSpec {
  argv: string[];
  name: string;
  networks?: string[];
  ip?: string;
  dns?: string[];
}

const DEFAULT_NETWORK = 'nsbox0';
/** The longest outcome line a client may send. */
const MAX_OUTCOME_BYTES = 4096;

function parseSpec(text: string): RunSpec | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const o = v as Partial<RunSpec>;
  const strings = (a: unknown): boolean => Array.isArray(a) && a.every((s) => typeof s === 'string');
  if (typeof v !== 'object' || v === null || !strings(o.argv) || o.argv!.length === 0 || typeof o.name !== 'string') return undefined;
  if ((o.networks !== undefined && !strings(o.networks)) || (o.dns !== undefined && !strings(o.dns)) || (o.ip !== undefined && typeof o.ip !== 'string')) return undefined;
  return o as RunSpec;
}

/** The client's outcome line, or undefined when it went away without one. */
function clientOutcome(conn: Socket): Promise<ChildOutcome | undefined> {
  return new Promise((resolveOutcome) => {
    let text = '';
    const done = (o: ChildOutcome | undefined): void => {
      conn.off('data', onData);
      resolveOutcome(o);
    };
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl < 0) {
        if (text.length > MAX_OUTCOME_BYTES) done(undefined);
        return;
      }
      try {
        const o = JSON.parse(text.slice(0, nl)) as ChildOutcome;
        done(Number.isInteger(o.code) ? { code: o.code, ...(typeof o.signal === 'string' ? { signal: o.signal } : {}) } : undefined);
      } catch {
        done(undefined);
      }
    };
    conn.on('data', onData);
    conn.once('end', () => done(undefined));
    conn.once('close', () => done(undefined));
  });
}

function send(conn: Socket, reply: AgentReply, end: boolean): Promise<void> {
  return new Promise((resolveSent) => {
    if (conn.destroyed || !conn.writable) { resolveSent(); return; }
    const frame = encodeReply(reply);
    if (end) conn.end(frame, () => resolveSent());
    else conn.write(frame, () => resolveSent());
    conn.once('close', () => resolveSent());
  });
}

export class RunService implements AgentService {
  readonly #manager: Manager;

  constructor(manager: Manager) {
    this.#manager = manager;
  }

  handle(): Promise<AgentReply> {
    return Promise.resolve(declined('run is a conversation'));
  }

  describe(request: AgentRequest): string {
    return parseSpec(request.stdin)?.name ?? '(bad request)';
  }

  async converse(request: AgentRequest, conn: Socket): Promise<{ exitCode: number; note: string }> {
    const decline = async (why: string): Promise<{ exitCode: number; note: string }> => {
      await send(conn, declined(why), true);
      return { exitCode: 0, note: `declined: ${why}` };
    };
    const elsewhere = otherRoot(this.#manager.root, request.env);
    if (elsewhere !== undefined) return decline(elsewhere);
    const spec = parseSpec(request.stdin);
    if (spec === undefined) return decline('not a run request');
    const wanted = spec.networks?.length ? spec.networks : [DEFAULT_NETWORK];
    let missing: string | undefined;
    try {
      const known = new Set(this.#manager.networks().map((n) => n.name));
      missing = wanted.find((n) => !known.has(n));
    } catch (err) {
      return decline((err as Error).message);
    }
    if (missing !== undefined) return decline(`no network ${missing} yet`);
    let launched = false;
    let warnings = '';
    let removal = '';
    try {
      const outcome = await this.#manager.run(spec.argv, {
        name: spec.name, networks: spec.networks, ip: spec.ip, dns: spec.dns,
        beforeSpawn: () => { warnings = this.#manager.takeWarnings().map((w) => `nsbox: ${w}\n`).join(''); },
        onRemoved: (r) => { if (r.errors.length > 0) removal += `nsbox: cleaning up ${r.name}: ${r.errors.join('; ')}\n`; },
        launch: async (sandbox) => {
          launched = true;
          await send(conn, { status: STATUS.served, exitCode: 0, stdout: encodeTarget(sandbox), stderr: warnings }, false);
          return (await clientOutcome(conn)) ?? { code: 1, signal: 'SIGKILL' };
        },
      });
      for (const c of this.#manager.takeHostChanges()) {
        if (c.first) removal += `nsbox: set ${c.key} = ${c.value} on this host (it was ${c.previous}; recorded in the state database)\n`;
      }
      this.#manager.takeForwardFindings(); // only made with a network, which this kind never makes
      await send(conn, { status: STATUS.served, exitCode: 0, stdout: '', stderr: removal }, true);
      return { exitCode: outcome.code, note: '' };
    } catch (err) {
      this.#manager.takeWarnings();
      if (!launched) return decline((err as Error).message);
      // After the launch only the removal can fail (run's finally): said to the client.
      await send(conn, { status: STATUS.served, exitCode: 1, stdout: '', stderr: `${removal}nsbox: ${(err as Error).message}\n` }, true);
      return { exitCode: 1, note: (err as Error).message };
    }
  }

  close(): void {
    // The manager is the agent's (closed by the CNI service, which shares it).
  }
}

/**
 * The "exec" kind: what `nsbox exec NAME -- CMD` does before it starts the command (the record
 * found, its names files brought up to date), for a client that then starts it itself through
 * `nsbox-exec --netns FILE`. One request, one reply: stdout the target (encodeTarget), stderr
 * the warnings to print. Declined (the client then runs the whole command itself, and says
 * what was wrong as without an agent) for another root, a bad request, or any error.
 */
export class ExecService implements AgentService {
  readonly #manager: Manager;

  constructor(manager: Manager) {
    this.#manager = manager;
  }

  handle(request: AgentRequest): Promise<AgentReply> {
    const elsewhere = otherRoot(this.#manager.root, request.env);
    if (elsewhere !== undefined) return Promise.resolve(declined(elsewhere));
    const name = execName(request.stdin);
    if (name === undefined) return Promise.resolve(declined('not an exec request'));
    try {
      const target = this.#manager.execTarget(name);
      const warnings = this.#manager.takeWarnings().map((w) => `nsbox: ${w}\n`).join('');
      return Promise.resolve({ status: STATUS.served, exitCode: 0, stdout: encodeTarget(target), stderr: warnings });
    } catch (err) {
      this.#manager.takeWarnings();
      return Promise.resolve(declined((err as Error).message));
    }
  }

  describe(request: AgentRequest): string {
    return execName(request.stdin) ?? '(bad request)';
  }

  close(): void {
    // The manager is the agent's.
  }
}

function execName(stdin: string): string | undefined {
  try {
    const v = JSON.parse(stdin) as { name?: unknown };
    return typeof v === 'object' && v !== null && typeof v.name === 'string' ? v.name : undefined;
  } catch {
    return undefined;
  }
}
