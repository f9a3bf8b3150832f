/**
 * Layer: leaf (any module may import).
 *
 * Node built-ins that only some paths need, loaded on first use instead of with the module
 * that names them: `node:crypto`, `node:child_process`, `node:net` (with `node:stream`
 * under them) and `node:os` are not in Node's startup snapshot, and compiling them costs a
 * cold start up to several ms each (docs/benchmarks.md, "Cold start"): `nsbox ls` needs none.
 */
import { createRequire } from 'node:module';
import type * as CryptoModule from 'node:crypto';
import type * as ChildProcessModule from 'node:child_process';
import type * as NetModule from 'node:net';
import type * as OsModule from 'node:os';

type Crypto = typeof CryptoModule;
type ChildProcesses = typeof ChildProcessModule;
type Net = typeof NetModule;
type Os = typeof OsModule;

const load = createRequire(import.meta.url);
let crypto: Crypto | undefined;
let childProcesses: ChildProcesses | undefined;
let net: Net | undefined;
let os: Os | undefined;

export function nodeCrypto(): Crypto {
  crypto ??= load('node:crypto') as Crypto;
  return crypto;
}

export function nodeChildProcess(): ChildProcesses {
  childProcesses ??= load('node:child_process') as ChildProcesses;
  return childProcesses;
}

export function nodeNet(): Net {
  net ??= load('node:net') as Net;
  return net;
}

export function nodeOs(): Os {
  os ??= load('node:os') as Os;
  return os;
}
