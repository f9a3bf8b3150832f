/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * NFT_MSG_{NEW,GET,DEL,DESTROY}CHAIN bodies: nfgenmsg then NFTA_CHAIN_*, in nft's order (TABLE,
 * NAME, TYPE, POLICY, HOOK). A base chain has a hook (NFTA_HOOK_HOOKNUM, a signed PRIORITY, a
 * DEV for netdev chains), a type ('filter', 'nat', 'route') and a policy; a regular chain is
 * only a name in a table, reached by jump or goto.
 */
import { DecodeError } from '../../../errors.js';
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap } from '../../wire/attr.js';
import { FieldTable, be32, be64, beS32, named, str, type ValueCodec } from '../../wire/attr-fields.js';
import { enumCodec } from '../../wire/enum-codec.js';
import { NF, NF_INET, NFTA_CHAIN, NFTA_HOOK } from './constants.js';
import { NFGENMSG_LEN, readFamily, writeFamily, type NftFamily } from './nfgenmsg.js';
import { commentOf, userdataFor } from './userdata.js';

/** A hook of the ip, ip6 and inet families, as nft spells it. */
export type ChainHookName = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress';
export const CHAIN_HOOKS = enumCodec<ChainHookName>({
  prerouting: NF_INET.PRE_ROUTING, input: NF_INET.LOCAL_IN, forward: NF_INET.FORWARD, output: NF_INET.LOCAL_OUT,
  postrouting: NF_INET.POST_ROUTING, ingress: NF_INET.INGRESS,
});

/** A base chain's policy. */
export type ChainPolicy = 'accept' | 'drop';
export const CHAIN_POLICIES = enumCodec<ChainPolicy>({ drop: NF.DROP, accept: NF.ACCEPT });

/** NFTA_CHAIN_HOOK. */
export interface ChainHook {
  /** NFTA_HOOK_HOOKNUM: a name, or the number of a hook the names do not cover (a netdev chain's) */
  hook: ChainHookName | number;
  /** NFTA_HOOK_PRIORITY (signed): dstnat −100, srcnat 100, filter 0, raw −300 */
  priority: number;
  /** NFTA_HOOK_DEV: netdev and ingress chains */
  device?: string;
}

export interface ChainMessage {
  family: NftFamily;
  /** NFTA_CHAIN_TABLE */
  table?: string;
  /** NFTA_CHAIN_NAME */
  name?: string;
  /** NFTA_CHAIN_HANDLE */
  handle?: bigint;
  /** NFTA_CHAIN_TYPE: 'filter', 'nat' or 'route' (base chains) */
  type?: string;
  /** NFTA_CHAIN_POLICY (base chains) */
  policy?: ChainPolicy;
  /** NFTA_CHAIN_HOOK (base chains) */
  hook?: ChainHook;
  /** NFTA_CHAIN_FLAGS: NFT_CHAIN_* (replies set BASE on base chains) */
  flags?: number;
  /** NFTA_CHAIN_ID: names the chain to later messages of the same transaction */
  id?: number;
  /** NFTA_CHAIN_USERDATA as sent or received; wins over `comment` on encode */
  userdata?: Uint8Array;
  /** The comment TLV of the userdata */
  comment?: string;
  /** NFTA_CHAIN_USE: how many rules jump to it (replies) */
  use?: number;
}

const FIELDS = new FieldTable<ChainMessage>({
  table: [NFTA_CHAIN.TABLE, 'NFTA_CHAIN_TABLE', str],
  name: [NFTA_CHAIN.NAME, 'NFTA_CHAIN_NAME', str],
  handle: [NFTA_CHAIN.HANDLE, 'NFTA_CHAIN_HANDLE', be64],
  type: [NFTA_CHAIN.TYPE, 'NFTA_CHAIN_TYPE', str],
  policy: [NFTA_CHAIN.POLICY, 'NFTA_CHAIN_POLICY', named(CHAIN_POLICIES, be32, 'chain policy')],
});
const LATER_FIELDS = new FieldTable<ChainMessage>({
  flags: [NFTA_CHAIN.FLAGS, 'NFTA_CHAIN_FLAGS', be32],
  id: [NFTA_CHAIN.ID, 'NFTA_CHAIN_ID', be32],
  use: [NFTA_CHAIN.USE, 'NFTA_CHAIN_USE', be32],
});
/** A hook by name, or by number (decoded as a number when the names do not cover it). */
const hookNumber: ValueCodec<ChainHookName | number> = {
  read: (v, what) => { const n = be32.read(v, what)!; return CHAIN_HOOKS.decode(n) ?? n; },
  write: (w, t, v) => { be32.write(w, t, typeof v === 'number' ? v : CHAIN_HOOKS.encode(v, 'chain hook')); },
};
const HOOK_FIELDS = new FieldTable<ChainHook>({
  hook: [NFTA_HOOK.HOOKNUM, 'NFTA_HOOK_HOOKNUM', hookNumber],
  priority: [NFTA_HOOK.PRIORITY, 'NFTA_HOOK_PRIORITY', beS32],
  device: [NFTA_HOOK.DEV, 'NFTA_HOOK_DEV', str],
});

export function encodeChainMessage(w: AttrWriter, m: ChainMessage): void {
  writeFamily(w, m.family);
  FIELDS.encode(w, m);
  if (m.hook !== undefined) {
    const hook = m.hook;
    w.nest(NFTA_CHAIN.HOOK, (n) => HOOK_FIELDS.encode(n, hook));
  }
  LATER_FIELDS.encode(w, m);
  const userdata = userdataFor(m);
  if (userdata !== undefined) w.bytes(NFTA_CHAIN.USERDATA, userdata);
}

export function decodeChainMessage(payload: Uint8Array): ChainMessage {
  const m: ChainMessage = { family: readFamily(payload) };
  const a = attrMap(payload, NFGENMSG_LEN);
  FIELDS.decode(a, m);
  LATER_FIELDS.decode(a, m);
  const hook = a.get(NFTA_CHAIN.HOOK);
  if (hook !== undefined) {
    const h = {} as ChainHook;
    HOOK_FIELDS.decode(attrMap(hook), h);
    if (h.hook === undefined || h.priority === undefined) throw new DecodeError('NFTA_CHAIN_HOOK', 0, 'a hook without its number or priority');
    m.hook = h;
  }
  const userdata = a.get(NFTA_CHAIN.USERDATA);
  if (userdata !== undefined) {
    m.userdata = Uint8Array.from(userdata);
    const comment = commentOf(userdata);
    if (comment !== undefined) m.comment = comment;
  }
  return m;
}
