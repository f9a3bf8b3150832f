/**
 * Layer: firewall.
 *
 * What another firewall's forward chain does to one kind of nsbox packet: a small interpreter of
 * nf_tables rules as the kernel dumps them (expressions over registers, verdicts, jumps into the
 * table's other chains, lookups in its sets), run on a packet of which nsbox knows what it
 * needs: its nsbox side (the bridge, a sandbox's address), family, protocol (TCP) and conntrack
 * state and status. Its far side — the uplink it comes in on or goes out of, the remote address,
 * the ports — is taken to be one the chain does not name: it equals no constant, matches no
 * prefix or wildcard and is in no set. So a rule for one uplink, one remote network or one port
 * (`-i eth0 -j ACCEPT`, `tcp dport 22 accept`) does not count as letting the network's traffic
 * through, while one for its bridge or its subnet does: the question is whether the chain drops
 * some of the network's traffic, not whether it lets a particular flow pass. Anything else
 * (marks, a masked far-side field, an expression nsbox has no model for) is unknown, and a
 * comparison with an unknown byte is "maybe". iptables-nft's xtables extensions are read where nsbox needs them (the conntrack and
 * state matches, the REJECT target); any other extension or expression nsbox has no model for
 * makes its rule a "maybe".
 *
 * The answer for a packet is `accept`, `drop` (a definite path to a drop: the base chain's
 * policy, a drop or reject verdict), or `unsure` when that path passes a rule that might have
 * accepted or redirected it. A rule that might drop is not counted: only certain drops are
 * reported, and the user is never told to fix what may not be broken.
 */
import {
  IPS, NFPROTO, NFT_REG, NFT_REG32_00, NFT_REG32_SIZE, NFT_REG_SIZE, NFT_SET, NFT_SET_ELEM, XT_CONNTRACK, XT_CONNTRACK_STATE, ifname,
  u32host, xtConntrackInfo, xtExtension, xtStateMask, type Expr, type NftFamily, type SetElement, type Verdict,
} from '../netlink/nftables/schema/index.js';
import type { NftChain, NftRule } from '../netlink/nftables/ops/index.js';
import { encodeIp } from '../net/ip.js';

/** A packet nsbox cares about, as far as it is known. Undefined fields are unknown. */
export interface ProbePacket {
  /** The family of the table whose chains it meets ('bridge' for bridged frames). */
  tableFamily: NftFamily;
  /** IPv4 or IPv6. */
  family: 4 | 6;
  iifname?: string;
  oifname?: string;
  /** A sandbox's address on the packet's nsbox side; undefined is a remote one the chain does not name. */
  saddr?: string;
  daddr?: string;
  /** The bridges a bridged frame enters and leaves (`meta ibrname`/`obrname`, bridge tables only). */
  ibrname?: string;
  obrname?: string;
  /** IPPROTO_*: the probes are TCP. */
  l4proto: number;
  /** Conntrack: a new flow, or one that has seen replies (and this packet is one). */
  ctinfo: 'new' | 'established-reply';
  /** IPS_* bits of the flow. */
  ctStatus: number;
}

/** A set of the table, as the evaluation reads it. */
export interface SetContents {
  /** NFT_SET_* */
  flags: number;
  keyLen: number;
  elements: SetElement[];
}

/** A table's chains, their rules in order, and its sets. */
export interface TableContents {
  family: NftFamily;
  name: string;
  chains: NftChain[];
  /** By chain name, in the chain's order. */
  rules: Map<string, NftRule[]>;
  /** By set name (anonymous ones included); a set the evaluation needs but cannot find makes its lookup a "maybe". */
  sets: Map<string, SetContents>;
}

export type ChainOutcome =
  | { verdict: 'accept' }
  | { verdict: 'drop'; by: string }
  | { verdict: 'unsure'; by: string; maybe: string };

/** How deep jumps may go before the evaluation gives up (the kernel allows 16). */
const MAX_DEPTH = 16;

/** Bytes of the data registers: NFT_REG_1..4 (16 each) overlaid by NFT_REG32_00..15 (4 each). */
const REG_BYTES = 4 * NFT_REG_SIZE;
/** A register byte: 0..255, UNNAMED, or undefined (unknown). */
type Registers = (number | undefined)[];
/** A byte of the name of an interface the chain does not name. */
const UNNAMED = -1;
/** What a load puts in a register: bytes, the name of an interface the chain does not name, or something unknown. */
type Loaded = Uint8Array | 'unnamed' | undefined;

/** Three-valued: true, false, or undefined (unknown). */
type Tri = boolean | undefined;

/** A rule's effect: whether it matches, and its verdict ('unknown' when something else may decide). */
interface RuleEffect {
  matches: Tri;
  verdict: Verdict | 'unknown' | undefined;
}

/** xtables targets that never end a chain's evaluation (they mark, log, set, and continue). */
const XT_CONTINUING_TARGETS = new Set([
  'LOG', 'NFLOG', 'ULOG', 'MARK', 'CONNMARK', 'CONNSECMARK', 'SECMARK', 'CT', 'NOTRACK', 'TCPMSS', 'CLASSIFY', 'DSCP', 'TOS', 'TTL', 'HL',
  'CHECKSUM', 'AUDIT', 'TRACE', 'TEE', 'SET', 'IDLETIMER', 'LED', 'TCPOPTSTRIP', 'RATEEST',
]);
/** Expressions that are statements without a condition or verdict. */
const RAW_STATEMENTS = new Set(['log', 'notrack', 'dup', 'objref', 'last']);
/** Expressions that only load or test (a rate, a quota, an extension header …): their rule's match becomes unknown. */
const RAW_CONDITIONS = new Set(['limit', 'quota', 'connlimit', 'range', 'exthdr', 'socket', 'osf', 'rt', 'hash', 'numgen', 'xfrm', 'tunnel', 'inner']);

function registerOffset(reg: number): number | undefined {
  if (reg >= NFT_REG[1] && reg <= NFT_REG[4]) return (reg - NFT_REG[1]) * NFT_REG_SIZE;
  if (reg >= NFT_REG32_00 && reg < NFT_REG32_00 + REG_BYTES / NFT_REG32_SIZE) return (reg - NFT_REG32_00) * NFT_REG32_SIZE;
  return undefined;
}

/** Put `value` at `reg`, zero-filled to a whole 32-bit word as the kernel stores it. */
function store(regs: Registers, reg: number | undefined, value: Loaded, len: number): void {
  const off = reg === undefined ? undefined : registerOffset(reg);
  if (off === undefined) {
    regs.fill(undefined); // a register nsbox cannot place: forget everything
    return;
  }
  const words = Math.ceil(len / NFT_REG32_SIZE) * NFT_REG32_SIZE;
  for (let i = 0; i < words && off + i < REG_BYTES; i++) {
    regs[off + i] = value === undefined ? undefined : value === 'unnamed' ? (i < len ? UNNAMED : 0) : (value[i] ?? 0);
  }
}

/** `len` bytes from `reg`: all known, or one of an unnamed interface ('unnamed'), or undefined when any is unknown. */
function read(regs: Registers, reg: number, len: number): Loaded {
  const off = registerOffset(reg);
  if (off === undefined || off + len > REG_BYTES) return undefined;
  const out = new Uint8Array(len);
  let unnamed = false;
  for (let i = 0; i < len; i++) {
    const b = regs[off + i];
    if (b === undefined) return undefined;
    if (b === UNNAMED) unnamed = true;
    else out[i] = b;
  }
  return unnamed ? 'unnamed' : out;
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const XT_STATE_NEW = 1 << 3; // XT_CONNTRACK_STATE_BIT(IP_CT_NEW) = XT_STATE_BIT(IP_CT_NEW)
const XT_STATE_ESTABLISHED = 1 << 1;

/** The ct state bit the packet has (NF_CT_STATE_BIT and XT_CONNTRACK_STATE_BIT agree: 1 << (ctinfo % IP_CT_IS_REPLY + 1)). */
const stateBit = (p: ProbePacket): number => (p.ctinfo === 'new' ? XT_STATE_NEW : XT_STATE_ESTABLISHED);

/** What `meta KEY` loads for the packet, and how many bytes. */
function metaValue(p: ProbePacket, key: string): { value: Loaded; len: number } {
  const name = (n: string | undefined): { value: Loaded; len: number } => ({ value: n === undefined ? 'unnamed' : ifname(n), len: 16 });
  switch (key) {
    case 'iifname': return name(p.iifname);
    case 'oifname': return name(p.oifname);
    case 'bri_iifname': return p.tableFamily === 'bridge' ? name(p.ibrname) : { value: undefined, len: 16 };
    case 'bri_oifname': return p.tableFamily === 'bridge' ? name(p.obrname) : { value: undefined, len: 16 };
    case 'nfproto': return { value: Uint8Array.of(p.tableFamily === 'bridge' ? NFPROTO.BRIDGE : p.family === 4 ? NFPROTO.IPV4 : NFPROTO.IPV6), len: 1 };
    case 'l4proto': return { value: Uint8Array.of(p.l4proto), len: 1 };
    case 'protocol': return { value: Uint8Array.of(p.family === 4 ? 0x08 : 0x86, p.family === 4 ? 0x00 : 0xdd), len: 2 };
    default: return { value: undefined, len: 16 };
  }
}

/**
 * The network header as far as it is known, byte by byte: the protocol, and each address (a
 * sandbox's, or UNNAMED for a remote one); every other byte unknown. IPv4: protocol at 9,
 * addresses at 12 and 16; IPv6: next header at 6, addresses at 8 and 24.
 */
function networkHeader(p: ProbePacket): (number | undefined)[] {
  const v4 = p.family === 4;
  const header = new Array<number | undefined>(v4 ? 20 : 40).fill(undefined);
  header[v4 ? 9 : 6] = p.l4proto;
  const put = (at: number, address: string | undefined): void => {
    const bytes = address === undefined ? undefined : encodeIp(address);
    for (let i = 0; i < (v4 ? 4 : 16); i++) header[at + i] = bytes === undefined ? UNNAMED : bytes[i];
  };
  put(v4 ? 12 : 8, p.saddr);
  put(v4 ? 16 : 24, p.daddr);
  return header;
}

/** Whether `key` is in `set` (undefined when nsbox cannot tell), and the element that holds it. */
function lookup(set: SetContents, key: Uint8Array | 'unnamed'): { member: Tri; element?: SetElement } {
  const catchall = set.elements.find((e) => ((e.flags ?? 0) & NFT_SET_ELEM.CATCHALL) !== 0);
  if (key === 'unnamed') return catchall === undefined ? { member: false } : { member: true, element: catchall };
  const elements = set.elements.filter((e) => e.key !== undefined && ((e.flags ?? 0) & NFT_SET_ELEM.CATCHALL) === 0);
  let found: SetElement | undefined;
  if ((set.flags & NFT_SET.INTERVAL) === 0) {
    found = elements.find((e) => compare(e.key!, key) === 0);
  } else if ((set.flags & NFT_SET.CONCAT) !== 0 || elements.some((e) => e.keyEnd !== undefined)) {
    // pipapo: each field of a concatenation has its own range; only single points are read here
    if (elements.some((e) => e.keyEnd !== undefined && compare(e.key!, e.keyEnd) !== 0)) return { member: undefined };
    found = elements.find((e) => compare(e.key!, key) === 0);
  } else {
    // rbtree: a start element opens a range that the next INTERVAL_END element closes (exclusive)
    const sorted = [...elements].sort((a, b) => compare(a.key!, b.key!));
    let last: SetElement | undefined;
    for (const e of sorted) if (compare(e.key!, key) <= 0) last = e;
    if (last !== undefined && ((last.flags ?? 0) & NFT_SET_ELEM.INTERVAL_END) === 0) found = last;
  }
  found ??= catchall;
  return found === undefined ? { member: false } : { member: true, element: found };
}

/** Whether an xtables match is true for the packet (undefined: nsbox does not model it). */
function xtMatch(p: ProbePacket, e: Expr): Tri {
  const x = xtExtension(e);
  if (x === undefined) return undefined;
  if (x.name === 'comment') return true;
  const ct = xtConntrackInfo(x);
  if (ct !== undefined) {
    const modelled = XT_CONNTRACK.STATE | XT_CONNTRACK.STATUS | XT_CONNTRACK.STATE_ALIAS;
    if ((ct.matchFlags & ~modelled) !== 0) return undefined;
    let state = stateBit(p);
    if ((p.ctStatus & IPS.SRC_NAT) !== 0) state |= XT_CONNTRACK_STATE.SNAT;
    if ((p.ctStatus & IPS.DST_NAT) !== 0) state |= XT_CONNTRACK_STATE.DNAT;
    let ok = true;
    if ((ct.matchFlags & XT_CONNTRACK.STATE) !== 0) ok &&= ((ct.stateMask & state) !== 0) !== ((ct.invertFlags & XT_CONNTRACK.STATE) !== 0);
    if ((ct.matchFlags & XT_CONNTRACK.STATUS) !== 0) ok &&= ((ct.statusMask & p.ctStatus) !== 0) !== ((ct.invertFlags & XT_CONNTRACK.STATUS) !== 0);
    return ok;
  }
  const stateMask = xtStateMask(x);
  if (stateMask !== undefined) return (stateMask & stateBit(p)) !== 0;
  return undefined;
}

/** Run one rule's expressions on the packet. */
function runRule(rule: NftRule, p: ProbePacket, table: TableContents): RuleEffect {
  const regs: Registers = new Array<number | undefined>(REG_BYTES).fill(undefined);
  let matches: Tri = true;
  const fail = (t: Tri): boolean => {
    if (t === false) return true;
    if (t === undefined) matches = undefined;
    return false;
  };
  for (const e of rule.expressions ?? []) {
    switch (e.type) {
      case 'meta': {
        if (e.dreg === undefined) break; // `meta … set`: a statement
        const { value, len } = metaValue(p, e.key);
        store(regs, e.dreg, value, len);
        break;
      }
      case 'ct': {
        if (e.dreg === undefined) break;
        const known = e.direction === undefined && (e.key === 'state' || e.key === 'status');
        store(regs, e.dreg, known ? u32host(e.key === 'state' ? stateBit(p) : p.ctStatus) : undefined, known ? 4 : 16);
        break;
      }
      case 'payload': {
        if (e.dreg === undefined) break; // a write into the packet
        const off = registerOffset(e.dreg);
        if (off === undefined) {
          regs.fill(undefined);
          break;
        }
        // The network header as known; the transport header (ports …) is the far side's, named nowhere.
        const header = e.base === 'network' ? networkHeader(p) : undefined;
        const words = Math.ceil(e.len / NFT_REG32_SIZE) * NFT_REG32_SIZE;
        for (let i = 0; i < words && off + i < REG_BYTES; i++) {
          regs[off + i] = i >= e.len ? 0 : e.base === 'transport' ? UNNAMED : header?.[e.offset + i];
        }
        break;
      }
      case 'bitwise': {
        const off = registerOffset(e.sreg);
        if ((e.op !== undefined && e.op !== 'mask_xor') || e.mask === undefined || e.xor === undefined || off === undefined) {
          store(regs, e.dreg, undefined, e.len);
          break;
        }
        // Byte by byte: a zero mask byte makes the result known whatever the source was.
        const out: Registers = [];
        for (let i = 0; i < e.len; i++) {
          const b = regs[off + i];
          out.push(e.mask[i] === 0 ? e.xor[i] : b === undefined || b === UNNAMED ? undefined : (b & e.mask[i]!) ^ e.xor[i]!);
        }
        const dst = registerOffset(e.dreg);
        if (dst === undefined) regs.fill(undefined);
        else out.forEach((b, i) => { if (dst + i < REG_BYTES) regs[dst + i] = b; });
        break;
      }
      case 'cmp': {
        const v = read(regs, e.sreg, e.data.length);
        if (v === undefined) {
          matches = undefined;
          break;
        }
        let t: Tri;
        if (v === 'unnamed') {
          // far-side bytes equal no constant; ranges (`tcp dport 1-1023` is lte and gte) are left unknown
          t = e.op === 'eq' ? false : e.op === 'neq' ? true : undefined;
        } else {
          const c = compare(v, e.data);
          t = e.op === 'eq' ? c === 0 : e.op === 'neq' ? c !== 0 : e.op === 'lt' ? c < 0 : e.op === 'lte' ? c <= 0 : e.op === 'gt' ? c > 0 : c >= 0;
        }
        if (fail(t)) return { matches: false, verdict: undefined };
        break;
      }
      case 'lookup': {
        const set = table.sets.get(e.set);
        const key = set === undefined ? undefined : read(regs, e.sreg, set.keyLen);
        const found = set === undefined || key === undefined ? { member: undefined } : lookup(set, key);
        if (e.dreg === undefined) {
          if (fail(found.member === undefined ? undefined : found.member !== (e.invert === true))) return { matches: false, verdict: undefined };
          break;
        }
        if (found.member === false) return { matches: false, verdict: undefined }; // a map miss ends the rule
        if (e.dreg === NFT_REG.VERDICT) {
          // a verdict map (`iifname vmap { … }`)
          if (found.member === undefined) return { matches: undefined, verdict: 'unknown' };
          return { matches, verdict: found.element?.verdict ?? 'unknown' };
        }
        if (found.member === undefined) matches = undefined;
        store(regs, e.dreg, found.element?.data, found.element?.data?.length ?? 16);
        break;
      }
      case 'immediate':
        if (e.verdict !== undefined) return { matches, verdict: e.verdict };
        if (e.data !== undefined) store(regs, e.dreg, e.data, e.data.length);
        break;
      case 'reject':
        return { matches, verdict: { code: 'drop' } };
      case 'fib':
        store(regs, e.dreg, undefined, 16);
        break;
      case 'counter':
      case 'nat':
      case 'masq':
        break;
      case 'raw': {
        const x = e.name === 'match' || e.name === 'target' ? xtExtension(e) : undefined;
        if (x?.kind === 'match') {
          if (fail(xtMatch(p, e))) return { matches: false, verdict: undefined };
          break;
        }
        if (x?.kind === 'target') {
          if (x.name === 'REJECT') return { matches, verdict: { code: 'drop' } };
          if (XT_CONTINUING_TARGETS.has(x.name)) break;
          return { matches, verdict: 'unknown' };
        }
        if (RAW_STATEMENTS.has(e.name)) break;
        regs.fill(undefined); // it may have loaded anything anywhere
        if (RAW_CONDITIONS.has(e.name)) {
          matches = undefined;
          break;
        }
        // queue, anything newer: it may also decide
        regs.fill(undefined);
        return { matches: undefined, verdict: 'unknown' };
      }
    }
  }
  return { matches, verdict: undefined };
}

type ChainResult = { end: 'accept' } | { end: 'drop'; by: string } | { end: 'return' };

interface Walk {
  table: TableContents;
  p: ProbePacket;
  /** The first rule that might have accepted or redirected the packet on the path taken. */
  maybe: string | undefined;
}

const ruleName = (chain: string, r: NftRule): string => `chain ${chain} rule ${r.handle ?? '?'}`;

function walk(w: Walk, chain: string, depth: number): ChainResult {
  if (depth > MAX_DEPTH) {
    w.maybe ??= `chain ${chain}: jumps nested deeper than ${MAX_DEPTH}`;
    return { end: 'return' };
  }
  for (const rule of w.table.rules.get(chain) ?? []) {
    const { matches, verdict } = runRule(rule, w.p, w.table);
    if (matches === false || verdict === undefined) continue;
    if (matches === undefined || verdict === 'unknown') {
      // A rule that might drop is not counted; one that might accept, return or jump might let it through.
      if (verdict !== 'unknown' && verdict.code === 'drop') continue;
      w.maybe ??= ruleName(chain, rule);
      continue;
    }
    switch (verdict.code) {
      case 'accept': return { end: 'accept' };
      case 'drop': return { end: 'drop', by: ruleName(chain, rule) };
      case 'return': return { end: 'return' };
      case 'jump':
      case 'goto': {
        if (verdict.chain === undefined) {
          w.maybe ??= ruleName(chain, rule);
          continue;
        }
        const inner = walk(w, verdict.chain, depth + 1);
        if (inner.end !== 'return' || verdict.code === 'goto') return inner;
        continue;
      }
      default: continue; // continue, break
    }
  }
  return { end: 'return' };
}

/** What the base chain `chain` of `table` does to packet `p`. */
export function evaluateChain(table: TableContents, chain: NftChain, p: ProbePacket): ChainOutcome {
  const w: Walk = { table, p, maybe: undefined };
  let result = walk(w, chain.name ?? '', 0);
  if (result.end === 'return') result = chain.policy === 'drop' ? { end: 'drop', by: 'policy drop' } : { end: 'accept' };
  if (result.end === 'accept') return { verdict: 'accept' };
  return w.maybe === undefined ? { verdict: 'drop', by: result.by } : { verdict: 'unsure', by: result.by, maybe: w.maybe };
}
