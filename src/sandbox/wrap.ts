/**
 * Layer: sandbox.
 *
 * Wrap a failed step with what was being attempted, keeping the cause. The message keeps
 * osl's text (callers match on it), followed by the cause's message; the code is the
 * cause's (an errno name or an nsbox code) unless the step gives its own.
 */
import { ERROR_CODES, SandboxError, type ErrnoCode, type ErrorCode } from '../errors.js';

/** The code a wrapped error passes on: an nsbox code or an errno name (not Node's ERR_* codes). */
function inheritedCode(code: unknown): ErrorCode | ErrnoCode {
  if (typeof code !== 'string') return 'NSBOX_ERR_SANDBOX';
  if (Object.hasOwn(ERROR_CODES, code)) return code as ErrorCode;
  return /^E[A-Z0-9]+$/.test(code) ? (code as ErrnoCode) : 'NSBOX_ERR_SANDBOX';
}

export function wrap(step: string, err: unknown, code?: ErrorCode): SandboxError {
  const cause = err as { message?: string; code?: unknown } | undefined;
  const inherited = inheritedCode(cause?.code);
  return new SandboxError(`${step}: ${cause?.message ?? String(err)}`, code ?? inherited, { cause: err });
}
