/**
 * Layer: cli.
 *
 * The CLI's exit codes and the one table that maps error categories to them (docs/cli.md,
 * EXIT STATUS). No command picks an exit code for an error: it throws, and main.ts asks here.
 */
import { categoryOf, type ErrorCategory } from '../errors.js';

export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  /** A temporary condition (sysexits' EX_TEMPFAIL): the same command may succeed later. */
  TRANSIENT: 75,
} as const;

const BY_CATEGORY: Readonly<Record<ErrorCategory, number>> = {
  usage: EXIT.USAGE,
  'not-found': EXIT.NOT_FOUND,
  conflict: EXIT.CONFLICT,
  transient: EXIT.TRANSIENT,
  internal: EXIT.FAILURE,
};

/** The exit code an error maps to, by its category. */
export function exitCodeOf(err: unknown): number {
  return BY_CATEGORY[categoryOf(err)];
}
