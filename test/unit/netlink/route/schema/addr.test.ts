/**
 * netlink/rt/addr goldens, captured by scripts/capture-fixtures.sh (iproute2 6.1 under strace in
 * a throwaway `unshare --mount --net` namespace; see each .hex file's first line):
 * `ip addr add 10.1.0.1/24 broadcast 10.1.0.255 label v0:lab dev v0`,
 * `ip addr add 2001:db8::1/64 dev v0 nodad noprefixroute`, the duplicate of the first, and the
 * `ip addr show dev v0` dump.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrWriter } from '../../../../../src/netlink/wire/attr.js';
import { NLMSG, NLM_F } from '../../../../../src/netlink/wire/header.js';
import { decodeError } from '../../../../../src/netlink/wire/error.js';
import { AF, IFA, IFA_F, RTM, RT_SCOPE } from '../../../../../src/netlink/route/schema/constants.js';
import { type AddrMessage, decodeAddrMessage, encodeAddrMessage } from '../../../../../src/netlink/route/schema/addr.js';
import { encodeLike, one, pick, toHex } from '../../fixtures.js';

function golden(name: string, expected: AddrMessage): void {
  const req = one(name, 'sent', RTM.NEWADDR);
  assert.deepEqual(decodeAddrMessage(req.payload), expected);
  assert.equal(encodeLike(req, 8, (w) => encodeAddrMessage(w, expected)), toHex(req.bytes));
}

function roundTrip(m: AddrMessage): void {
  const w = new AttrWriter();
  encodeAddrMessage(w, m);
  assert.deepEqual(decodeAddrMessage(w.finish()), m);
}

void test('golden: IPv4 address with broadcast and label', () => {
  golden('addr-add-v4', {
    family: AF.INET, prefixLen: 24, flags: 0, scope: RT_SCOPE.UNIVERSE, index: 2,
    local: '10.1.0.1', address: '10.1.0.1', broadcast: '10.1.0.255', label: 'v0:lab',
  });
  const ack = one('addr-add-v4', 'received', NLMSG.ERROR);
  assert.equal(decodeError(ack.payload, ack.flags).error, 0);
});

void test('golden: IPv6 nodad noprefixroute — flags above 0xff travel only in IFA_FLAGS', () => {
  const expected = { family: AF.INET6, prefixLen: 64, flags: IFA_F.NODAD | IFA_F.NOPREFIXROUTE, scope: 0, index: 2, local: '2001:db8::1', address: '2001:db8::1' };
  golden('addr-add-v6', expected);
  const req = one('addr-add-v6', 'sent', RTM.NEWADDR);
  assert.equal(req.payload[2], 0, 'ifa_flags stays 0, as iproute2 sends it');
});

void test('golden: duplicate IPv4 address → EEXIST "ipv4: Address already assigned"', () => {
  golden('addr-add-dup', { family: AF.INET, prefixLen: 24, flags: 0, scope: 0, index: 2, local: '10.1.0.1', address: '10.1.0.1' });
  const reply = one('addr-add-dup', 'received', NLMSG.ERROR);
  const e = decodeError(reply.payload, reply.flags);
  assert.equal(e.error, -17);
  assert.deepEqual(e.extack, { message: 'ipv4: Address already assigned' });
});

void test('golden: RTM_GETADDR dump request and the kernel replies (ip addr show dev v0)', () => {
  const req = one('addr-dump', 'sent', RTM.GETADDR);
  assert.equal(req.flags, NLM_F.REQUEST | NLM_F.DUMP);
  const filter = { family: AF.UNSPEC, prefixLen: 0, flags: 0, scope: 0, index: 2 };
  assert.deepEqual(decodeAddrMessage(req.payload), filter);
  assert.equal(encodeLike(req, 8, (w) => encodeAddrMessage(w, filter)), toHex(req.bytes));

  const replies = pick('addr-dump', 'received', RTM.NEWADDR).map((m) => decodeAddrMessage(m.payload));
  const forever = 0xffffffff;
  const strip = ({ cacheinfo, ...rest }: AddrMessage) => {
    assert.equal(cacheinfo?.preferred, forever);
    assert.equal(cacheinfo?.valid, forever);
    assert.ok((cacheinfo?.created ?? 0) > 0 && cacheinfo?.updated === cacheinfo?.created);
    return rest;
  };
  assert.deepEqual(replies.map(strip), [
    { family: AF.INET, prefixLen: 24, flags: IFA_F.PERMANENT, scope: 0, index: 2, local: '10.1.0.1', address: '10.1.0.1', label: 'v0:lab', broadcast: '10.1.0.255' },
    { family: AF.INET6, prefixLen: 64, flags: IFA_F.PERMANENT | IFA_F.NODAD, scope: 0, index: 2, address: '2001:db8:f::1' },
    { family: AF.INET6, prefixLen: 64, flags: IFA_F.PERMANENT | IFA_F.NODAD | IFA_F.NOPREFIXROUTE, scope: 0, index: 2, address: '2001:db8::1' },
    { family: AF.INET6, prefixLen: 64, flags: IFA_F.PERMANENT, scope: RT_SCOPE.LINK, index: 2, address: 'fe80::ff:fe00:1', proto: 3 },
  ].map((x, i) => (i === 3 ? { ...x, flags: replies[3]?.flags ?? -1 } : x)));
  // the link-local address may still be in DAD (IFA_F_TENTATIVE) at capture time
  assert.equal((replies[3]?.flags ?? 0) & ~IFA_F.TENTATIVE, IFA_F.PERMANENT);
  const done = pick('addr-dump', 'received', NLMSG.DONE);
  assert.equal(done.length, 1);
});

void test('round trips, including flags above 0xff and cacheinfo', () => {
  roundTrip({ family: AF.INET, prefixLen: 32, flags: IFA_F.PERMANENT, scope: RT_SCOPE.HOST, index: 1, local: '127.0.0.1', address: '127.0.0.1', label: 'lo' });
  roundTrip({
    family: AF.INET6, prefixLen: 64, flags: IFA_F.MANAGETEMPADDR | IFA_F.NODAD | IFA_F.STABLE_PRIVACY, scope: 0, index: 0xfffffffe,
    address: 'fe80::1', rtPriority: 100, proto: 4, cacheinfo: { preferred: 60, valid: 120, created: 1, updated: 2 },
  });
  roundTrip({ family: AF.INET, prefixLen: 0, flags: 0, scope: 0, index: 0 });
});

void test('ifa_flags is used when IFA_FLAGS is absent; IFA_FLAGS wins when present', () => {
  const w = new AttrWriter();
  encodeAddrMessage(w, { family: AF.INET, prefixLen: 8, flags: IFA_F.SECONDARY, index: 1 });
  assert.equal(decodeAddrMessage(w.finish()).flags, IFA_F.SECONDARY);
  w.u32(IFA.FLAGS, IFA_F.NOPREFIXROUTE);
  assert.equal(decodeAddrMessage(w.finish()).flags, IFA_F.NOPREFIXROUTE);
});
