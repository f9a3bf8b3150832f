/** netlink/nftables/family: the descriptor the socket is opened with, and the names errors use. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messageName } from '../../../../src/netlink/family.js';
import { NFTABLES, nftMessageType } from '../../../../src/netlink/nftables/family.js';
import { NETLINK_NETFILTER, NFNL_MSG, NFT_MSG } from '../../../../src/netlink/nftables/schema/constants.js';

void test('NETLINK_NETFILTER; nf_tables types are NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_*', () => {
  assert.equal(NFTABLES.protocol, NETLINK_NETFILTER);
  assert.equal(NETLINK_NETFILTER, 12);
  assert.equal(nftMessageType(NFT_MSG.NEWRULE), 0x0a06);
  assert.equal(nftMessageType(NFT_MSG.DESTROYSETELEM), 0x0a1e);
});

void test('messages are named as the kernel names them; the batch frame is nfnetlink\'s own', () => {
  assert.equal(messageName(NFTABLES, nftMessageType(NFT_MSG.NEWSETELEM)), 'NFT_MSG_NEWSETELEM');
  assert.equal(messageName(NFTABLES, NFNL_MSG.BATCH_BEGIN), 'NFNL_MSG_BATCH_BEGIN');
  assert.equal(messageName(NFTABLES, NFNL_MSG.BATCH_END), 'NFNL_MSG_BATCH_END');
  assert.equal(messageName(NFTABLES, 2), 'NLMSG_ERROR');
  assert.equal(messageName(NFTABLES, 0x0a7f), 'nfnetlink type 2687');
});
