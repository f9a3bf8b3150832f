/**
 * Layer: sys.
 *
 * Replacing this process with another program (execve), for `nsbox exec`: the helper and then
 * the command take over the process, so its pid, signals and exit status are the command's
 * with nothing in between (no child to spawn, supervise and wait for).
 */
import { native } from './binding.js';

/**
 * execve(file, argv, env) in place of this process. The native side first puts back what Node
 * changed for itself (SIGPIPE and SIGXFSZ ignored, blocked signals, non-blocking stdio). Never
 * returns: throws SysError when the exec failed (nothing changed then). Nothing of this
 * process runs afterwards, its 'exit' listeners included: the caller runs what must run first.
 */
export function execReplace(file: string, argv: readonly string[], env: NodeJS.ProcessEnv): never {
  const entries = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  native().execReplace(file, argv, entries);
  throw new Error(`execve ${file} returned`); // unreachable: the native call throws when it fails
}
