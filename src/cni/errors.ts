/**
 * Layer: cni (process edge).
 *
 * The CNI error object (SPEC §5 "Error": `{ cniVersion, code, msg, details }`), its codes, and
 * the one table that maps nsbox's errors to them. Parsing in this layer throws `CniError` with
 * the spec's code where it finds the problem (4 in env.ts, 6/7/2 in the config modules, 1 in
 * version.ts); anything else that reaches `runCni` (an nsbox error from the layers below) is
 * mapped by its category (src/errors.ts `categoryOf`), with a few codes that have a more
 * precise CNI meaning, and never to a catch-all 999. `details` then carries nsbox's code and
 * message. A `CniError` never leaves this layer: `runCni` turns every failure into the object.
 */
import { categoryOf, reportedCode, type ErrorCategory } from '../errors.js';
import type { CniCommand } from './env.js';

/** The spec's well-known codes (SPEC §5 table) and nsbox's own (100+, "plugin specific"). */
export const CNI_ERR = {
  /** Incompatible CNI version. */
  INCOMPATIBLE_VERSION: 1,
  /** Unsupported field in network configuration; the message names the key and its value. */
  UNSUPPORTED_FIELD: 2,
  /** Container unknown or does not exist: the runtime need not clean up (call DEL). */
  UNKNOWN_CONTAINER: 3,
  /** Invalid necessary environment variables; the message names them. */
  INVALID_ENV: 4,
  /** I/O failure, e.g. reading the config from stdin. */
  IO_FAILURE: 5,
  /** Failed to decode content (the JSON on stdin). */
  DECODE_FAILURE: 6,
  /** Invalid network config. */
  INVALID_CONFIG: 7,
  /** Try again later: a transient condition. */
  TRY_AGAIN_LATER: 11,
  /** STATUS: the plugin cannot service ADD requests. */
  NOT_AVAILABLE: 50,
  /** STATUS: not available, and existing containers may have limited connectivity. */
  LIMITED_CONNECTIVITY: 51,
  /** nsbox: the request clashes with what exists (an interface or address taken, a pool exhausted, work in progress). */
  NSBOX_CONFLICT: 100,
  /** nsbox: something the request names does not exist (other than the container's namespace, which is 3). */
  NSBOX_NOT_FOUND: 101,
  /** nsbox: the kernel or the system refused, a teardown step failed, or a bug. */
  NSBOX_INTERNAL: 102,
} as const;

export type CniErrorCode = (typeof CNI_ERR)[keyof typeof CNI_ERR];

/** The error object printed on stdout (SPEC §5 "Error"). */
export interface CniErrorObject {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

/** A failure with its CNI code, thrown inside this layer and printed by `runCni`. */
export class CniError extends Error {
  /** One of CNI_ERR, or a delegated plugin's own code passed on as it gave it. */
  readonly cniCode: number;
  /** A longer explanation (the spec's `details`). */
  readonly details: string | undefined;
  /** The config field or environment variable at fault, as a path ('ipam.ranges[0][0].subnet', 'CNI_IFNAME'). */
  readonly field: string | undefined;

  constructor(cniCode: CniErrorCode | number, msg: string, options: { details?: string; field?: string; cause?: unknown } = {}) {
    super(msg, options.cause === undefined ? undefined : { cause: options.cause });
    this.cniCode = cniCode;
    this.details = options.details;
    this.field = options.field;
  }

  override get name(): string {
    return 'CniError';
  }
}

/** Code 7 for a config value that is malformed or out of range; the message names the field. */
export function invalidField(field: string, why: string, details?: string): CniError {
  return new CniError(CNI_ERR.INVALID_CONFIG, `invalid network config: ${field}: ${why}`, { field, details });
}

/**
 * Code 2 for a field nsbox understands but cannot honour: the message names the key and its
 * value (SPEC §5), `details` says why and what would work.
 */
export function unsupportedField(field: string, value: unknown, why: string): CniError {
  return new CniError(CNI_ERR.UNSUPPORTED_FIELD, `unsupported field ${field}=${JSON.stringify(value)}`, { field, details: why });
}

/** The CNI code of an nsbox error category (docs/cni.md, "Error mapping"). */
const BY_CATEGORY: Readonly<Record<ErrorCategory, CniErrorCode>> = {
  usage: CNI_ERR.INVALID_CONFIG,
  'not-found': CNI_ERR.NSBOX_NOT_FOUND,
  conflict: CNI_ERR.NSBOX_CONFLICT,
  transient: CNI_ERR.TRY_AGAIN_LATER,
  internal: CNI_ERR.NSBOX_INTERNAL,
};

/** nsbox codes whose CNI meaning is more precise than their category's. */
const BY_NSBOX_CODE: ReadonlyMap<string, { code: CniErrorCode; msg: string }> = new Map([
  // The container's namespace is gone: the spec's "container unknown or does not exist".
  ['NSBOX_ERR_NETNS_GONE', { code: CNI_ERR.UNKNOWN_CONTAINER, msg: 'the container\'s network namespace does not exist' }],
  // The only namespace file a CNI request names is CNI_NETNS.
  ['NSBOX_ERR_NOT_NETNS', { code: CNI_ERR.INVALID_ENV, msg: 'CNI_NETNS is not a network namespace' }],
  // A plugin run without root (cni/main.ts rewords its EPERM, EACCES): not the config's fault.
  ['NSBOX_ERR_PERMISSION', { code: CNI_ERR.NSBOX_INTERNAL, msg: 'nsbox-cni needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN): the runtime must run it as root' }],
  // Category usage, but a bug above sys/, not bad input.
  ['NSBOX_ERR_NATIVE_ARGS', { code: CNI_ERR.NSBOX_INTERNAL, msg: 'nsbox: internal error' }],
]);

/** The spec's short text for each code (`msg` of a mapped error). */
const SHORT: Readonly<Record<CniErrorCode, string>> = {
  1: 'incompatible CNI version',
  2: 'unsupported field in network configuration',
  3: 'container unknown or does not exist',
  4: 'invalid environment variables',
  5: 'I/O failure',
  6: 'failed to decode content',
  7: 'invalid network config',
  11: 'try again later',
  50: 'plugin not available',
  51: 'plugin not available; existing containers may have limited connectivity',
  100: 'nsbox: conflict with existing state',
  101: 'nsbox: not found',
  102: 'nsbox: internal error',
};

/** `CODE: message` of an error, and of each error inside an AggregateError. */
function describe(err: unknown): string {
  const text = (e: unknown): string => `${reportedCode(e)}: ${e instanceof Error ? e.message : String(e)}`;
  if (err instanceof AggregateError) return [text(err), ...err.errors.map(text)].join('; ');
  return text(err);
}

/**
 * Any thrown value as a CniError: itself if it is one; for STATUS, code 50 (whatever keeps
 * nsbox from answering is what keeps it from serving ADD); otherwise by nsbox code, then by
 * category. `details` is nsbox's code and message.
 */
export function cniErrorOf(err: unknown, command: CniCommand | undefined): CniError {
  if (err instanceof CniError) return err;
  const details = describe(err);
  if (command === 'STATUS') return new CniError(CNI_ERR.NOT_AVAILABLE, SHORT[CNI_ERR.NOT_AVAILABLE], { details, cause: err });
  const byCode = BY_NSBOX_CODE.get(reportedCode(err));
  if (byCode !== undefined) return new CniError(byCode.code, byCode.msg, { details, cause: err });
  const code = BY_CATEGORY[categoryOf(err)];
  return new CniError(code, SHORT[code], { details, cause: err });
}

/** The error object for stdout. */
export function encodeCniError(err: CniError, cniVersion: string): CniErrorObject {
  const out: CniErrorObject = { cniVersion, code: err.cniCode, msg: err.message };
  if (err.details !== undefined && err.details !== '') out.details = err.details;
  return out;
}
