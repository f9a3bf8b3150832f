/**
 * Layer: sandbox.
 *
 * Wrap a failed step with what was being attempted, keeping the cause. The message keeps
 * osl's text (callers match on it), followed by the cause's message.
 */
import { SandboxError } from '../errors.js';

export function wrap(step: string, err: unknown, code?: string): SandboxError {
  const cause = err as { message?: string; code?: string } | undefined;
  return new SandboxError(`${step}: ${cause?.message ?? String(err)}`, code ?? cause?.code ?? 'NSBOX_ERR_SANDBOX', { cause: err });
}

export async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw wrap(what, err);
  }
}
