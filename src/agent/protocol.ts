/**
 * Layer: agent (process edge), pure.
 *
 * The nsbox agent's frames, as native/cni-shim.c writes and reads them (all integers u32
 * big-endian; binary fields, so the C side needs no JSON):
 *
 *   request: "NSBA" VERSION(1) COUNT, then COUNT fields (LENGTH BYTES): kind, stdin, then one
 *            "KEY=VALUE" per environment variable
 *   reply:   "NSBA" STATUS EXITCODE, then two fields: stdout, stderr
 *
 * STATUS 0 is served; 1 is declined (the caller should run the call itself: the agent serves
 * another state root, or is stopping), with the reason in the stderr field. One request per
 * connection: the client half-closes after its request, the agent closes after its reply.
 */
export const MAGIC = Buffer.from('NSBA', 'latin1');
export const PROTOCOL_VERSION = 1;
/** Bounds on what a request may hold, so a bad client cannot make the agent allocate without end. */
export const MAX_FIELDS = 4096;
export const MAX_REQUEST_BYTES = 64 << 20;

export const STATUS = { served: 0, declined: 1 } as const;

export interface AgentRequest {
  /** Which service answers ("cni"). */
  kind: string;
  stdin: string;
  env: Record<string, string>;
}

export interface AgentReply {
  status: (typeof STATUS)[keyof typeof STATUS];
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class ProtocolError extends Error {}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function field(data: Buffer): Buffer[] {
  return [u32(data.length), data];
}

export function encodeRequest(r: AgentRequest): Buffer {
  const env = Object.entries(r.env).map(([k, v]) => Buffer.from(`${k}=${v}`));
  const fields = [Buffer.from(r.kind), Buffer.from(r.stdin), ...env];
  return Buffer.concat([MAGIC, u32(PROTOCOL_VERSION), u32(fields.length), ...fields.flatMap(field)]);
}

export function encodeReply(r: AgentReply): Buffer {
  return Buffer.concat([MAGIC, u32(r.status), u32(r.exitCode), ...field(Buffer.from(r.stdout)), ...field(Buffer.from(r.stderr))]);
}

/** Read `count` length-prefixed fields from `buf` at `offset`; undefined when `buf` is not complete yet. */
function readFields(buf: Buffer, offset: number, count: number): { fields: Buffer[]; end: number } | undefined {
  const fields: Buffer[] = [];
  let off = offset;
  for (let i = 0; i < count; i++) {
    if (buf.length - off < 4) return undefined;
    const len = buf.readUInt32BE(off);
    off += 4;
    if (len > MAX_REQUEST_BYTES) throw new ProtocolError(`field ${i} claims ${len} bytes`);
    if (buf.length - off < len) return undefined;
    fields.push(buf.subarray(off, off + len));
    off += len;
  }
  return { fields, end: off };
}

function checkMagic(buf: Buffer): void {
  if (buf.length >= 4 && !buf.subarray(0, 4).equals(MAGIC)) throw new ProtocolError('not an nsbox agent frame');
}

/**
 * The request at the start of `buf`, or undefined while more bytes are needed. Throws
 * ProtocolError for a frame that can never be valid (the connection is then closed).
 */
export function decodeRequest(buf: Buffer): AgentRequest | undefined {
  checkMagic(buf);
  if (buf.length > MAX_REQUEST_BYTES) throw new ProtocolError(`request larger than ${MAX_REQUEST_BYTES} bytes`);
  if (buf.length < 12) return undefined;
  const version = buf.readUInt32BE(4);
  if (version !== PROTOCOL_VERSION) throw new ProtocolError(`protocol version ${version}; this agent speaks ${PROTOCOL_VERSION}`);
  const count = buf.readUInt32BE(8);
  if (count < 2 || count > MAX_FIELDS) throw new ProtocolError(`${count} fields`);
  const read = readFields(buf, 12, count);
  if (read === undefined) return undefined;
  if (read.end !== buf.length) throw new ProtocolError('bytes after the request');
  const [kind, stdin, ...vars] = read.fields;
  const env: Record<string, string> = {};
  for (const v of vars) {
    const text = v.toString('utf8');
    const eq = text.indexOf('=');
    if (eq > 0) env[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return { kind: kind!.toString('utf8'), stdin: stdin!.toString('utf8'), env };
}

/** The reply in `buf`, or undefined while more bytes are needed. */
export function decodeReply(buf: Buffer): AgentReply | undefined {
  checkMagic(buf);
  if (buf.length < 12) return undefined;
  const status = buf.readUInt32BE(4);
  if (status !== STATUS.served && status !== STATUS.declined) throw new ProtocolError(`unknown status ${status}`);
  const read = readFields(buf, 12, 2);
  if (read === undefined) return undefined;
  return { status, exitCode: buf.readUInt32BE(8), stdout: read.fields[0]!.toString('utf8'), stderr: read.fields[1]!.toString('utf8') };
}

/** Where a handed-off `run` or `exec` starts its command (agent/run-service.ts → the clients). */
export interface HandOffTarget {
  name: string;
  netns: string;
  etcDir: string;
}

/** A target as a reply's stdout: "NAME\0NETNS\0ETCDIR" (no JSON for native/handoff-client.c to parse). */
export function encodeTarget(t: HandOffTarget): string {
  return `${t.name}\0${t.netns}\0${t.etcDir}`;
}

/** The target in a reply's stdout, or undefined when it is not one. */
export function decodeTarget(text: string): HandOffTarget | undefined {
  const parts = text.split('\0');
  if (parts.length !== 3 || parts[0] === '' || parts[1] === '') return undefined;
  return { name: parts[0]!, netns: parts[1]!, etcDir: parts[2]! };
}
