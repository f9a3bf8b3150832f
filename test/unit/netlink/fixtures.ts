/**
 * Test helper: load the kernel captures in test/fixtures/netlink/*.hex (made by
 * scripts/capture-fixtures.sh). Each file: a `#` provenance line, then one datagram per line,
 * `> hex` for what iproute2 sent and `< hex` for what the kernel answered.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NLA_F_NESTED, decodeAttrs, type AttrWriter } from '../../../src/netlink/wire/attr.js';
import { type NlMessage, encodeMessage, splitMessages } from '../../../src/netlink/wire/message.js';

export interface Datagram {
  dir: 'sent' | 'received';
  bytes: Uint8Array;
}

export interface Fixture {
  name: string;
  /** The provenance line, without '# '. */
  provenance: string;
  datagrams: Datagram[];
}

/** The repository root: the nearest ancestor of this (compiled) file holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'fixtures'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (package.json) above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

export function loadFixture(name: string): Fixture {
  const text = readFileSync(join(repoRoot(), 'test', 'fixtures', 'netlink', `${name}.hex`), 'utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  const first = lines[0] ?? '';
  if (!first.startsWith('# ')) throw new Error(`${name}.hex: first line must be the provenance comment`);
  const datagrams: Datagram[] = [];
  for (const line of lines.slice(1)) {
    const dir = line[0] === '>' ? 'sent' : line[0] === '<' ? 'received' : undefined;
    if (dir === undefined) throw new Error(`${name}.hex: bad line ${JSON.stringify(line.slice(0, 20))}`);
    datagrams.push({ dir, bytes: hex(line.slice(2)) });
  }
  return { name, provenance: first.slice(2), datagrams };
}

/** A message plus the bytes of the whole message (header included) and its datagram's direction. */
export interface FixtureMessage extends NlMessage {
  dir: 'sent' | 'received';
  bytes: Uint8Array;
}

/**
 * Every message of a fixture, in order, split out of its datagrams. iproute2 sends one request per
 * datagram and sometimes sends its whole request buffer (e.g. 152 bytes for a 24-byte RTM_GETADDR
 * dump request); the kernel stops at nlmsg_len, so for its sent datagrams only the first message
 * counts. nft (the nft-* fixtures) sends a whole nf_tables batch in one datagram: every message counts.
 */
export function fixtureMessages(name: string): FixtureMessage[] {
  const out: FixtureMessage[] = [];
  const batches = name.startsWith('nft-');
  for (const d of loadFixture(name).datagrams) {
    const length = d.dir === 'sent' && !batches ? new DataView(d.bytes.buffer, d.bytes.byteOffset).getUint32(0, true) : d.bytes.length;
    for (const m of splitMessages(d.bytes, length)) {
      const start = m.payload.byteOffset - d.bytes.byteOffset - 16;
      out.push({ ...m, dir: d.dir, bytes: d.bytes.subarray(start, start + 16 + m.payload.length) });
    }
  }
  return out;
}

/** The messages of `type` sent (requests) or received (replies), in order. */
export function pick(name: string, dir: 'sent' | 'received', type: number): FixtureMessage[] {
  return fixtureMessages(name).filter((m) => m.dir === dir && m.type === type);
}

/**
 * A copy of the message `msg` with NLA_F_NESTED cleared on every attribute, recursing into nests.
 * Our AttrWriter sets the flag on nests and iproute2 does not; the kernel's rtnetlink parsers
 * accept both, so encode goldens compare after clearing it. `bodyStart` is where the attributes
 * begin (16 + the fixed struct); `structLen(path)` is the size of a fixed struct at the start of
 * a nest reached through `path` (attribute types from the top), e.g. VETH_INFO_PEER's ifinfomsg.
 */
export function clearNestedFlag(msg: Uint8Array, bodyStart: number, structLen: (path: number[]) => number = () => 0): Uint8Array {
  const out = Uint8Array.from(msg);
  const dv = new DataView(out.buffer);
  const walk = (start: number, end: number, path: number[]): void => {
    let off = start;
    while (off + 4 <= end) {
      const len = dv.getUint16(off, true);
      const type = dv.getUint16(off + 2, true);
      if (len < 4) return;
      if ((type & 0x8000) !== 0) {
        dv.setUint16(off + 2, type & 0x7fff, true);
        const p = [...path, type & 0x3fff];
        walk(off + 4 + structLen(p), off + len, p);
      }
      off += (len + 3) & ~3;
    }
  };
  walk(bodyStart, out.length, []);
  return out;
}

/**
 * Encode with the request's own header fields and return hex for comparison with `req.bytes`,
 * after clearing NLA_F_NESTED (see clearNestedFlag). `structLen` is the message's fixed struct.
 */
export function encodeLike(
  req: NlMessage,
  structLen: number,
  body: (w: AttrWriter) => void,
  nestedStruct?: (path: number[]) => number,
): string {
  const ours = encodeMessage({ type: req.type, flags: req.flags, seq: req.seq, pid: req.pid }, body);
  return toHex(clearNestedFlag(ours, 16 + structLen, nestedStruct));
}

/** The one message of `type` sent (or received) in a fixture; fails unless there is exactly `index + 1` or more. */
export function one(name: string, dir: 'sent' | 'received', type: number, index = 0): FixtureMessage {
  const m = pick(name, dir, type)[index];
  if (m === undefined) throw new Error(`${name}: no ${dir} message of type ${type} at #${index}`);
  return m;
}

/** An attribute stream as a tree: nests (NLA_F_NESTED) by their children, the rest by their value's hex. */
export type AttrTree = AttrNode[];
export type AttrNode = [type: number, value: string | AttrTree];

/** The value of attribute `type` in `tree` (a nest's children, or a value's hex). */
export function attrAt(tree: AttrTree | string | undefined, type: number): AttrTree | string | undefined {
  return typeof tree === 'string' ? undefined : tree?.find(([t]) => t === type)?.[1];
}

/**
 * The attributes in buf[offset, end) as a tree, for comparing requests by meaning: padding bytes
 * are left out (conntrack-tools does not zero them), nests are compared child by child.
 */
export function attrTree(buf: Uint8Array, offset = 0, end = buf.length): AttrTree {
  return decodeAttrs(buf, offset, end).map((a): AttrNode => [a.type, (a.flags & NLA_F_NESTED) !== 0 ? attrTree(a.value) : toHex(a.value)]);
}
