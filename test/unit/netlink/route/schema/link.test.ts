/**
 * netlink/rt/link goldens. Every fixture was captured by scripts/capture-fixtures.sh: iproute2 6.1
 * run under `strace -f -xx -s 65536 -e trace=sendmsg,recvmsg,sendto,recvfrom -e read=all -e write=all`
 * inside a throwaway `unshare --mount --net` namespace; each .hex file's first line names the
 * exact command, kernel and date. Requests: decode(captured) must equal the expected object and
 * encode(expected) must equal the captured bytes (ignoring NLA_F_NESTED, which iproute2 omits).
 * Replies: decode(captured) must give the expected fields. MAC addresses the kernel chose at random
 * are checked by shape only, so a re-capture keeps the tests green.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrWriter } from '../../../../../src/netlink/wire/attr.js';
import { NLMSG, NLM_F } from '../../../../../src/netlink/wire/header.js';
import { encodeMessage, splitMessages } from '../../../../../src/netlink/wire/message.js';
import { decodeError } from '../../../../../src/netlink/wire/error.js';
import {
  AF, ARPHRD, DEVCONF_DISABLE_IPV6, IFF, IFLA, IFLA_INET6, IFLA_INFO, IF_OPER, IN6_ADDR_GEN_MODE, RTEXT_FILTER, RTM, VETH_INFO,
} from '../../../../../src/netlink/route/schema/constants.js';
import { attrMap } from '../../../../../src/netlink/wire/attr.js';
import { NO_STATS, type LinkMessage, decodeLinkMessage, encodeLinkMessage } from '../../../../../src/netlink/route/schema/link.js';
import { LINK_STATS64_FIELDS, type LinkStats64 } from '../../../../../src/netlink/route/schema/link-stats.js';
import { vxlanMtu } from '../../../../../src/netlink/route/schema/link-vxlan.js';
import { encodeLike, fixtureMessages, one, pick, toHex } from '../../fixtures.js';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const HDR = { family: AF.UNSPEC, type: 0, index: 0, flags: 0, change: 0 };
/** VETH_INFO_PEER starts with an ifinfomsg. */
const vethPeerStruct = (path: number[]): number =>
  path.join('.') === `${IFLA.LINKINFO}.${IFLA_INFO.DATA}.${VETH_INFO.PEER}` ? 16 : 0;

function linkRequest(name: string, type: number = RTM.NEWLINK) {
  // skip iproute2's probe (an empty RTM_NEWLINK with seq 0)
  const m = pick(name, 'sent', type).find((x) => x.seq !== 0);
  assert.ok(m, `${name}: request`);
  return m;
}

function golden(name: string, expected: LinkMessage, type: number = RTM.NEWLINK): void {
  const req = linkRequest(name, type);
  assert.deepEqual(decodeLinkMessage(req.payload), expected, `${name}: decode(captured request)`);
  assert.equal(encodeLike(req, 16, (w) => encodeLinkMessage(w, expected), vethPeerStruct), toHex(req.bytes), `${name}: encode(expected)`);
}

function roundTrip(m: LinkMessage): void {
  const w = new AttrWriter();
  encodeLinkMessage(w, m);
  assert.deepEqual(decodeLinkMessage(w.finish()), m);
}

void test('golden: ip link add v0 … type veth peer name v1 … netns peerns (peer born in another netns)', () => {
  golden('link-add-veth', {
    ...HDR, name: 'v0', mtu: 1400, address: '02:00:00:00:00:01',
    info: { kind: 'veth', peer: { name: 'v1', netnsFd: 4, address: '02:00:00:00:00:02', mtu: 1400 } },
  });
});

void test('golden: ip link add br0 type bridge stp_state 1 forward_delay 300 hello_time 150 priority 100', () => {
  golden('link-add-bridge', { ...HDR, name: 'br0', info: { kind: 'bridge', stpState: 1, forwardDelay: 300, helloTime: 150, priority: 100 } });
});

void test('golden: bridge vlan_filtering request, refused with EOPNOTSUPP by a kernel without it', () => {
  golden('link-add-bridge-vlanfilter', { ...HDR, name: 'br9', info: { kind: 'bridge', stpState: 0, forwardDelay: 200, vlanFiltering: true } });
  const reply = one('link-add-bridge-vlanfilter', 'received', NLMSG.ERROR, 1);
  const e = decodeError(reply.payload, reply.flags);
  assert.equal(e.error, -95);
  assert.equal(e.extack, undefined);
});

void test('golden: ip link add vx0 type vxlan id 42 local … remote … dstport 4789 dev v0 ttl 64 nolearning', () => {
  golden('link-add-vxlan', {
    ...HDR, name: 'vx0',
    info: { kind: 'vxlan', id: 42, local: '10.0.0.1', remote: '10.0.0.2', port: 4789, dev: 2, learning: false, ttl: 64 },
  });
});

void test('golden: ip link add mv0 link v0 type macvlan mode bridge', () => {
  golden('link-add-macvlan', { ...HDR, name: 'mv0', link: 2, info: { kind: 'macvlan', mode: 'bridge' } });
});

void test('golden: ip link add d0 type dummy (kind unknown to this kernel: extack)', () => {
  golden('link-add-dummy', { ...HDR, name: 'd0', info: { kind: 'dummy' } });
  const reply = one('link-add-dummy', 'received', NLMSG.ERROR, 1);
  assert.deepEqual(decodeError(reply.payload, reply.flags).extack, { message: 'Unknown device type' });
});

void test('golden: ip link set w0 master br0', () => {
  // In the capture, iproute2 first looked both links up by name: the kernel answered w0 is
  // ifindex 8 and br0 ifindex 3 (checked below), so the request must carry index 8, master 3.
  const [br0, w0] = pick('link-set-master', 'received', RTM.NEWLINK).map((r) => decodeLinkMessage(r.payload, NO_STATS));
  assert.deepEqual([br0?.name, br0?.index, w0?.name, w0?.index], ['br0', 3, 'w0', 8], 'the kernel\'s indexes in the capture');
  golden('link-set-master', { ...HDR, index: 8, master: 3 });
  assert.equal(linkRequest('link-set-master').flags, NLM_F.REQUEST | NLM_F.ACK);
});

void test('golden: ip link set w0 type bridge_slave hairpin on (a bridge port setting in IFLA_INFO_SLAVE_DATA)', () => {
  golden('link-set-hairpin', { ...HDR, index: 8, bridgePort: { hairpin: true } });
  // The kernel reports the port as slave kind "bridge", with its settings, in the link it echoes.
  const echoed = pick('link-set-hairpin', 'received', RTM.NEWLINK).map((r) => decodeLinkMessage(r.payload, NO_STATS)).find((l) => l.name === 'w0');
  assert.equal(echoed?.slaveKind, 'bridge');
  assert.equal(echoed?.bridgePort?.hairpin, false, 'as the kernel reported it before the change');
  assert.equal(typeof echoed?.bridgePort?.learning, 'boolean');
});

void test('golden: RTM_GETLINK by name with IFLA_EXT_MASK (ip -d link show dev v0)', () => {
  golden('link-get-veth', { ...HDR, name: 'v0', extMask: RTEXT_FILTER.VF | RTEXT_FILTER.SKIP_STATS }, RTM.GETLINK);
});

void test('golden: RTM_GETLINK dump request (ip -s link show)', () => {
  golden('link-dump', { ...HDR, family: AF.PACKET, extMask: RTEXT_FILTER.VF }, RTM.GETLINK);
  assert.equal(linkRequest('link-dump', RTM.GETLINK).flags, NLM_F.REQUEST | NLM_F.DUMP);
});

void test('golden reply: a veth whose peer lives in another netns, with IFLA_STATS64', () => {
  const m = decodeLinkMessage(one('link-get-veth', 'received', RTM.NEWLINK).payload);
  const { stats64, address, ...rest } = m;
  assert.deepEqual(rest, {
    family: 0, type: ARPHRD.ETHER, index: 2, flags: IFF.UP | IFF.BROADCAST | IFF.RUNNING | IFF.MULTICAST | IFF.LOWER_UP, change: 0,
    name: 'v0', mtu: 1400, broadcast: 'ff:ff:ff:ff:ff:ff', link: 2, linkNetnsId: 0, txqlen: 1000, numTxQueues: 2, numRxQueues: 2, group: 0,
    operstate: IF_OPER.UP, carrier: true, promiscuity: 0, addrGenMode: IN6_ADDR_GEN_MODE.EUI64, ipv6Disabled: false, info: { kind: 'veth' }, minMtu: 68, maxMtu: 65535,
  });
  assert.equal(address, '02:00:00:00:00:01');
  assert.ok(stats64);
  assert.deepEqual(Object.keys(stats64), [...LINK_STATS64_FIELDS]);
  assert.ok(Object.values(stats64).every((v) => Number.isSafeInteger(v) && v >= 0));
  assert.ok(stats64.txPackets > 0, 'the veth sent IPv6 ND/MLD packets');
});

void test('ipv6Disabled is read from IFLA_AF_SPEC > AF_INET6 > IFLA_INET6_CONF[DEVCONF_DISABLE_IPV6]', () => {
  const payload = Uint8Array.from(one('link-get-veth', 'received', RTM.NEWLINK).payload);
  const inet6 = attrMap(payload, 16).get(IFLA.AF_SPEC);
  assert.ok(inet6);
  const conf = attrMap(attrMap(inet6).get(AF.INET6)!).get(IFLA_INET6.CONF)!;
  assert.ok(conf.byteLength > DEVCONF_DISABLE_IPV6 * 4, 'the captured reply carries the devconf array');
  // conf is a view into payload: flip disable_ipv6 in place, as after `sysctl -w net.ipv6.conf.v0.disable_ipv6=1`
  new DataView(conf.buffer, conf.byteOffset).setInt32(DEVCONF_DISABLE_IPV6 * 4, 1, true);
  assert.equal(decodeLinkMessage(payload).ipv6Disabled, true);
  // a link without IPv6 state (no AF_INET6 in IFLA_AF_SPEC) says nothing
  const w = new AttrWriter();
  encodeLinkMessage(w, { family: 0, name: 'v0' });
  assert.equal(decodeLinkMessage(w.finish()).ipv6Disabled, undefined);
});

void test('addrGenMode round-trips through IFLA_AF_SPEC > AF_INET6 > IFLA_INET6_ADDR_GEN_MODE', () => {
  const w = new AttrWriter();
  encodeLinkMessage(w, { family: 0, name: 'v0', addrGenMode: IN6_ADDR_GEN_MODE.NONE });
  assert.deepEqual(decodeLinkMessage(w.finish()).addrGenMode, IN6_ADDR_GEN_MODE.NONE);
});

void test('golden reply: bridge details (ip -d link show dev br0)', () => {
  const m = decodeLinkMessage(one('link-get-bridge', 'received', RTM.NEWLINK).payload);
  assert.equal(m.name, 'br0');
  assert.match(m.address ?? '', MAC);
  assert.deepEqual(m.info, { kind: 'bridge', stpState: 1, forwardDelay: 300, helloTime: 150, maxAge: 2000, ageingTime: 30000, priority: 100, vlanFiltering: false });
  assert.equal(m.operstate, IF_OPER.DOWN);
});

void test('golden reply: vxlan details, port in network byte order', () => {
  const m = decodeLinkMessage(one('link-get-vxlan', 'received', RTM.NEWLINK).payload);
  assert.equal(m.name, 'vx0');
  assert.equal(m.mtu, 1350);
  // the kernel reports every flag; the golden request set none of them
  assert.deepEqual(m.info, {
    kind: 'vxlan', id: 42, local: '10.0.0.1', remote: '10.0.0.2', port: 4789, dev: 2, learning: false, ttl: 64,
    proxy: false, l2miss: false, l3miss: false, udpCsum: true,
  });
});

void test('golden: the overlay\'s vxlan: id 7 local … dev v0 dstport 8472 nolearning proxy l2miss l3miss ttl 16 udpcsum (no MTU: the kernel derives it)', () => {
  golden('link-add-vxlan-overlay', {
    ...HDR, name: 'vxo',
    info: { kind: 'vxlan', id: 7, local: '10.0.0.1', port: 8472, dev: 2, learning: false, ttl: 16, proxy: true, l2miss: true, l3miss: true, udpCsum: true },
  });
});

void test('vxlan MTU over an underlay: −50 for IPv4, −70 for IPv6', () => {
  assert.equal(vxlanMtu(1500, 4), 1450);
  assert.equal(vxlanMtu(1500, 6), 1430);
  assert.equal(vxlanMtu(9000, 4), 8950);
});

void test('golden reply: macvlan details', () => {
  const m = decodeLinkMessage(one('link-get-macvlan', 'received', RTM.NEWLINK).payload);
  assert.equal(m.name, 'mv0');
  assert.equal(m.link, 2);
  assert.deepEqual(m.info, { kind: 'macvlan', mode: 'bridge', flags: 0 });
});

void test('golden reply: the whole dump (ip -s link show): loopback stats, a bridge port, NLMSG_DONE', () => {
  const msgs = fixtureMessages('link-dump').filter((m) => m.dir === 'received' && (m.flags & NLM_F.MULTI) !== 0);
  assert.equal(msgs.at(-1)?.type, NLMSG.DONE);
  const links = msgs.filter((m) => m.type === RTM.NEWLINK).map((m) => decodeLinkMessage(m.payload));
  assert.deepEqual(links.map((l) => l.name), ['lo', 'v0', 'br0', 'vx0', 'mv0', 'w1', 'w0']);
  const lo = links[0];
  assert.ok(lo?.stats64);
  assert.equal(lo.type, ARPHRD.LOOPBACK);
  assert.equal(lo.flags, IFF.UP | IFF.LOOPBACK | IFF.RUNNING | IFF.LOWER_UP);
  assert.equal(lo.address, '00:00:00:00:00:00');
  assert.ok(lo.stats64.rxPackets >= 3 && lo.stats64.rxPackets === lo.stats64.txPackets, 'three UDP datagrams to 127.0.0.1');
  assert.ok(lo.stats64.rxBytes > 0);
  const w0 = links.find((l) => l.name === 'w0');
  assert.equal(w0?.master, links.find((l) => l.name === 'br0')?.index);
  assert.equal(w0?.slaveKind, 'bridge');
  assert.deepEqual(w0?.info, { kind: 'veth' });
});

void test('IFLA_STATS64: all 24 counters in kernel order; shorter and longer structs; beyond 2^32', () => {
  const stats = Object.fromEntries(LINK_STATS64_FIELDS.map((k, i) => [k, i * 2 ** 33 + i])) as unknown as LinkStats64;
  roundTrip({ ...HDR, stats64: stats });
  const full = new AttrWriter();
  encodeLinkMessage(full, { ...HDR, stats64: stats });
  const raw = full.finish().subarray(16 + 4);
  assert.equal(raw.length, 192);
  const short = new AttrWriter();
  encodeLinkMessage(short, HDR);
  short.bytes(IFLA.STATS64, raw.subarray(0, 23 * 8)); // before rx_nohandler (Linux < 4.6)
  const s = decodeLinkMessage(short.finish()).stats64;
  assert.equal(s?.txCompressed, stats.txCompressed);
  assert.equal(s?.rxNohandler, 0);
  const long = new AttrWriter();
  encodeLinkMessage(long, HDR);
  long.bytes(IFLA.STATS64, Uint8Array.from([...raw, ...new Uint8Array(16).fill(1)])); // rx_otherhost_dropped, …
  assert.deepEqual(decodeLinkMessage(long.finish()).stats64, stats);
  assert.throws(() => encodeLinkMessage(new AttrWriter(), { stats64: { ...stats, rxBytes: -1 } }), RangeError);
});

void test('round trips: every field and every kind', () => {
  roundTrip({
    family: AF.UNSPEC, type: ARPHRD.ETHER, index: 7, flags: IFF.UP | IFF.MULTICAST, change: 0xffffffff,
    name: 'eth0', mtu: 9000, address: 'aa:bb:cc:dd:ee:ff', broadcast: 'ff:ff:ff:ff:ff:ff', master: 0, link: 3,
    linkNetnsId: -1, netnsFd: 12, netnsPid: 4242, targetNetnsId: 5, txqlen: 500, group: 1, operstate: IF_OPER.UP,
    carrier: false, alias: 'uplink ✓', promiscuity: 2, extMask: RTEXT_FILTER.SKIP_STATS, slaveKind: 'bridge', minMtu: 68, maxMtu: 9216,
    info: { kind: 'veth', peer: { name: 'p', index: 9, netnsFd: 3, address: '02:00:00:00:00:02', mtu: 1500, flags: IFF.UP, change: IFF.UP } },
  });
  roundTrip({ ...HDR, info: { kind: 'veth' } });
  roundTrip({ ...HDR, info: { kind: 'veth', peer: {} } });
  roundTrip({ ...HDR, info: { kind: 'bridge', stpState: 0, forwardDelay: 1500, helloTime: 200, maxAge: 2000, ageingTime: 30000, priority: 32768, vlanFiltering: true } });
  roundTrip({ ...HDR, info: { kind: 'bridge' } });
  roundTrip({ ...HDR, info: { kind: 'vxlan', id: 0xffffff, local: 'fd00::1', group: 'ff05::100', port: 8472, dev: 1, learning: true, ttl: 0 } });
  roundTrip({ ...HDR, info: { kind: 'vxlan', id: 1, local: '192.0.2.1', group: '239.1.1.1' } });
  roundTrip({ ...HDR, info: { kind: 'vxlan', id: 1, remote: '2001:db8::2' } });
  roundTrip({ ...HDR, info: { kind: 'vxlan', id: 1, proxy: false, l2miss: true, l3miss: false, udpCsum: false } });
  for (const mode of ['private', 'vepa', 'bridge', 'passthru', 'source'] as const) roundTrip({ ...HDR, info: { kind: 'macvlan', mode, flags: 1 } });
  for (const mode of ['l2', 'l3', 'l3s'] as const) roundTrip({ ...HDR, info: { kind: 'ipvlan', mode, flags: 2 } });
  roundTrip({ ...HDR, info: { kind: 'ipvlan' } });
  roundTrip({ ...HDR, info: { kind: 'dummy' } });
  roundTrip({ ...HDR, info: { kind: 'wireguard' } });
  roundTrip({ ...HDR, slaveKind: 'bond' });
});

void test('unknown kinds keep only their name; unknown attributes and modes are ignored', () => {
  const w = new AttrWriter();
  encodeLinkMessage(w, { ...HDR, name: 'wg0' });
  w.nest(IFLA.LINKINFO, () => {
    w.string(IFLA_INFO.KIND, 'wireguard');
    w.nest(IFLA_INFO.DATA, () => w.u32(1, 5));
  });
  w.u32(999, 1); // an attribute from the future
  assert.deepEqual(decodeLinkMessage(w.finish()), { ...HDR, name: 'wg0', info: { kind: 'wireguard' } });
  const mv = new AttrWriter();
  encodeLinkMessage(mv, HDR);
  mv.nest(IFLA.LINKINFO, () => {
    mv.string(IFLA_INFO.KIND, 'macvlan');
    mv.nest(IFLA_INFO.DATA, () => mv.u32(1, 64)); // MACVLAN_MODE 64 does not exist (yet)
  });
  assert.deepEqual(decodeLinkMessage(mv.finish()).info, { kind: 'macvlan' });
});

void test('encode refuses a vxlan with both remote and group, and a bad MAC', () => {
  assert.throws(() => encodeLinkMessage(new AttrWriter(), { info: { kind: 'vxlan', id: 1, remote: '10.0.0.1', group: '239.0.0.1' } }), TypeError);
  assert.throws(() => encodeLinkMessage(new AttrWriter(), { address: '02:00' + ':zz'.repeat(4) }), TypeError);
});

void test('an empty-address attribute (devices with addr_len 0) decodes as no address', () => {
  const w = new AttrWriter();
  encodeLinkMessage(w, HDR);
  w.bytes(IFLA.ADDRESS, new Uint8Array(0));
  assert.equal(decodeLinkMessage(w.finish()).address, undefined);
});

void test('splitMessages + decodeLinkMessage on a self-built datagram', () => {
  const bytes = encodeMessage({ type: RTM.NEWLINK, flags: NLM_F.REQUEST, seq: 1 }, (w) => encodeLinkMessage(w, { ...HDR, name: 'x' }));
  const [m] = splitMessages(bytes);
  assert.equal(m?.type, RTM.NEWLINK);
  assert.equal(decodeLinkMessage(m?.payload ?? new Uint8Array()).name, 'x');
});
