/**
 * netlink/route/family: the rtnetlink descriptor the socket is opened with, and how messages of
 * any family are named (netlink/family.ts): NLMSG_* by the socket, the rest by the family.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTNETLINK, rtmName } from '../../../../src/netlink/route/family.js';
import { messageName, type NetlinkFamily } from '../../../../src/netlink/family.js';

void test('rtnetlink is NETLINK_ROUTE and names its RTM_* types', () => {
  assert.equal(RTNETLINK.name, 'rtnetlink');
  assert.equal(RTNETLINK.protocol, 0);
  assert.equal(rtmName(16), 'RTM_NEWLINK');
  assert.equal(rtmName(90), 'RTM_GETNSID');
  assert.equal(rtmName(99), undefined);
  assert.ok(Object.isFrozen(RTNETLINK), 'one shared descriptor nobody can change');
});

void test('messageName: control types named by the socket, the rest by the family, unknown ones by number', () => {
  assert.equal(messageName(RTNETLINK, 2), 'NLMSG_ERROR');
  assert.equal(messageName(RTNETLINK, 3), 'NLMSG_DONE');
  assert.equal(messageName(RTNETLINK, 7), 'netlink control type 7');
  assert.equal(messageName(RTNETLINK, 20), 'RTM_NEWADDR');
  assert.equal(messageName(RTNETLINK, 99), 'rtnetlink type 99');
  const asked: number[] = [];
  const nfnetlink: NetlinkFamily = {
    name: 'nfnetlink',
    protocol: 12,
    messageName: (type) => { asked.push(type); return type === 0x10 ? 'NFNL_MSG_BATCH_BEGIN' : undefined; },
  };
  assert.equal(messageName(nfnetlink, 0x10), 'NFNL_MSG_BATCH_BEGIN', 'type 16 is not RTM_NEWLINK outside rtnetlink');
  assert.equal(messageName(nfnetlink, 0x0a00), 'nfnetlink type 2560');
  assert.equal(messageName(nfnetlink, 2), 'NLMSG_ERROR');
  assert.deepEqual(asked, [0x10, 0x0a00], 'the family is never asked about control types');
});
