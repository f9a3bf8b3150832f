/**
 * Test helper for the nf_tables goldens (test/fixtures/netlink/nft-*.hex, captured from nft 1.0.6
 * by `scripts/capture-fixtures.sh nftables`): the messages of one type a fixture holds, and our
 * encoding of a message with the captured one's own header, for byte comparison.
 */
import { encodeMessage } from '../../../../src/netlink/wire/message.js';
import type { AttrWriter } from '../../../../src/netlink/wire/attr.js';
import { nftMessageType } from '../../../../src/netlink/nftables/family.js';
import { type FixtureMessage, pick, toHex } from '../fixtures.js';

/** The nf_tables messages NFT_MSG `msg` a fixture sent or received. */
export function nftMessages(name: string, dir: 'sent' | 'received', msg: number): FixtureMessage[] {
  return pick(name, dir, nftMessageType(msg));
}

/** The one message of that kind, failing unless there is exactly one. */
export function onlyNft(name: string, dir: 'sent' | 'received', msg: number): FixtureMessage {
  const found = nftMessages(name, dir, msg);
  if (found.length !== 1) throw new Error(`${name}: ${found.length} ${dir} messages of NFT_MSG ${msg}, expected one`);
  return found[0]!;
}

/** Our bytes for `body` under `req`'s own header (type, flags, seq, pid), as hex. nft sets NLA_F_NESTED as we do. */
export function encodeLikeNft(req: FixtureMessage, body: (w: AttrWriter) => void): string {
  return toHex(encodeMessage({ type: req.type, flags: req.flags, seq: req.seq, pid: req.pid }, body));
}
