/**
 * netlink/conntrack/family: the ctnetlink descriptor the socket is opened with (NETLINK_NETFILTER)
 * and the names of its messages (NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_*) in errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CTNETLINK, ctnlName, ctnlType } from '../../../../src/netlink/conntrack/family.js';
import { IPCTNL_MSG } from '../../../../src/netlink/conntrack/schema/constants.js';
import { messageName } from '../../../../src/netlink/family.js';

void test('ctnetlink is NETLINK_NETFILTER and names its IPCTNL_MSG_* types', () => {
  assert.equal(CTNETLINK.name, 'ctnetlink');
  assert.equal(CTNETLINK.protocol, 12);
  assert.equal(ctnlType(IPCTNL_MSG.CT_DELETE), 0x0102);
  assert.equal(ctnlName(0x0100), 'IPCTNL_MSG_CT_NEW');
  assert.equal(ctnlName(0x0101), 'IPCTNL_MSG_CT_GET');
  assert.equal(messageName(CTNETLINK, 0x0102), 'IPCTNL_MSG_CT_DELETE');
  assert.equal(messageName(CTNETLINK, 0x0a06), 'ctnetlink type 2566', "an nf_tables type is not ctnetlink's");
  assert.equal(messageName(CTNETLINK, 0x0002), 'NLMSG_ERROR');
  assert.equal(messageName(CTNETLINK, 0x0010), 'ctnetlink type 16', 'BATCH_BEGIN is no ctnetlink message');
  assert.ok(Object.isFrozen(CTNETLINK));
});
