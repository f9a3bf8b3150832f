/**
 * Layer: leaf (any module may import).
 *
 * Every error class nsbox throws, and the closed table of its error codes. A code is the
 * contract (docs/errors.md is checked against ERROR_CODES by a test); `instanceof` is a
 * convenience. Each code has a category, and the process edges map categories, never
 * messages, to their outcomes: the CLI to exit codes, the CNI plugin to CNI error codes.
 * System and kernel errors follow Node's SystemError shape: `code` is the glibc errno name
 * and `errno` is negative, as in `fs` errors.
 */
import { errnoName, errnoText } from './errno.js';

/** What kind of failure an error is, for whoever decides what happens next. */
export type ErrorCategory =
  /** Bad input: arguments, names, addresses, configuration. Retrying the same call fails again. */
  | 'usage'
  /** Something named does not exist (a sandbox, network, link, route, a namespace that is gone). */
  | 'not-found'
  /** The request clashes with what exists: a name taken, an address in use, work in progress. */
  | 'conflict'
  /** A temporary condition (a timeout, an interrupted dump): the same call may succeed later. */
  | 'transient'
  /** Anything else: the kernel or the system refused, a teardown step failed, a bug. */
  | 'internal';

interface CodeInfo {
  readonly category: ErrorCategory;
  /** When it is raised (docs/errors.md repeats it). */
  readonly when: string;
}

/** Every code nsbox defines (errno names, which system and kernel errors carry, are separate). */
export const ERROR_CODES = {
  NSBOX_ERR_USAGE: { category: 'usage', when: 'bad arguments to a command: a name, address, CIDR, MAC, label or option combination' },
  NSBOX_ERR_CONFIG: { category: 'usage', when: 'bad configuration: an interface option, a master that is not a bridge, network settings (subnet, gateway, MTU, parent, driver)' },
  NSBOX_ERR_LAB_FILE: { category: 'usage', when: 'a lab topology file (docs/labs.md) that is not valid YAML or not a valid lab: every problem listed as FILE:LINE:COL: path: message' },
  NSBOX_ERR_NAME: { category: 'usage', when: 'a generated interface name would exceed 15 bytes' },
  NSBOX_ERR_MOUNT_NAMESPACE: { category: 'usage', when: 'nsbox runs in a mount namespace of its own (`ip netns exec H nsbox …`, `unshare -m nsbox …`) where a sandbox\'s namespace file would vanish with the command: nothing was made; run `nsenter --net=/run/netns/H nsbox …` instead' },
  NSBOX_ERR_PERMISSION: { category: 'usage', when: 'nsbox was refused a privileged step (EPERM, EACCES) while running without root (CAP_SYS_ADMIN and CAP_NET_ADMIN): run it as root' },
  NSBOX_ERR_NOT_NETNS: { category: 'usage', when: 'a file given as a network namespace is not one' },
  NSBOX_ERR_NOT_SUPPORTED: { category: 'usage', when: 'a feature this version does not have yet (a lab fault\'s signal, a delay or jitter asked of a running lab): nothing was changed' },
  NSBOX_ERR_NOT_FOUND: { category: 'not-found', when: 'no such sandbox, network, interface, host link, route or default route' },
  NSBOX_ERR_NETNS_GONE: { category: 'not-found', when: 'a sandbox\'s network namespace is gone (after a reboot, or removed behind nsbox\'s back)' },
  NSBOX_ERR_NO_ROUTE: { category: 'not-found', when: 'no directly connected route to a gateway' },
  NSBOX_ERR_NEIGHBOR_NOT_FOUND: { category: 'not-found', when: 'deleteNeighbor of an entry that is not there' },
  NSBOX_ERR_EXISTS: { category: 'conflict', when: 'the name is taken: a sandbox, network, interface, route or connection that exists already' },
  NSBOX_ERR_NEIGHBOR_EXISTS: { category: 'conflict', when: 'addNeighbor of an entry that is there already' },
  NSBOX_ERR_ROUTE_CONFLICT: { category: 'conflict', when: 'an address\'s subnet overlaps an existing route' },
  NSBOX_ERR_IN_USE: { category: 'conflict', when: 'an address, a network or a host port is in use' },
  NSBOX_ERR_EXHAUSTED: { category: 'conflict', when: 'a network has no free address left' },
  NSBOX_ERR_CONFLICT: { category: 'conflict', when: 'a name nsbox would use is held by something nsbox did not make (e.g. /run/netns/NAME, /etc/netns/NAME)' },
  NSBOX_ERR_BUSY: { category: 'conflict', when: 'a sandbox is in the middle of an interrupted operation; run `nsbox gc`' },
  NSBOX_ERR_TIMEOUT: { category: 'transient', when: 'no answer from the kernel within the request timeout (3 s by default)' },
  NSBOX_ERR_DUMP_INTR: { category: 'transient', when: 'a dump was interrupted by concurrent changes on every try; no partial data is returned' },
  NSBOX_ERR_ETCD: { category: 'transient', when: 'the overlay\'s etcd cluster did not answer (or refused) a call: the message names the endpoints; nothing of the call is left behind' },
  NSBOX_ERR_NFT_GENERATION: { category: 'transient', when: 'an nf_tables transaction was computed against a ruleset generation another process has since changed (nothing was applied): read again and retry' },
  ABORT_ERR: { category: 'transient', when: 'a request was cancelled by its AbortSignal (Node\'s own code for this)' },
  NSBOX_ERR_DECODE: { category: 'internal', when: 'malformed netlink bytes' },
  NSBOX_ERR_CLOSED: { category: 'internal', when: 'a socket or handle was used after close()' },
  NSBOX_ERR_KERNEL_FEATURE: { category: 'internal', when: 'the running kernel lacks what a request needs (e.g. a qdisc kind it was built without, such as netem): nothing was changed' },
  NSBOX_ERR_SYSCTL: { category: 'internal', when: 'a sysctl is not a sysctl file, cannot be read or written, or IPv6 could not be disabled' },
  NSBOX_ERR_SANDBOX: { category: 'internal', when: 'a sandbox step failed with an error that has no code of its own' },
  NSBOX_ERR_TEARDOWN: { category: 'internal', when: 'some steps of a teardown failed (every step still ran)' },
  NSBOX_ERR_GC: { category: 'internal', when: 'gc could not remove something it found' },
  NSBOX_ERR_RESTORE: { category: 'internal', when: 'restore could not re-adopt or rebuild some sandboxes' },
  NSBOX_ERR_DOCTOR: { category: 'internal', when: '`nsbox doctor` found a check that fails (its report says which, and what to run)' },
  NSBOX_ERR_STORE: { category: 'internal', when: 'the state database cannot be used (e.g. its schema is newer than this nsbox)' },
  NSBOX_ERR_NATIVE: { category: 'internal', when: 'the native addon is missing, or was used before it was initialised' },
  NSBOX_ERR_NATIVE_ARGS: { category: 'usage', when: 'the native addon was called with arguments of the wrong type (a bug above sys/)' },
  NSBOX_ERR_NAPI: { category: 'internal', when: 'an N-API call inside the addon failed' },
  NSBOX_ERR_LAB_PROCESS: { category: 'internal', when: 'a lab\'s process did not become ready (the message names it and ends with its last log lines), or the lab\'s supervisor could not start' },
  NSBOX_ERR_INTERNAL: { category: 'internal', when: 'an error that is not an nsbox error reached a process edge' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An errno name, the code of system and kernel errors ('EEXIST'). */
export type ErrnoCode = `E${string}`;

/**
 * Errno names by category. Errnos not listed are 'internal'. Kept short on purpose: only
 * errnos whose meaning does not depend on the call that got them.
 */
const ERRNO_CATEGORIES: Readonly<Record<string, ErrorCategory>> = {
  ENOENT: 'not-found',
  ENODEV: 'not-found',
  ESRCH: 'not-found',
  ENXIO: 'not-found',
  EEXIST: 'conflict',
  EBUSY: 'conflict',
  EADDRINUSE: 'conflict',
  ENOTEMPTY: 'conflict',
  EAGAIN: 'transient',
  EINTR: 'transient',
  ENOBUFS: 'transient',
  ETIMEDOUT: 'transient',
};

/** The category of any thrown value: by its code, TypeError/RangeError as usage, else internal. */
export function categoryOf(err: unknown): ErrorCategory {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (Object.hasOwn(ERROR_CODES, code)) return ERROR_CODES[code as ErrorCode].category;
    if (err instanceof NsboxError || (err as { errno?: unknown }).errno !== undefined) return ERRNO_CATEGORIES[code] ?? 'internal';
  }
  if (err instanceof TypeError || err instanceof RangeError) return 'usage';
  return 'internal';
}

/**
 * The code an error is reported with at a process edge (the CLI's `--json`, the CNI plugin's
 * `details`): its own code when it has one of ours or an errno name, else NSBOX_ERR_USAGE or
 * NSBOX_ERR_INTERNAL by category.
 */
export function reportedCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (err instanceof NsboxError || Object.hasOwn(ERROR_CODES, code) || /^E[A-Z0-9]+$/.test(code))) return code;
  return categoryOf(err) === 'usage' ? 'NSBOX_ERR_USAGE' : 'NSBOX_ERR_INTERNAL';
}

export interface NsboxErrorOptions {
  cause?: unknown;
}

/** Base class of every error nsbox defines. `code` is an ErrorCode or, for system and kernel errors, an errno name. */
export class NsboxError extends Error {
  readonly code: ErrorCode | ErrnoCode;

  constructor(message: string, code: ErrorCode | ErrnoCode, options?: NsboxErrorOptions) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return this.constructor.name;
  }

  get category(): ErrorCategory {
    return categoryOf(this);
  }
}

/** 'EEXIST: File exists' (name and glibc text), or just the name when glibc has no text. */
function errnoLabel(errno: number): string {
  const text = errnoText(errno);
  return text === undefined ? errnoName(errno) : `${errnoName(errno)}: ${text}`;
}

/** A failed system call: `code` is the errno name, `errno` is negative. Message: `open /x: EEXIST: File exists`. */
export class SysError extends NsboxError {
  readonly errno: number;
  readonly syscall: string;
  readonly path: string | undefined;

  constructor(errno: number, syscall: string, path?: string) {
    super(`${syscall}${path === undefined ? '' : ` ${path}`}: ${errnoLabel(errno)}`, errnoName(errno) as ErrnoCode);
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
    super(`${where}: ${code}${text}`, code as ErrnoCode);
    this.errno = -Math.abs(errno);
    this.op = op;
    this.extack = extack;
    this.batchIndex = batchIndex;
  }
}

/**
 * The kernel refused an nf_tables transaction (nothing of it was applied): the NetlinkError of
 * the failing message, with the object it was about and, for an element list, which element
 * (located by the extended ack's offset). Message: `NFT_MSG_NEWSETELEM (batch message 3) set inet
 * nsbox dnat4, element 1: EEXIST`.
 */
export class NftError extends NetlinkError {
  /** What the failing message was about, e.g. 'set inet nsbox dnat4', or 'the transaction' for a commit failure. */
  readonly object: string;
  /** For an element list: the index, among the elements the caller gave, of the one the kernel refused. */
  readonly element: number | undefined;

  constructor(cause: NetlinkError, object: string, element?: number) {
    super(cause.errno, cause.op, cause.extack, cause.batchIndex);
    this.object = object;
    this.element = element;
    const where = cause.batchIndex === undefined ? cause.op : `${cause.op} (batch message ${cause.batchIndex})`;
    const text = cause.extack?.message ? `: ${cause.extack.message}` : '';
    this.message = `${where} ${object}${element === undefined ? '' : `, element ${element}`}: ${cause.code}${text}`;
  }
}

/**
 * An nf_tables transaction carried a generation id (NFNL_BATCH_GENID) and the ruleset has moved
 * on since (ERESTART): nothing was applied. Read the state again, recompute, and retry.
 */
export class GenerationChangedError extends NsboxError {
  /** The generation the transaction was computed against. */
  readonly expected: number;
  readonly retryable = true;

  constructor(expected: number, options?: NsboxErrorOptions) {
    super(
      `nf_tables transaction: the ruleset is no longer at generation ${expected} (another process committed meanwhile); nothing was applied — read it again and retry`,
      'NSBOX_ERR_NFT_GENERATION',
      options,
    );
    this.expected = expected;
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

/** One problem of a lab file: where (when known) and the dotted path of the value (docs/labs.md). */
export interface LabProblem {
  /** The file, when the lab came from one. */
  readonly file?: string;
  /** 1-based line and column of the YAML node the problem is about (or of its nearest parent). */
  readonly line?: number;
  readonly col?: number;
  /** Dotted path in the file ('nodes.n1.interfaces.eth0.address'); '' for the file as a whole. */
  readonly path: string;
  readonly message: string;
}

/** `FILE:LINE:COL: path: message`, leaving out what is not known. */
export function formatLabProblem(p: LabProblem): string {
  const where = p.file === undefined ? '' : p.line === undefined ? `${p.file}: ` : `${p.file}:${p.line}:${p.col ?? 1}: `;
  return `${where}${p.path === '' ? '' : `${p.path}: `}${p.message}`;
}

/** A lab file that does not parse or validate; `problems` lists every one, the message one per line. */
export class LabFileError extends NsboxError {
  readonly file: string | undefined;
  readonly problems: readonly LabProblem[];

  constructor(file: string | undefined, problems: readonly LabProblem[]) {
    super(problems.map(formatLabProblem).join('\n'), 'NSBOX_ERR_LAB_FILE');
    this.file = file;
    this.problems = problems;
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

export interface SandboxErrorOptions extends NsboxErrorOptions {
  /** Steps of an undo that failed after this error (the link may not be back where it was). */
  rollbackErrors?: readonly Error[];
}

/**
 * A sandbox operation failed. The message starts with the step that failed, in osl's words
 * (callers match on texts such as "conflicts with existing route"); `cause` is the error
 * underneath and `code` is its code (an errno name, or an ErrorCode).
 */
export class SandboxError extends NsboxError {
  /** Undo steps that failed too (addInterface puts a link back after a failure). */
  readonly rollbackErrors: readonly Error[];

  constructor(message: string, code: ErrorCode | ErrnoCode, options: SandboxErrorOptions = {}) {
    super(message, code, { cause: options.cause });
    this.rollbackErrors = options.rollbackErrors ?? [];
  }
}

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
