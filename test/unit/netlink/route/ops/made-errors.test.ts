/**
 * Unit: the NetlinkErrors the rtnetlink operations make themselves, when the kernel acks a get
 * without the answer asked for: errno named as the kernel would (ENODEV, ENODATA, EHOSTUNREACH),
 * over a fake kernel. No root, no addon.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkSocket } from '../../../../../src/netlink/socket.js';
import { RTNETLINK } from '../../../../../src/netlink/route/family.js';
import { RTM } from '../../../../../src/netlink/route/schema/constants.js';
import { encodeLinkMessage } from '../../../../../src/netlink/route/schema/link.js';
import { LinkOps } from '../../../../../src/netlink/route/ops/link.js';
import { RouteOps } from '../../../../../src/netlink/route/ops/route.js';
import { FakeKernel, ack, concat, reply } from '../../../../helpers/fake-kernel.js';

test('link.get acked with no link: ENODEV; link.stats of a link sent without counters: ENODATA', async () => {
  const ackOnly = new NetlinkSocket(new FakeKernel((req) => [ack(req)]), RTNETLINK);
  await assert.rejects(new LinkOps(ackOnly).get({ index: 5 }), { name: 'NetlinkError', code: 'ENODEV', errno: -19, op: 'RTM_GETLINK ifindex 5' });
  ackOnly.close();
  const noStats = new NetlinkSocket(new FakeKernel((req) => [concat(reply(req, RTM.NEWLINK, (w) => encodeLinkMessage(w, { index: 5, name: 'x0' })), ack(req))]), RTNETLINK);
  await assert.rejects(new LinkOps(noStats).stats({ name: 'x0' }), { name: 'NetlinkError', code: 'ENODATA', errno: -61 });
  noStats.close();
});

test('route.get acked with no route: EHOSTUNREACH, with what was asked in the extack text', async () => {
  const s = new NetlinkSocket(new FakeKernel((req) => [ack(req)]), RTNETLINK);
  await assert.rejects(new RouteOps(s).get({ dst: '192.0.2.1' }), {
    name: 'NetlinkError', code: 'EHOSTUNREACH', errno: -113, op: 'RTM_GETROUTE', extack: { message: 'the kernel returned no route for 192.0.2.1' },
  });
  s.close();
});
