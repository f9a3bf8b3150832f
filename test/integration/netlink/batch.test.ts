/**
 * Integration (root, throwaway host): NetlinkSocket.requestBatch against the real kernel, in the
 * test's own namespace. rtnetlink: several RTM_NEWADDR in one datagram, a duplicate among them
 * identified by its index while the kernel applies the others (checked with `ip -j addr`).
 * nfnetlink: nf_tables transactions framed by BATCH_BEGIN/BATCH_END, committed whole or not at
 * all, errors reported after the batch (no `nft` here: a plain GETTABLE request is the oracle).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetlinkError } from '../../../src/errors.js';
import { NetlinkSocket } from '../../../src/netlink/socket.js';
import type { BatchMessage } from '../../../src/netlink/batch.js';
import type { NetlinkFamily } from '../../../src/netlink/family.js';
import type { Transport } from '../../../src/netlink/transport.js';
import { openTransport } from '../../../src/netlink/native-transport.js';
import { NLM_F } from '../../../src/netlink/wire/header.js';
import { splitMessages } from '../../../src/netlink/wire/message.js';
import { RTNETLINK } from '../../../src/netlink/route/family.js';
import { AF, RTM } from '../../../src/netlink/route/schema/constants.js';
import { decodeAddrMessage, encodeAddrMessage } from '../../../src/netlink/route/schema/addr.js';
import { makeNetns, type TestNetns } from '../../helpers/netns.js';
import { ip, ipAddrs, ipJson } from '../../helpers/iproute.js';
import { checkLeaksAfterAll } from '../../helpers/rtnl.js';
import { NFNETLINK, NFT_MSG, batchBegin, batchEnd, delTable, newTable, nftType, tableBody, tableName } from '../../helpers/nfnetlink.js';

checkLeaksAfterAll();

/** A socket of `family` in `ns` that counts its datagrams: each send() is one sendmsg. */
function countingSocket(ns: TestNetns, family: NetlinkFamily): { socket: NetlinkSocket; datagrams: number[] } & Disposable {
  const real = openTransport(family.protocol, { netnsFd: ns.fd });
  const datagrams: number[] = [];
  const counting: Transport = {
    portId: real.portId,
    send: (bytes) => { datagrams.push(splitMessages(bytes).length); return real.send(bytes); },
    recv: (buffer) => real.recv(buffer),
    watch: (onReadable) => real.watch(onReadable),
    ref: (on) => real.ref(on),
    close: () => real.close(),
  };
  const socket = new NetlinkSocket(counting, family);
  return { socket, datagrams, [Symbol.dispose]: () => socket.close() };
}

/** RTM_NEWADDR CIDR on link `index`, exclusive, echoed back (NLM_F_ECHO) and decoded to its address. */
function newAddr(index: number, local: string, prefixLen: number): BatchMessage<string | undefined> {
  return {
    type: RTM.NEWADDR,
    flags: NLM_F.CREATE | NLM_F.EXCL | NLM_F.ECHO,
    body: (w) => encodeAddrMessage(w, { family: AF.INET, prefixLen, index, local, address: local }),
    decode: (m) => decodeAddrMessage(m.payload).local,
  };
}

/** A veth pair `name`/`name`p in `ns` (this kernel may have no dummy driver); the ifindex of `name`. */
function veth(ns: TestNetns, name: string): number {
  ip(ns.name, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`);
  const [link] = ipJson<{ ifindex: number }[]>(ns.name, 'link', 'show', name);
  assert.ok(link);
  return link.ifindex;
}

const v4 = (ns: TestNetns, dev: string): string[] => ipAddrs(ns.name, dev).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`).sort();

test('rtnetlink: four RTM_NEWADDR in one datagram, each acked and echoed; replies come back per message', async () => {
  using ns = makeNetns();
  using counted = countingSocket(ns, RTNETLINK);
  const index = veth(ns, 'b0');
  const results = await counted.socket.requestBatch([1, 2, 3, 4].map((i) => newAddr(index, `10.9.0.${i}`, 24)));
  assert.deepEqual(counted.datagrams, [4], 'one sendmsg with four messages');
  assert.deepEqual(results, [['10.9.0.1'], ['10.9.0.2'], ['10.9.0.3'], ['10.9.0.4']]);
  assert.deepEqual(v4(ns, 'b0'), ['10.9.0.1/24', '10.9.0.2/24', '10.9.0.3/24', '10.9.0.4/24']);
});

test('rtnetlink: a duplicate in the batch fails with EEXIST naming its index; the kernel applies the others', async () => {
  using ns = makeNetns();
  using counted = countingSocket(ns, RTNETLINK);
  const index = veth(ns, 'b1');
  const batch = [newAddr(index, '10.9.1.1', 24), newAddr(index, '10.9.1.2', 24), newAddr(index, '10.9.1.1', 24), newAddr(index, '10.9.1.3', 24)];
  await assert.rejects(counted.socket.requestBatch(batch), (err: unknown) => {
    assert.ok(err instanceof NetlinkError, String(err));
    assert.equal(err.batchIndex, 2);
    assert.equal(err.op, 'RTM_NEWADDR');
    assert.equal(err.code, 'EEXIST');
    assert.equal(err.extack?.message, 'ipv4: Address already assigned');
    assert.equal(err.message, 'RTM_NEWADDR (batch message 2): EEXIST: ipv4: Address already assigned');
    return true;
  });
  assert.deepEqual(counted.datagrams, [4]);
  assert.deepEqual(v4(ns, 'b1'), ['10.9.1.1/24', '10.9.1.2/24', '10.9.1.3/24'], 'rtnetlink carried on past the failing message');
  // The answers to message 3 came after the error and were dropped; the socket works on.
  assert.deepEqual(await counted.socket.requestBatch([newAddr(index, '10.9.1.4', 24)]), [['10.9.1.4']]);
});

/** The tables of `names` that exist in the namespace, by GETTABLE (ENOENT: absent). */
async function existingTables(socket: NetlinkSocket, names: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const name of names) {
    try {
      const [got] = await socket.request(nftType(NFT_MSG.GETTABLE), 0, tableBody(name), (m) => tableName(m.payload));
      if (got !== undefined) found.push(got);
    } catch (err) {
      if (!(err instanceof NetlinkError && err.code === 'ENOENT')) throw err;
    }
  }
  return found;
}

test('nfnetlink: BATCH_BEGIN, two NEWTABLE, BATCH_END in one datagram commit together; END\'s ack settles the batch', async () => {
  using ns = makeNetns();
  using counted = countingSocket(ns, NFNETLINK);
  const results = await counted.socket.requestBatch([batchBegin(), newTable('nsbt_a'), newTable('nsbt_b', { ack: false }), batchEnd()]);
  assert.deepEqual(results, [[], [], [], []]);
  assert.deepEqual(counted.datagrams, [4]);
  assert.deepEqual(await existingTables(counted.socket, ['nsbt_a', 'nsbt_b']), ['nsbt_a', 'nsbt_b']);
});

test('nfnetlink: one failing message aborts the whole transaction; its error, sent after the batch, names it', async () => {
  using ns = makeNetns();
  using counted = countingSocket(ns, NFNETLINK);
  const batch = [batchBegin(), newTable('nsbt_x'), delTable('nsbt_missing'), newTable('nsbt_y'), batchEnd()];
  await assert.rejects(counted.socket.requestBatch(batch), (err: unknown) => {
    assert.ok(err instanceof NetlinkError, String(err));
    assert.equal(err.batchIndex, 2);
    assert.equal(err.op, 'NFT_MSG_DELTABLE');
    assert.equal(err.code, 'ENOENT');
    return true;
  });
  assert.deepEqual(await existingTables(counted.socket, ['nsbt_x', 'nsbt_y']), [], 'nothing of the batch was committed');
  await counted.socket.requestBatch([batchBegin(), newTable('nsbt_x'), batchEnd()]);
  assert.deepEqual(await existingTables(counted.socket, ['nsbt_x']), ['nsbt_x'], 'the next transaction commits');
});

test('nfnetlink: a stale generation id in BATCH_BEGIN fails the batch against BEGIN (ERESTART), nothing processed', async () => {
  using ns = makeNetns();
  using counted = countingSocket(ns, NFNETLINK);
  await assert.rejects(counted.socket.requestBatch([batchBegin({ genid: 0x7fffffff }), newTable('nsbt_g'), batchEnd()]), {
    name: 'NetlinkError', code: 'ERESTART', batchIndex: 0, op: 'NFNL_MSG_BATCH_BEGIN',
  });
  assert.deepEqual(await existingTables(counted.socket, ['nsbt_g']), []);
});
