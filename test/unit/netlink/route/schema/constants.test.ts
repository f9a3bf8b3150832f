/**
 * netlink/route/schema/constants: spot checks of the numbers code depends on most. All values
 * were compared with the Linux 6.18 uapi headers by `scripts/capture-fixtures.sh check-constants`
 * (needs gcc and kernel headers, so it is not part of the unit run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AF, IFA, IFA_F, IFF, IFLA, IFLA_INFO, IFLA_VXLAN, NDA, NETNSA, NETNSA_NSID_NOT_ASSIGNED, NTF, NUD, RTA, RTM, RTNLGRP, RT_SCOPE, RT_TABLE,
} from '../../../../../src/netlink/route/schema/constants.js';

void test('message types', () => {
  assert.deepEqual(
    [RTM.NEWLINK, RTM.DELLINK, RTM.GETLINK, RTM.SETLINK, RTM.NEWADDR, RTM.NEWROUTE, RTM.GETROUTE, RTM.NEWNEIGH, RTM.NEWNSID, RTM.DELNSID, RTM.GETNSID],
    [16, 17, 18, 19, 20, 24, 26, 28, 88, 89, 90],
  );
});

void test('attribute numbers that are easy to get wrong', () => {
  assert.equal(IFLA.LINKINFO, 18);
  assert.equal(IFLA.STATS64, 23);
  assert.equal(IFLA.NET_NS_FD, 28);
  assert.equal(IFLA.EXT_MASK, 29);
  assert.equal(IFLA.LINK_NETNSID, 37);
  assert.equal(IFLA.TARGET_NETNSID, IFLA.IF_NETNSID);
  assert.equal(IFLA.ALT_IFNAME, 53);
  assert.equal(IFLA_INFO.SLAVE_KIND, 4);
  assert.equal(IFLA_VXLAN.PORT, 15);
  assert.equal(IFA.FLAGS, 8);
  assert.equal(IFA_F.NOPREFIXROUTE, 0x200);
  assert.equal(RTA.TABLE, 15);
  assert.equal(RTA.PREF, 20);
  assert.equal(NDA.MASTER, 9);
  assert.equal(NETNSA.TARGET_NSID, 4);
  assert.equal(NETNSA_NSID_NOT_ASSIGNED, -1);
});

void test('flags and enums', () => {
  assert.equal(IFF.LOWER_UP, 0x10000);
  assert.equal(NUD.PERMANENT, 0x80);
  assert.equal(NTF.SELF, 2);
  assert.deepEqual([RT_SCOPE.LINK, RT_TABLE.MAIN, RT_TABLE.LOCAL], [253, 254, 255]);
  assert.deepEqual([AF.BRIDGE, AF.INET6, AF.PACKET], [7, 10, 17]);
  assert.deepEqual([RTNLGRP.LINK, RTNLGRP.IPV4_IFADDR, RTNLGRP.IPV6_ROUTE, RTNLGRP.NSID], [1, 5, 11, 28]);
});
