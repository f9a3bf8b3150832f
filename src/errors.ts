/**
 * Layer: leaf (any module may import).
 *
 * Every error class nsbox throws. Stable `code` strings are the contract (docs/errors.md);
 * `instanceof` is a convenience. System and kernel errors follow Node's SystemError shape:
 * `code` is the glibc errno name and `errno` is negative, as in `fs` errors.
 */
import { errnoName } from './errno.js';

export interface NsboxErrorOptions {
  cause?: unknown;
}

/** Base class of every error nsbox defines. */
export class NsboxError extends Error {
  readonly code: string;

  constructor(message: string, code: string, options?: NsboxErrorOptions) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** A failed system call: `code` is the errno name, `errno` is negative. */
export class SysError extends NsboxError {
  readonly errno: number;
  readonly syscall: string;
  readonly path: string | undefined;

  constructor(errno: number, syscall: string, path?: string) {
    const code = errnoName(errno);
    super(`${syscall}${path === undefined ? '' : ` ${path}`}: ${code}`, code);
    this.errno = -Math.abs(errno);
    this.syscall = syscall;
    this.path = path;
  }
}

/** The kernel's extended acknowledgement: its explanation and the offending byte offset. */
export interface Extack {
  message?: string;
  offset?: number;
}

/** The kernel refused a netlink request. The message reads `RTM_NEWLINK: EEXIST: <kernel text>`. */
export class NetlinkError extends NsboxError {
  readonly errno: number;
  /** The request type, e.g. 'RTM_NEWLINK'. */
  readonly op: string;
  readonly extack: Extack | undefined;
  /** In a batch (NetlinkSocket.requestBatch), the index of the message the kernel refused. */
  readonly batchIndex: number | undefined;

  constructor(errno: number, op: string, extack?: Extack, batchIndex?: number) {
    const code = errnoName(errno);
    const text = extack?.message ? `: ${extack.message}` : '';
    const where = batchIndex === undefined ? op : `${op} (batch message ${batchIndex})`;
    super(`${where}: ${code}${text}`, code);
    this.errno = -Math.abs(errno);
    this.op = op;
    this.extack = extack;
    this.batchIndex = batchIndex;
  }
}

/** A dump kept being interrupted by concurrent changes (NLM_F_DUMP_INTR) after every retry. */
export class DumpInterruptedError extends NsboxError {
  readonly op: string;
  readonly attempts: number;
  readonly retryable = true;

  constructor(op: string, attempts: number) {
    super(
      `${op}: dump interrupted by concurrent changes ${attempts} times in a row; the data would be inconsistent, so none is returned — retry the call`,
      'NSBOX_ERR_DUMP_INTR',
    );
    this.op = op;
    this.attempts = attempts;
  }
}

/** A netlink request got no answer in time. */
export class TimeoutError extends NsboxError {
  readonly op: string;
  readonly timeoutMs: number;

  constructor(op: string, timeoutMs: number) {
    super(`${op}: no answer from the kernel within ${timeoutMs} ms`, 'NSBOX_ERR_TIMEOUT');
    this.op = op;
    this.timeoutMs = timeoutMs;
  }
}

/** Malformed wire data: truncated headers, attributes past the end, bad lengths. */
export class DecodeError extends NsboxError {
  /** Byte offset in the buffer being decoded where the problem was found. */
  readonly offset: number;
  /** What was being decoded, e.g. 'nlmsghdr' or 'IFLA_IFNAME'. */
  readonly what: string;

  constructor(what: string, offset: number, detail: string) {
    super(`cannot decode ${what} at byte ${offset}: ${detail}`, 'NSBOX_ERR_DECODE');
    this.what = what;
    this.offset = offset;
  }
}

/** Bad configuration: an invalid or conflicting setting. `field` names it. */
export class ConfigError extends NsboxError {
  readonly field: string;

  constructor(message: string, field: string, options?: NsboxErrorOptions) {
    super(message, 'NSBOX_ERR_CONFIG', options);
    this.field = field;
  }
}

/** A socket or handle was used after close(). */
export class ClosedError extends NsboxError {
  constructor(what: string) {
    super(`${what} is closed`, 'NSBOX_ERR_CLOSED');
  }
}

/** The request was cancelled by its AbortSignal. */
export class AbortError extends NsboxError {
  constructor(what: string, options?: NsboxErrorOptions) {
    super(`${what} was aborted`, 'ABORT_ERR', options);
  }
}

/**
 * A sandbox operation failed. The message starts with the step that failed, in osl's words
 * (callers match on texts such as "conflicts with existing route"); `cause` is the error
 * underneath and `code` is its code (an errno name, or NSBOX_ERR_*).
 */
export class SandboxError extends NsboxError {}

/**
 * osl NeighborSearchError: addNeighbor found the entry already present (`present: true`),
 * or deleteNeighbor found it missing (`present: false`).
 */
export class NeighborSearchError extends NsboxError {
  readonly ip: string;
  readonly mac: string;
  readonly linkName: string | undefined;
  readonly present: boolean;

  constructor(ip: string, mac: string, linkName: string | undefined, present: boolean, options?: NsboxErrorOptions) {
    const link = linkName === undefined ? '' : `, link ${linkName}`;
    super(
      `neighbor entry ${present ? 'already exists' : 'not found'} for IP ${ip}, mac ${mac}${link}`,
      present ? 'NSBOX_ERR_NEIGHBOR_EXISTS' : 'NSBOX_ERR_NEIGHBOR_NOT_FOUND',
      options,
    );
    this.ip = ip;
    this.mac = mac;
    this.linkName = linkName;
    this.present = present;
  }
}

/** Exit codes of the nsbox CLI (docs/cli.md). */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  /** nsbox failed before it could run the command of `exec`/`run`. */
  EXEC_FAILED: 125,
} as const;

/** An error the CLI reports as one line with a chosen exit code. */
export class CliError extends NsboxError {
  readonly exitCode: number;

  constructor(message: string, code: string, exitCode: number, options?: NsboxErrorOptions) {
    super(message, code, options);
    this.exitCode = exitCode;
  }
}
