/**
 * Layer: netlink/nftables/schema — nf_tables schema, pure.
 *
 * NFT_MSG_{NEW,GET,DEL,DESTROY}RULE bodies: nfgenmsg then NFTA_RULE_*, in nft's order (TABLE,
 * CHAIN, HANDLE, POSITION, EXPRESSIONS, USERDATA). NEWRULE with NLM_F_APPEND adds after
 * POSITION (or at the end), without it before POSITION (or at the start); with NLM_F_REPLACE it
 * replaces the rule HANDLE names.
 */
import type { AttrWriter } from '../../wire/attr-writer.js';
import { attrMap } from '../../wire/attr.js';
import { FieldTable, be32, be64, str } from '../../wire/attr-fields.js';
import { NFTA_RULE } from './constants.js';
import { NFGENMSG_LEN, readFamily, writeFamily, type NftFamily } from './nfgenmsg.js';
import { commentOf, userdataFor } from './userdata.js';
import { readExpressions, writeExpressions, type Expr } from './expr/index.js';

export interface RuleMessage {
  family: NftFamily;
  /** NFTA_RULE_TABLE */
  table?: string;
  /** NFTA_RULE_CHAIN */
  chain?: string;
  /** NFTA_RULE_HANDLE: the rule's own handle (replies; delete or replace by handle) */
  handle?: bigint;
  /** NFTA_RULE_POSITION: the handle of the rule to add after (APPEND) or before */
  position?: bigint;
  /** NFTA_RULE_EXPRESSIONS */
  expressions?: Expr[];
  /** NFTA_RULE_USERDATA as sent or received; wins over `comment` on encode */
  userdata?: Uint8Array;
  /** The comment TLV of the userdata */
  comment?: string;
  /** NFTA_RULE_ID: names the rule to later messages of the same transaction */
  id?: number;
  /** NFTA_RULE_POSITION_ID: the rule to add next to, by its id in the same transaction */
  positionId?: number;
  /** NFTA_RULE_CHAIN_ID: the chain, by its id in the same transaction */
  chainId?: number;
}

const FIELDS = new FieldTable<RuleMessage>({
  table: [NFTA_RULE.TABLE, 'NFTA_RULE_TABLE', str],
  chain: [NFTA_RULE.CHAIN, 'NFTA_RULE_CHAIN', str],
  handle: [NFTA_RULE.HANDLE, 'NFTA_RULE_HANDLE', be64],
  position: [NFTA_RULE.POSITION, 'NFTA_RULE_POSITION', be64],
});
const ID_FIELDS = new FieldTable<RuleMessage>({
  id: [NFTA_RULE.ID, 'NFTA_RULE_ID', be32],
  positionId: [NFTA_RULE.POSITION_ID, 'NFTA_RULE_POSITION_ID', be32],
  chainId: [NFTA_RULE.CHAIN_ID, 'NFTA_RULE_CHAIN_ID', be32],
});

export function encodeRuleMessage(w: AttrWriter, m: RuleMessage): void {
  writeFamily(w, m.family);
  FIELDS.encode(w, m);
  if (m.expressions !== undefined) writeExpressions(w, NFTA_RULE.EXPRESSIONS, m.expressions);
  const userdata = userdataFor(m);
  if (userdata !== undefined) w.bytes(NFTA_RULE.USERDATA, userdata);
  ID_FIELDS.encode(w, m);
}

export function decodeRuleMessage(payload: Uint8Array): RuleMessage {
  const m: RuleMessage = { family: readFamily(payload) };
  const a = attrMap(payload, NFGENMSG_LEN);
  FIELDS.decode(a, m);
  ID_FIELDS.decode(a, m);
  const exprs = a.get(NFTA_RULE.EXPRESSIONS);
  if (exprs !== undefined) m.expressions = readExpressions(exprs);
  const userdata = a.get(NFTA_RULE.USERDATA);
  if (userdata !== undefined) {
    m.userdata = Uint8Array.from(userdata);
    const comment = commentOf(userdata);
    if (comment !== undefined) m.comment = comment;
  }
  return m;
}
