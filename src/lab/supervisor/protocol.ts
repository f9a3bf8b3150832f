/**
 * Layer: lab.
 *
 * The supervisor's control protocol: JSON lines over its unix socket. A client writes one
 * request per line and reads one response line per request, in order. Every request has an
 * `op`; the supervisor's own are `status`, `reload` and `stop`, the others belong to a
 * service (supervisor/service.ts: the processes' are `signal`, `restart` and `await-ready`, the delay's `delay-set`).
 */

export type SupervisorRequest =
  | { op: 'status' }
  /** Read the lab's spec again from its record (`up` wrote it) and bring every service to it. */
  | { op: 'reload' }
  /** Stop every service, then the supervisor. */
  | { op: 'stop' }
  | { op: 'signal'; node: string; process: string; signal: string }
  | { op: 'restart'; node: string; process: string }
  /** Answer once every process has become ready or failed. */
  | { op: 'await-ready' }
  /** The delay engine of one link direction (all 0: none): `lab impair`, a fault's impairment set. */
  | { op: 'delay-set'; link: string; dir: 'a->b' | 'b->a'; delayMs: number; jitterMs: number; loss: number };

export type SupervisorResponse =
  | { ok: true; result: unknown }
  | { ok: false; error: string; code: string };

/** Lines longer than this are refused (a request is small). */
export const MAX_LINE = 1 << 20;

/** Split complete lines off a buffer; the rest waits for more data. */
export function takeLines(buffer: string): { lines: string[]; rest: string } {
  const parts = buffer.split('\n');
  const rest = parts.pop() ?? '';
  return { lines: parts.filter((l) => l.trim() !== ''), rest };
}
