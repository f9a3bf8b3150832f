/**
 * Test helper (not a test, not product code): a CniBackend that acts on nothing and records
 * every call it gets, so tests of runCni see exactly what reached the backend. `add` answers
 * with `addResult`; `fail` makes the next call of one operation throw the given error.
 */
import type { AddRequest, CheckRequest, CniBackend, DelRequest, GcRequest, StatusRequest } from '../../../src/cni/backend.js';
import type { CniResult } from '../../../src/cni/result.js';

export type RecordedCall =
  | { op: 'add'; request: AddRequest }
  | { op: 'del'; request: DelRequest }
  | { op: 'check'; request: CheckRequest }
  | { op: 'status'; request: StatusRequest }
  | { op: 'gc'; request: GcRequest };

type Op = RecordedCall['op'];

export class RecordingBackend implements CniBackend {
  readonly calls: RecordedCall[] = [];
  addResult: CniResult = { interfaces: [], ips: [], routes: [], dns: {} };
  readonly #failures = new Map<Op, unknown>();

  /** The next call of `op` throws `err` (after being recorded). */
  fail(op: Op, err: unknown): this {
    this.#failures.set(op, err);
    return this;
  }

  /** Record the call; a rejection if a failure was set for its operation. */
  #record(call: RecordedCall): Promise<void> {
    this.calls.push(call);
    if (!this.#failures.has(call.op)) return Promise.resolve();
    const err = this.#failures.get(call.op);
    this.#failures.delete(call.op);
    return Promise.reject(err as Error);
  }

  add(request: AddRequest): Promise<CniResult> {
    return this.#record({ op: 'add', request }).then(() => this.addResult);
  }

  del(request: DelRequest): Promise<void> {
    return this.#record({ op: 'del', request });
  }

  check(request: CheckRequest): Promise<void> {
    return this.#record({ op: 'check', request });
  }

  status(request: StatusRequest): Promise<void> {
    return this.#record({ op: 'status', request });
  }

  gc(request: GcRequest): Promise<void> {
    return this.#record({ op: 'gc', request });
  }
}
