/**
 * Integration (root, throwaway host): the ctnetlink client against the real kernel. Real flows —
 * TCP and UDP, IPv4 and IPv6 — go from a client namespace to a host namespace over a veth pair;
 * the host's kernel tracks them once a rule needs conntrack (helpers/nft-rules.ts: one `ct state`
 * rule, no `nft`). conntrack-tools (`conntrack -L -o xml`, helpers/conntrack-tool.ts) is the
 * oracle for what the table holds before and after. Then the stale UDP entry of research §4.3
 * rows 30–31, with a third namespace as the sandbox behind a DNAT rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileIn } from '../../../../src/sys/index.js';
import { NetlinkSocket } from '../../../../src/netlink/socket.js';
import { openTransport } from '../../../../src/netlink/native-transport.js';
import { NLM_F } from '../../../../src/netlink/wire/header.js';
import { NFPROTO } from '../../../../src/netlink/wire/nfgen.js';
import { CTNETLINK, ctnlType } from '../../../../src/netlink/conntrack/family.js';
import { IPCTNL_MSG, IPPROTO } from '../../../../src/netlink/conntrack/schema/constants.js';
import { CTA_FILTER_FLAG } from '../../../../src/netlink/conntrack/schema/filter.js';
import { decodeCtMessage, encodeCtMessage } from '../../../../src/netlink/conntrack/schema/message.js';
import { Conntrack, type ConntrackEntry, type ConntrackTuple } from '../../../../src/netlink/conntrack/ops/index.js';
import { makeNetns, type TestNetns } from '../../../helpers/netns.js';
import { ip, ipJson } from '../../../helpers/iproute.js';
import { checkLeaksAfterAll } from '../../../helpers/leaks.js';
import { conntrackList, conntrackTool, type ToolEntry, type ToolTuple } from '../../../helpers/conntrack-tool.js';
import { publishUdp, trackConnections } from '../../../helpers/nft-rules.js';
import { UdpEndpoint, tcpConnection, tcpEchoServer } from '../../../helpers/flows.js';

checkLeaksAfterAll();

/** A Conntrack handle in `ns` that `using` closes. */
function openConntrack(ns: TestNetns): Conntrack & Disposable {
  const ct = Conntrack.open({ netns: ns.fd });
  return Object.assign(ct, { [Symbol.dispose]: () => ct.close() });
}

interface Ends { name: string; v4: string; v6: string }

/**
 * A veth pair between `a` and `b` (names `a0`/`b0` + tag), each end with its IPv4 and IPv6 address
 * (nodad, no link-local), up, with permanent neighbour entries both ways: no neighbour discovery
 * between a flow and its first packet.
 */
function wire(a: TestNetns, aEnd: Ends, b: TestNetns, bEnd: Ends, prefix: { v4: number; v6: number }): void {
  ip(a.name, 'link', 'add', aEnd.name, 'type', 'veth', 'peer', 'name', bEnd.name, 'netns', b.name);
  const mac = (ns: TestNetns, dev: string): string => ipJson<{ address: string }[]>(ns.name, 'link', 'show', dev)[0]!.address;
  for (const [ns, end, peerNs, peer] of [[a, aEnd, b, bEnd], [b, bEnd, a, aEnd]] as const) {
    ip(ns.name, 'link', 'set', end.name, 'addrgenmode', 'none');
    ip(ns.name, 'addr', 'add', `${end.v4}/${prefix.v4}`, 'dev', end.name);
    ip(ns.name, 'addr', 'add', `${end.v6}/${prefix.v6}`, 'dev', end.name, 'nodad');
    ip(ns.name, 'link', 'set', end.name, 'up');
    ip(ns.name, 'link', 'set', 'lo', 'up');
    const peerMac = mac(peerNs, peer.name);
    ip(ns.name, 'neigh', 'replace', peer.v4, 'lladdr', peerMac, 'dev', end.name, 'nud', 'permanent');
    ip(ns.name, 'neigh', 'replace', peer.v6, 'lladdr', peerMac, 'dev', end.name, 'nud', 'permanent');
  }
}

const CLIENT: Ends = { name: 'c0', v4: '10.7.0.1', v6: 'fd07::1' };
const HOST: Ends = { name: 'h0', v4: '10.7.0.2', v6: 'fd07::2' };

/** A client namespace wired to a host namespace that tracks connections. */
async function clientAndHost(): Promise<{ client: TestNetns; host: TestNetns } & Disposable> {
  const client = makeNetns();
  const host = makeNetns();
  try {
    wire(client, CLIENT, host, HOST, { v4: 24, v6: 64 });
    await trackConnections(host);
  } catch (err) {
    client[Symbol.dispose]();
    host[Symbol.dispose]();
    throw err;
  }
  return { client, host, [Symbol.dispose]: () => { client[Symbol.dispose](); host[Symbol.dispose](); } };
}

/** UDP datagrams from the client's `srcPort` to the host's `dstPort`, v4 and v6, each received by a host endpoint. */
async function udpFlows(client: TestNetns, host: TestNetns, flows: [srcPort: number, dstPort: number][]): Promise<void> {
  for (const family of ['v4', 'v6'] as const) {
    for (const [srcPort, dstPort] of flows) {
      using from = new UdpEndpoint(client.fd, CLIENT[family], srcPort);
      using to = new UdpEndpoint(host.fd, HOST[family], dstPort);
      from.send(HOST[family], dstPort, `${srcPort}>${dstPort}`);
      assert.equal(await to.receive(`udp ${CLIENT[family]}:${srcPort} -> ${dstPort} arrives`), `${srcPort}>${dstPort}`);
    }
  }
}

/** Our entry in the oracle's shape (without the timeout, which only decreases between two reads). */
function asTool(e: ConntrackEntry): Omit<ToolEntry, 'timeout'> {
  const tuple = (t: ConntrackTuple): ToolTuple => {
    const out: ToolTuple = { src: t.src, dst: t.dst };
    if (t.srcPort !== undefined) out.sport = t.srcPort;
    if (t.dstPort !== undefined) out.dport = t.dstPort;
    if (t.icmpType !== undefined) out.type = t.icmpType;
    if (t.icmpCode !== undefined) out.code = t.icmpCode;
    if (t.icmpId !== undefined) out.id = t.icmpId;
    return out;
  };
  const out: Omit<ToolEntry, 'timeout'> = {
    family: e.family, proto: String(e.proto), orig: tuple(e.orig), reply: tuple(e.reply), mark: e.mark ?? 0, use: e.use ?? 0, id: e.id ?? -1,
    assured: e.status.includes('ASSURED'), unreplied: !e.status.includes('SEEN_REPLY'),
  };
  if (e.tcpState !== undefined) out.state = e.tcpState;
  if (e.zone !== undefined) out.zone = e.zone;
  return out;
}

const byId = <T extends { id: number }>(list: T[]): T[] => [...list].sort((a, b) => a.id - b.id);
const withoutTimeout = ({ timeout: _timeout, ...rest }: ToolEntry): Omit<ToolEntry, 'timeout'> => rest;
const flowText = (e: { family: number; proto: string | number; orig: { src: string; dst: string; srcPort?: number; dstPort?: number } }): string =>
  `${e.proto} ${e.orig.src}:${e.orig.srcPort} > ${e.orig.dst}:${e.orig.dstPort}`;

/** Compare our list with the oracle's, read right after: the same entries; the oracle's timeouts no later than ours. */
function assertSameTable(ours: ConntrackEntry[], tool: ToolEntry[], what: string): void {
  assert.deepEqual(byId(ours.map(asTool)), byId(tool.map(withoutTimeout)), what);
  for (const t of tool) {
    const e = ours.find((o) => o.id === t.id);
    assert.ok(e?.timeout !== undefined && t.timeout >= 0 && t.timeout <= e.timeout, `${what}: timeout ${t.timeout} read after ${e?.timeout}`);
  }
}

test('list: TCP and UDP flows, IPv4 and IPv6, as conntrack -L -o xml reports them; filtered lists as conntrack -L with the same filter', async () => {
  using lab = await clientAndHost();
  const { client, host } = lab;
  await using _v4 = await tcpEchoServer(host.fd, HOST.v4, 8080);
  await using _v6 = await tcpEchoServer(host.fd, HOST.v6, 8080);
  using _tcp4 = await tcpConnection(client.fd, CLIENT.v4, 41000, HOST.v4, 8080);
  using _tcp6 = await tcpConnection(client.fd, CLIENT.v6, 41001, HOST.v6, 8080);
  await udpFlows(client, host, [[40000, 8053]]);
  using ct = openConntrack(host);

  const all = await ct.list();
  assertSameTable(all, conntrackList(host.name), 'the whole table');
  const made = all.map(flowText).sort();
  for (const flow of ['tcp 10.7.0.1:41000 > 10.7.0.2:8080', 'tcp fd07::1:41001 > fd07::2:8080', 'udp 10.7.0.1:40000 > 10.7.0.2:8053', 'udp fd07::1:40000 > fd07::2:8053']) {
    assert.ok(made.includes(flow), `${flow} in ${made.join(', ')}`);
  }
  const tcp4 = all.find((e) => e.proto === 'tcp' && e.family === 4);
  assert.deepEqual(tcp4 && { status: tcp4.status, tcpState: tcp4.tcpState, reply: tcp4.reply }, {
    status: ['SEEN_REPLY', 'ASSURED', 'CONFIRMED'], tcpState: 'ESTABLISHED', reply: { src: '10.7.0.2', dst: '10.7.0.1', srcPort: 8080, dstPort: 41000 },
  });

  assertSameTable(await ct.list({ proto: 'udp', origDstPort: 8053 }), conntrackList(host.name, '-p', 'udp', '--orig-port-dst', '8053'), 'udp to 8053');
  assertSameTable(await ct.list({ family: 6, proto: 'tcp' }), conntrackList(host.name, '-f', 'ipv6', '-p', 'tcp'), 'IPv6 TCP');
  assertSameTable(await ct.list({ addresses: ['fd07::1'] }), conntrackList(host.name, '-f', 'ipv6', '-s', 'fd07::1'), 'from the client’s IPv6 address');
});

test('the kernel filters a dump by CTA_FILTER as probe() says: protocol and original destination port, every family, flagged NLM_F_DUMP_FILTERED', async () => {
  using lab = await clientAndHost();
  const { client, host } = lab;
  await udpFlows(client, host, [[40000, 8053], [40001, 8054]]);
  using ct = openConntrack(host);
  const capabilities = await ct.probe();
  assert.deepEqual(Object.keys(capabilities).sort(), ['filteredDump', 'filteredFlush']);
  const socket = new NetlinkSocket(openTransport(CTNETLINK.protocol, { netnsFd: host.fd }), CTNETLINK);
  try {
    for (const family of [NFPROTO.IPV4, NFPROTO.IPV6]) {
      const request = { family, orig: { protoNum: IPPROTO.UDP, dstPort: 8053 }, filter: { orig: CTA_FILTER_FLAG.CTA_PROTO_NUM | CTA_FILTER_FLAG.CTA_PROTO_DST_PORT } };
      const replies = await socket.dump(ctnlType(IPCTNL_MSG.CT_GET), (w) => encodeCtMessage(w, request), (m) => ({ flags: m.flags, entry: decodeCtMessage(m.payload) }));
      const dports = replies.map((r) => `${r.entry.family} ${r.entry.orig?.protoNum} ${r.entry.orig?.dstPort}`);
      if (capabilities.filteredDump) {
        assert.deepEqual(dports, [`${family} 17 8053`], 'only the entry the filter names');
        assert.ok(replies.every((r) => (r.flags & NLM_F.DUMP_FILTERED) !== 0));
      } else {
        assert.ok(dports.length >= 2, 'a kernel that does not read CTA_FILTER dumps the family');
      }
    }
  } finally {
    socket.close();
  }
});

test('deleteWhere by original destination port deletes exactly those entries, counted; again, nothing is left to delete', async () => {
  using lab = await clientAndHost();
  const { client, host } = lab;
  await using _server = await tcpEchoServer(host.fd, HOST.v4, 8053); // TCP to 8053 too: another protocol, kept
  using _tcp = await tcpConnection(client.fd, CLIENT.v4, 41000, HOST.v4, 8053);
  await udpFlows(client, host, [[40000, 8053], [40001, 8053], [40002, 8054]]);
  using ct = openConntrack(host);
  const before = conntrackList(host.name);
  const doomed = before.filter((e) => e.proto === 'udp' && e.orig.dport === 8053);
  assert.equal(doomed.length, 4, 'two source ports, IPv4 and IPv6');

  assert.deepEqual(await ct.deleteWhere({ proto: 'udp', origDstPort: 8053 }), { deleted: 4, alreadyGone: 0 });
  assert.deepEqual(byId(conntrackList(host.name)).map((e) => e.id), byId(before.filter((e) => !doomed.includes(e))).map((e) => e.id), 'the others are all still there');
  assert.deepEqual(await ct.deleteWhere({ proto: 'udp', origDstPort: 8053 }), { deleted: 0, alreadyGone: 0 });

  assert.deepEqual(await ct.deleteWhere({ addresses: ['fd07::2'] }), { deleted: 1, alreadyGone: 0 }, "a host address: the one IPv6 entry left, whichever end it is");
  assert.deepEqual(conntrackList(host.name, '-f', 'ipv6'), []);
});

test('delete: an entry by itself (true); gone already — deleted by conntrack -D, or twice — is no error (false); a tuple without an id', async () => {
  using lab = await clientAndHost();
  const { client, host } = lab;
  await udpFlows(client, host, [[40000, 8053], [40001, 8054]]);
  using ct = openConntrack(host);
  const [v4] = await ct.list({ family: 4, proto: 'udp', origDstPort: 8053 });
  assert.ok(v4);
  assert.equal(await ct.delete(v4), true);
  assert.deepEqual(conntrackList(host.name, '-f', 'ipv4', '-p', 'udp', '--orig-port-dst', '8053'), []);
  assert.equal(await ct.delete(v4), false, 'twice: gone, no error');

  const [v6] = await ct.list({ family: 6, proto: 'udp', origDstPort: 8054 });
  assert.ok(v6);
  conntrackTool(host.name, '-D', '-f', 'ipv6', '-p', 'udp', '--orig-port-dst', '8054');
  assert.equal(await ct.delete(v6), false, 'deleted by someone else meanwhile: gone, no error');

  const [other] = await ct.list({ family: 6, proto: 'udp', origDstPort: 8053 });
  assert.ok(other);
  assert.equal(await ct.delete({ proto: 'udp', orig: { src: other.orig.src, dst: other.orig.dst, srcPort: other.orig.srcPort, dstPort: 8053 } }), true);
  assert.deepEqual(conntrackList(host.name, '-f', 'ipv6', '-p', 'udp'), []);
  await assert.rejects(ct.delete({ proto: 'udp', orig: { src: '10.7.0.1', dst: '10.7.0.2', srcPort: 40000 } }), { name: 'TypeError' });
});

test('flush by protocol and port: one filtered flush where the kernel can, else deleteWhere; exactly those entries go either way', async () => {
  using lab = await clientAndHost();
  const { client, host } = lab;
  await udpFlows(client, host, [[40000, 8053], [40001, 8053], [40002, 8054]]);
  using ct = openConntrack(host);
  const before = conntrackList(host.name);
  const report = await ct.flush({ proto: 'udp', origDstPort: 8053 });
  assert.equal(report.method, (await ct.probe()).filteredFlush ? 'filtered-flush' : 'dump-delete');
  if (report.method === 'dump-delete') assert.equal(report.deleted, 4);
  assert.deepEqual(byId(conntrackList(host.name)).map((e) => e.id), byId(before.filter((e) => !(e.proto === 'udp' && e.orig.dport === 8053))).map((e) => e.id));
  await assert.rejects(ct.flush({ proto: 'udp', addresses: ['10.7.0.1'] } as never), /flush takes no addresses/);
});

test('a stale UDP entry keeps a published port going to the host until deleteWhere({ proto, origDstPort }) (research §4.3 rows 30–31)', async () => {
  using lab = await clientAndHost();
  const { client, host } = lab;
  using sandbox = makeNetns();
  const SANDBOX: Ends = { name: 's0', v4: '10.8.0.2', v6: 'fd08::2' };
  wire(host, { name: 'hs0', v4: '10.8.0.1', v6: 'fd08::1' }, sandbox, SANDBOX, { v4: 24, v6: 64 });
  writeFileIn(host.fd, '/proc/sys/net/ipv4/ip_forward', '1');
  using ct = openConntrack(host);
  using hostListener = new UdpEndpoint(host.fd, '0.0.0.0', 8053);
  using web = new UdpEndpoint(sandbox.fd, SANDBOX.v4, 80);
  using udpClient = new UdpEndpoint(client.fd, CLIENT.v4, 40000);

  // before publishing: a datagram to the host's 8053 is the host's, and conntrack remembers the flow
  udpClient.send(HOST.v4, 8053, 'one');
  assert.equal(await hostListener.receive('the host gets datagram one'), 'one');
  const [first] = await ct.list({ proto: 'udp', origDstPort: 8053 });
  assert.deepEqual(first && { status: first.status, reply: first.reply.src }, { status: ['CONFIRMED'], reply: HOST.v4 });

  await publishUdp(host, 8053, { address: SANDBOX.v4, port: 80 });
  udpClient.send(HOST.v4, 8053, 'two');
  assert.equal(await hostListener.receive('datagram two, same 5-tuple, still goes to the host'), 'two');
  const [stale] = await ct.list({ proto: 'udp', origDstPort: 8053 });
  assert.equal(stale?.id, first?.id, 'the same entry, not NATed');
  assert.ok(!stale?.status.includes('DST_NAT'));

  assert.deepEqual(await ct.deleteWhere({ proto: 'udp', origDstPort: 8053 }), { deleted: 1, alreadyGone: 0 });
  udpClient.send(HOST.v4, 8053, 'three');
  assert.equal(await web.receive('datagram three reaches the published sandbox'), 'three');
  assert.equal(hostListener.take(), undefined, 'and not the host');
  const [published] = await ct.list({ proto: 'udp', origDstPort: 8053 });
  assert.ok(published);
  assert.ok(published.status.includes('DST_NAT'), String(published.status));
  assert.deepEqual({ orig: published.orig, reply: published.reply }, {
    orig: { src: CLIENT.v4, dst: HOST.v4, srcPort: 40000, dstPort: 8053 },
    reply: { src: SANDBOX.v4, dst: CLIENT.v4, srcPort: 80, dstPort: 40000 },
  });
  assert.deepEqual((await ct.list({ addresses: [SANDBOX.v4] })).map((e) => e.id), [published.id], "found by the sandbox's address (the reply's source)");
});
