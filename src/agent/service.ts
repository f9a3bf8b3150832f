/**
 * Layer: agent (process edge).
 *
 * What the agent serves: one AgentService per request kind ("cni" now; the overlay of issue
 * 15 next). A service answers a decoded request (protocol.ts) and says in a few words what
 * the call was, for the agent's one log line per call; it never logs stdin.
 */
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { DEFAULT_ROOT } from '../managed/index.js';
import { STATUS, type AgentReply, type AgentRequest } from './protocol.js';

export interface AgentService {
  /** Answer one request; must not throw (a failure is a served reply with a non-zero exit code). */
  handle(request: AgentRequest): Promise<AgentReply>;
  /** A few words for the log line ("ADD ctr-a eth0"): never the stdin. */
  describe(request: AgentRequest): string;
  /**
   * A kind that talks longer than one reply ("run": the sandbox's details, then the command's
   * outcome from the client, then the removal's): given the connection once its request is
   * read, it answers through it itself, in the same frames, and ends it. The agent then
   * neither calls handle() nor writes a reply. Must not throw.
   */
  converse?(request: AgentRequest, conn: Socket): Promise<{ exitCode: number; note: string }>;
  /** After the last call, when the agent stops. */
  close(): void;
}

/** A declined reply: the client runs the call itself; `why` is for the log and its stderr. */
export function declined(why: string): AgentReply {
  return { status: STATUS.declined, exitCode: 0, stdout: '', stderr: why };
}

/**
 * Why a call is for another state root than `served`, the agent's (the call's NSBOX_ROOT, empty
 * as unset, as StateRoot reads it), or undefined when it is the agent's.
 */
export function otherRoot(served: string, env: Readonly<Record<string, string>>): string | undefined {
  const root = env.NSBOX_ROOT || DEFAULT_ROOT;
  return resolve(root) === resolve(served) ? undefined : `this agent serves the state root ${served}, the call's NSBOX_ROOT is ${root}`;
}
