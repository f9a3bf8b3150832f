/**
 * Layer: agent (process edge), pure.
 *
 * Where the agent listens by default: in its state root, so agents of several roots never
 * collide, and a client finds it from the same NSBOX_ROOT the call carries
 * (native/cni-shim.c computes the same path).
 */
import { join } from 'node:path';

export const SOCKET_FILE = 'agent.sock';

/** `ROOT/agent.sock`. */
export function defaultSocket(root: string): string {
  return join(root, SOCKET_FILE);
}

/** The lock an agent holds on its socket for its whole life (a second agent is refused). */
export function socketLock(socket: string): string {
  return `${socket}.lock`;
}

/** sun_path holds 108 bytes, the terminating NUL included. */
export const MAX_SOCKET_PATH = 107;
