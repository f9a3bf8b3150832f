/**
 * Layer: agent (process edge).
 *
 * What the agent serves: one AgentService per request kind ("cni" now; the overlay of issue
 * 15 next). A service answers a decoded request (protocol.ts) and says in a few words what
 * the call was, for the agent's one log line per call; it never logs stdin.
 */
import type { AgentReply, AgentRequest } from './protocol.js';

export interface AgentService {
  /** Answer one request; must not throw (a failure is a served reply with a non-zero exit code). */
  handle(request: AgentRequest): Promise<AgentReply>;
  /** A few words for the log line ("ADD ctr-a eth0"): never the stdin. */
  describe(request: AgentRequest): string;
  /** After the last call, when the agent stops. */
  close(): void;
}
