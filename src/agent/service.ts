/**
 * Layer: agent (process edge).
 *
 * What the agent serves: one AgentService per request kind ("cni" now; the overlay of issue
 * 15 next). A service answers a decoded request (protocol.ts) and says in a few words what
 * the call was, for the agent's one log line per call; it never logs stdin.
 */
import type { Socket } from 'node:net';
import type { AgentReply, AgentRequest } from './protocol.js';

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
