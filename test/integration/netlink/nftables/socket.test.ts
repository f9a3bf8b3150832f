/**
 * Integration (root, throwaway host): the socket Nft opens. With NETLINK_CAP_ACK an error echoes
 * only the request's header (NLM_F_CAPPED), not the whole request, however large; the extended
 * ack still points into the request. Without it, the kernel echoes everything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openTransport } from '../../../../src/netlink/native-transport.js';
import { NLM_F, NLMSG } from '../../../../src/netlink/wire/header.js';
import { decodeError } from '../../../../src/netlink/wire/error.js';
import { encodeMessages, splitMessages } from '../../../../src/netlink/wire/message.js';
import { NFTABLES, nftMessageType } from '../../../../src/netlink/nftables/family.js';
import { NFNL_MSG, NFT_MSG, encodeBatchBegin, encodeBatchEnd, encodeTableMessage } from '../../../../src/netlink/nftables/schema/index.js';
import { makeNetns } from '../../../helpers/netns.js';
import { checkLeaksAfterAll } from '../../../helpers/rtnl.js';

checkLeaksAfterAll();

/** Send a batch deleting an absent table with a 200-byte comment; the error's flags and payload size. */
function refusedDelete(capAck: boolean, netnsFd: number): { flags: number; payloadBytes: number; offset: number | undefined } {
  const t = openTransport(NFTABLES.protocol, { netnsFd, capAck });
  try {
    const comment = 'x'.repeat(200);
    t.send(encodeMessages([
      { type: NFNL_MSG.BATCH_BEGIN, flags: NLM_F.REQUEST, seq: 1, body: (w) => encodeBatchBegin(w) },
      { type: nftMessageType(NFT_MSG.DELTABLE), flags: NLM_F.REQUEST | NLM_F.ACK, seq: 2, body: (w) => encodeTableMessage(w, { family: 'inet', name: 'absent', comment }) },
      { type: NFNL_MSG.BATCH_END, flags: NLM_F.REQUEST, seq: 3, body: encodeBatchEnd },
    ]));
    const buf = new Uint8Array(65536);
    const n = t.recv(buf);
    assert.ok(n > 0, 'the error was queued inside sendmsg');
    const [msg] = splitMessages(buf, n);
    assert.equal(msg?.type, NLMSG.ERROR);
    const e = decodeError(msg.payload, msg.flags);
    assert.equal(e.error, -2);
    return { flags: msg.flags, payloadBytes: msg.payload.length, offset: e.extack?.offset };
  } finally {
    t.close();
  }
}

test('NETLINK_CAP_ACK: the error carries only the request header (CAPPED), the whole request without it', () => {
  using ns = makeNetns();
  const capped = refusedDelete(true, ns.fd);
  const full = refusedDelete(false, ns.fd);
  assert.ok((capped.flags & NLM_F.CAPPED) !== 0);
  assert.equal(full.flags & NLM_F.CAPPED, 0);
  assert.ok(full.payloadBytes > capped.payloadBytes + 200, `echo of ${full.payloadBytes} bytes vs ${capped.payloadBytes} capped`);
  assert.equal(capped.offset, full.offset, 'the extack offset is into the request either way');
});
