/**
 * Layer: managed.
 *
 * A deferred-names scope: while an async function runs inside `deferNames` (names.ts), every
 * names refresh it (and only it: the scope follows its async context, not the process) asks for
 * is merged here instead of written, and written once when the function ends. A `lab up` that
 * connects N sandboxes to one network rewrites each hosts file once instead of N times.
 *
 * Crash safety: a process killed inside the scope has not written the files it deferred. They
 * stay stale until the next refresh that covers them: `nsbox gc` (every sandbox), `restore`, or
 * the caller's own recovery (`lab up` resuming an interrupted `up` refreshes all its networks
 * and nodes).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What a refresh covers (names.ts NamesScope, repeated here so this module stays a leaf). */
export interface PendingNames {
  all: boolean;
  sandboxes: Set<string>;
  networks: Set<string>;
  resolv: boolean;
  ensure: boolean;
}

const deferred = new AsyncLocalStorage<{ root: object; pending: PendingNames }>();

export const emptyPending = (): PendingNames => ({ all: false, sandboxes: new Set(), networks: new Set(), resolv: false, ensure: false });

/** The pending refresh of the scope the caller runs in, for this root; undefined outside one. */
export function pendingFor(root: object): PendingNames | undefined {
  const s = deferred.getStore();
  return s !== undefined && s.root === root ? s.pending : undefined;
}

/** Merge one refresh into a pending one. */
export function mergePending(into: PendingNames, scope: { all?: boolean; sandboxes?: readonly string[]; networks?: readonly string[]; resolv?: boolean; ensure?: boolean }): void {
  if (scope.all) into.all = true;
  for (const s of scope.sandboxes ?? []) into.sandboxes.add(s);
  for (const n of scope.networks ?? []) into.networks.add(n);
  if (scope.resolv) into.resolv = true;
  if (scope.ensure) into.ensure = true;
}

/** Run `fn` with refreshes for `root` collected into `pending`. */
export function runDeferred<T>(root: object, pending: PendingNames, fn: () => Promise<T>): Promise<T> {
  return deferred.run({ root, pending }, fn);
}
