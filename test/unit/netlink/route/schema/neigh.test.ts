/**
 * netlink/rt/neigh goldens, captured by scripts/capture-fixtures.sh (iproute2 6.1 under strace in a
 * throwaway `unshare --mount --net` namespace; see each .hex file's first line):
 * `ip neigh add 10.1.0.3 lladdr 02:00:00:00:00:33 dev v0 nud permanent`, `ip neigh show dev v0`,
 * `bridge fdb add 02:00:00:00:00:44 dev vx0 dst 10.0.0.9 self permanent`, `bridge fdb show dev vx0`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrWriter } from '../../../../../src/netlink/wire/attr.js';
import { NLMSG, NLM_F } from '../../../../../src/netlink/wire/header.js';
import { decodeError } from '../../../../../src/netlink/wire/error.js';
import { AF, NDA, NTF, NUD, RTM, RTN } from '../../../../../src/netlink/route/schema/constants.js';
import { type NeighMessage, decodeNeighMessage, encodeNeighMessage } from '../../../../../src/netlink/route/schema/neigh.js';
import { decodeLinkMessage } from '../../../../../src/netlink/route/schema/link.js';
import { encodeLike, one, pick, toHex } from '../../fixtures.js';

/** vx0's ifindex, from the link dump `bridge` ran first in the same capture. */
function vx0Index(name: string): number {
  const vx0 = pick(name, 'received', RTM.NEWLINK).map((m) => decodeLinkMessage(m.payload)).find((l) => l.name === 'vx0');
  assert.ok(vx0?.index !== undefined);
  return vx0.index;
}

const byDst = (a: NeighMessage, b: NeighMessage): number => ((a.dst ?? '') < (b.dst ?? '') ? -1 : 1);

function golden(name: string, expected: NeighMessage, byteIdentical = true): void {
  const req = one(name, 'sent', RTM.NEWNEIGH);
  assert.deepEqual(decodeNeighMessage(req.payload), expected);
  if (byteIdentical) assert.equal(encodeLike(req, 12, (w) => encodeNeighMessage(w, expected)), toHex(req.bytes));
  else roundTrip(expected);
  const ack = one(name, 'received', NLMSG.ERROR);
  assert.equal(decodeError(ack.payload, ack.flags).error, 0);
}

function roundTrip(m: NeighMessage): void {
  const w = new AttrWriter();
  encodeNeighMessage(w, m);
  assert.deepEqual(decodeNeighMessage(w.finish()), m);
}

void test('golden: permanent ARP entry', () => {
  golden('neigh-add', { family: AF.INET, index: 2, state: NUD.PERMANENT, flags: 0, type: 0, dst: '10.1.0.3', lladdr: '02:00:00:00:00:33' });
});

void test('golden: vxlan FDB entry (AF_BRIDGE, NTF_SELF, remote VTEP in NDA_DST)', () => {
  // `bridge` sends NDA_LLADDR before NDA_DST, and so do we for AF_BRIDGE
  golden('fdb-add', { family: AF.BRIDGE, index: vx0Index('fdb-add'), state: NUD.PERMANENT | NUD.NOARP, flags: NTF.SELF, type: 0, dst: '10.0.0.9', lladdr: '02:00:00:00:00:44' });
});

void test('golden: the overlay\'s idempotent writes: bridge fdb replace … port 8472 vni 42 self permanent (byte-identical), ip neigh replace', () => {
  const index = vx0Index('fdb-replace');
  const fdb = { family: AF.BRIDGE, index, state: NUD.PERMANENT | NUD.NOARP, flags: NTF.SELF, type: 0, dst: '10.0.0.8', lladdr: '02:00:00:00:00:55', port: 8472, vni: 42 };
  golden('fdb-replace', fdb);
  assert.equal(one('fdb-replace', 'sent', RTM.NEWNEIGH).flags, NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.REPLACE);
  golden('neigh-replace', { family: AF.INET, index: vx0Index('neigh-replace'), state: NUD.PERMANENT, flags: 0, type: 0, dst: '10.244.2.0', lladdr: '0e:00:00:00:00:02' });
  assert.equal(one('neigh-replace', 'sent', RTM.NEWNEIGH).flags, NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.REPLACE);
});

void test('golden: bridge fdb del MAC dev vx0 dst … self (byte-identical)', () => {
  const req = one('fdb-del', 'sent', RTM.DELNEIGH);
  const expected = { family: AF.BRIDGE, index: vx0Index('fdb-del'), state: NUD.PERMANENT | NUD.NOARP, flags: NTF.SELF, type: 0, dst: '10.0.0.8', lladdr: '02:00:00:00:00:55' };
  assert.deepEqual(decodeNeighMessage(req.payload), expected);
  assert.equal(encodeLike(req, 12, (w) => encodeNeighMessage(w, expected)), toHex(req.bytes));
  const ack = one('fdb-del', 'received', NLMSG.ERROR);
  assert.equal(decodeError(ack.payload, ack.flags).error, 0);
});

void test('golden: neighbour dump replies', () => {
  const req = one('neigh-dump', 'sent', RTM.GETNEIGH);
  assert.deepEqual(decodeNeighMessage(req.payload), { family: AF.UNSPEC, index: 0, state: 0, flags: 0, type: 0 });
  const replies = pick('neigh-dump', 'received', RTM.NEWNEIGH).map((m) => decodeNeighMessage(m.payload));
  assert.deepEqual(replies.sort(byDst), [
    { family: AF.INET, index: 2, state: NUD.PERMANENT, flags: 0, type: RTN.UNICAST, dst: '10.1.0.3', lladdr: '02:00:00:00:00:33', probes: 0 },
    { family: AF.INET6, index: 2, state: NUD.NOARP, flags: 0, type: RTN.MULTICAST, dst: 'ff02::16', lladdr: '33:33:00:00:00:16', probes: 0 },
    { family: AF.INET6, index: 2, state: NUD.NOARP, flags: 0, type: RTN.MULTICAST, dst: 'ff02::1:ff00:1', lladdr: '33:33:ff:00:00:01', probes: 0 },
  ]);
});

void test('golden: bridge fdb dump of a vxlan device', () => {
  const req = one('fdb-dump', 'sent', RTM.GETNEIGH);
  assert.equal(decodeNeighMessage(req.payload).family, AF.BRIDGE);
  const replies = pick('fdb-dump', 'received', RTM.NEWNEIGH).map((m) => decodeNeighMessage(m.payload));
  const index = vx0Index('fdb-dump');
  assert.deepEqual(replies.sort(byDst).reverse(), [
    { family: AF.BRIDGE, index, state: NUD.PERMANENT | NUD.NOARP, flags: NTF.SELF, type: RTN.UNICAST, dst: '10.0.0.9', lladdr: '02:00:00:00:00:44' },
    // the all-zeros default entry `remote 10.0.0.2` created
    { family: AF.BRIDGE, index, state: NUD.PERMANENT | NUD.REACHABLE, flags: NTF.SELF, type: RTN.UNICAST, dst: '10.0.0.2', lladdr: '00:00:00:00:00:00' },
  ]);
});

void test('round trips: every field, port in network byte order', () => {
  roundTrip({
    family: AF.BRIDGE, index: 9, state: NUD.REACHABLE, flags: NTF.MASTER | NTF.EXT_LEARNED, type: RTN.UNICAST,
    dst: 'fd00::9', lladdr: '02:00:00:00:00:09', master: 3, vlan: 100, vni: 0xffffff, port: 4789, probes: 2,
  });
  roundTrip({ family: AF.INET, index: 0, state: 0, flags: 0, type: 0 });
  const w = new AttrWriter();
  encodeNeighMessage(w, { family: AF.BRIDGE, index: 1, port: 4789 });
  assert.equal(toHex(w.finish().subarray(12)), '06000600' + '12b50000');
});

void test('a zero-length NDA_LLADDR (devices without link-layer addresses) decodes as absent', () => {
  const w = new AttrWriter();
  encodeNeighMessage(w, { family: AF.INET, index: 1, dst: '10.0.0.1' });
  w.bytes(NDA.LLADDR, new Uint8Array(0));
  assert.equal(decodeNeighMessage(w.finish()).lladdr, undefined);
});
