/**
 * Integration (root, throwaway host): a masquerade rule written with nsbox's client really
 * masquerades. Three namespaces as in research/nat-nftables.md §4.2: a client (10.88.0.2) behind
 * a router, and "the outside" (192.0.2.254) that has no route back to 10.88.0.0/16, so it can
 * answer the client only if the router rewrote the source to its own 192.0.2.1. The rule is the
 * worked example of §2.7; without it the ping gets no answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Nft } from '../../../../src/netlink/nftables/ops/index.js';
import { ifname, statements as s } from '../../../../src/netlink/nftables/schema/index.js';
import { writeFileIn } from '../../../../src/sys/index.js';
import { makeNetns, type TestNetns } from '../../../helpers/netns.js';
import { ip } from '../../../helpers/iproute.js';
import { checkLeaksAfterAll } from '../../../helpers/rtnl.js';

checkLeaksAfterAll();

/** One ping from `ns` to `to`: did an answer come back? */
function pings(ns: TestNetns, to: string): boolean {
  return spawnSync('ip', ['netns', 'exec', ns.name, 'ping', '-c', '1', '-W', '1', to], { stdio: 'ignore' }).status === 0;
}

/** A veth pair between two namespaces, addressed and up. */
function link(a: TestNetns, aName: string, aAddr: string, b: TestNetns, bName: string, bAddr: string): void {
  ip(a.name, 'link', 'add', aName, 'type', 'veth', 'peer', 'name', bName, 'netns', b.name);
  ip(a.name, 'addr', 'add', aAddr, 'dev', aName);
  ip(b.name, 'addr', 'add', bAddr, 'dev', bName);
  ip(a.name, 'link', 'set', aName, 'up');
  ip(b.name, 'link', 'set', bName, 'up');
}

test('`ip saddr 10.88.0.0/16 oifname != "nsbox0" masquerade`, committed by Nft, makes the outside answer the client', async () => {
  using router = makeNetns();
  using client = makeNetns();
  using outside = makeNetns();
  link(router, 'nsbox0', '10.88.0.1/16', client, 'eth0', '10.88.0.2/16');
  link(router, 'up0', '192.0.2.1/24', outside, 'eth0', '192.0.2.254/24');
  ip(client.name, 'route', 'add', 'default', 'via', '10.88.0.1');
  writeFileIn(router.fd, '/proc/sys/net/ipv4/ip_forward', '1');

  assert.equal(pings(client, '192.0.2.254'), false, 'control: the outside has no route back to 10.88.0.0/16');

  const nft = Nft.open({ netns: router.fd });
  try {
    await nft.transaction()
      .addTable({ family: 'inet', name: 'nsbox' })
      .addChain({ family: 'inet', table: 'nsbox', name: 'postrouting', base: { type: 'nat', hook: 'postrouting', priority: 100 } })
      .addRule({
        family: 'inet', table: 'nsbox', chain: 'postrouting',
        expressions: [...s.nfproto('ipv4'), ...s.matchPrefix('ip saddr', '10.88.0.0/16'), ...s.match(s.meta('oifname'), 'neq', ifname('nsbox0')), s.masquerade()],
      })
      .commit();
    assert.equal(pings(client, '192.0.2.254'), true, 'masqueraded behind 192.0.2.1, the answer comes back');
    await nft.transaction().destroyTable({ family: 'inet', name: 'nsbox' }).commit();
  } finally {
    nft.close();
  }
});
