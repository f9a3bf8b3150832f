/**
 * Integration (root, throwaway host): rtnl.qdisc.* and rtnl.tclass.* — tbf and htb added, read
 * back, replaced and changed in place, deleted, checked against `tc -j -s qdisc show` and
 * `tc class show` (iproute2 as the oracle); netem, which kernels built without
 * CONFIG_NET_SCH_NETEM refuse, turned into NSBOX_ERR_KERNEL_FEATURE (or working where the kernel
 * has it); ingress, clsact, pfifo; and real UDP traffic dropped by a tbf with a tiny queue (counts
 * of datagrams and the qdisc's drop counter, never a time or a throughput).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { NetlinkError, NsboxError } from '../../../../src/errors.js';
import { TC_H } from '../../../../src/netlink/route/schema/constants.js';
import { formatTcHandle } from '../../../../src/netlink/route/schema/tc-handle.js';
import { parseRate, parseSize, parseTime } from '../../../../src/netlink/route/schema/tc-units.js';
import type { Qdisc } from '../../../../src/netlink/route/ops/qdisc.js';
import type { TcStats } from '../../../../src/netlink/route/schema/tc.js';
import { makeNetns, type TestNetns } from '../../../helpers/netns.js';
import { ip, ipJson } from '../../../helpers/iproute.js';
import { checkLeaksAfterAll, openRtnl, type TestRtnl } from '../../../helpers/rtnl.js';
import { UdpEndpoint } from '../../../helpers/flows.js';
import { setTimeout as delay } from 'node:timers/promises';

checkLeaksAfterAll();

interface TcQdisc {
  kind: string;
  handle: string;
  root?: boolean;
  parent?: string;
  options?: { rate?: number; burst?: number; limit?: number; lat?: number; default?: string; r2q?: number; direct_qlen?: number };
  drops?: number;
  packets?: number;
  backlog?: number;
  qlen?: number;
}

function tc(ns: TestNetns, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns.name, 'tc', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The oracle: `tc -j -s qdisc show dev DEV`. */
function tcQdiscs(ns: TestNetns, dev: string): TcQdisc[] {
  const out = tc(ns, '-j', '-s', 'qdisc', 'show', 'dev', dev).trim();
  return out === '' ? [] : (JSON.parse(out) as TcQdisc[]);
}

/** The oracle for classes: tc 6.1 prints htb classes as text even with -j. */
function tcClasses(ns: TestNetns, dev: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of tc(ns, 'class', 'show', 'dev', dev).split('\n')) {
    const m = /^class htb (\S+) (.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** A veth pair d0/d1 in `ns`, both up; d0's ifindex. */
function veth(ns: TestNetns): number {
  ip(ns.name, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1');
  ip(ns.name, 'link', 'set', 'd0', 'up');
  ip(ns.name, 'link', 'set', 'd1', 'up');
  return ipJson<{ ifindex: number }[]>(ns.name, 'link', 'show', 'd0')[0]!.ifindex;
}

async function rootOf(rtnl: TestRtnl, index: number): Promise<Qdisc> {
  const root = (await rtnl.qdisc.list({ index })).find((q) => q.parent === TC_H.ROOT);
  assert.ok(root, 'a root qdisc');
  return root;
}

test('tbf: add, read back as tc reads it, add again is EEXIST, replace and change in place, del', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const index = veth(ns);
  await rtnl.qdisc.add({ index, kind: 'tbf', rate: parseRate('10mbit'), burst: parseSize('32kbit'), latency: parseTime('50ms') });
  let ours = await rootOf(rtnl, index);
  let [oracle] = tcQdiscs(ns, 'd0');
  assert.equal(oracle?.kind, 'tbf');
  assert.equal(formatTcHandle(ours.handle), oracle.handle);
  assert.equal(ours.kind, 'tbf');
  assert.deepEqual(ours.options, { kind: 'tbf', rate: (oracle.options?.rate ?? 0) * 8, burst: oracle.options?.burst, limit: 66596 });
  assert.equal(oracle.options?.lat, 50_000, 'tc reads the limit back as 50 ms of latency');
  assert.deepEqual(ours.stats && { drops: ours.stats.drops, qlen: ours.stats.qlen }, { drops: oracle.drops, qlen: oracle.qlen });
  const handle = ours.handle;

  await assert.rejects(rtnl.qdisc.add({ index, kind: 'tbf', rate: 1e6, burst: 4096, limit: 10_000 }), (err: unknown) => err instanceof NetlinkError && err.code === 'EEXIST');

  await rtnl.qdisc.replace({ index, kind: 'tbf', rate: parseRate('40gbit'), burst: parseSize('64kb'), limit: 1_000_000 });
  ours = await rootOf(rtnl, index);
  [oracle] = tcQdiscs(ns, 'd0');
  assert.equal(ours.handle, handle, 'replaced in place: same handle');
  assert.equal(oracle?.options?.rate, 5_000_000_000, 'the 64-bit rate');
  assert.deepEqual(ours.options, { kind: 'tbf', rate: 40_000_000_000, burst: oracle.options?.burst, limit: 1_000_000 });

  await rtnl.qdisc.change({ index, kind: 'tbf', rate: parseRate('50mbit'), burst: parseSize('64kbit'), latency: parseTime('50ms') });
  ours = await rootOf(rtnl, index);
  [oracle] = tcQdiscs(ns, 'd0');
  assert.equal(ours.handle, handle, 'changed in place');
  assert.deepEqual(ours.options, { kind: 'tbf', rate: 50_000_000, burst: oracle?.options?.burst, limit: 320_692 });

  await rtnl.qdisc.del({ index });
  assert.deepEqual(tcQdiscs(ns, 'd0').map((q) => q.kind), ['noqueue'], 'the veth is back to its default');
  assert.equal((await rootOf(rtnl, index)).kind, 'noqueue');
  // the default root qdisc has handle 0: nothing to delete
  await assert.rejects(rtnl.qdisc.del({ index }), (err: unknown) => err instanceof NetlinkError && err.code === 'ENOENT');
  await assert.rejects(rtnl.qdisc.change({ index, kind: 'tbf', rate: 1e6, burst: 4096, limit: 10_000 }), NetlinkError, 'change without a qdisc to change');
});

test('htb: qdisc with a default class, classes (32- and 64-bit rates) read back as tc prints them, class replace in place, del', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const index = veth(ns);
  await rtnl.qdisc.add({ index, handle: '1:', kind: 'htb', defaultClass: 0x10, directQlen: 100 });
  const [oracle] = tcQdiscs(ns, 'd0');
  assert.deepEqual(oracle && { kind: oracle.kind, handle: oracle.handle, default: oracle.options?.default, r2q: oracle.options?.r2q, qlen: oracle.options?.direct_qlen }, {
    kind: 'htb', handle: '1:', default: '0x10', r2q: 10, qlen: 100,
  });
  const root = await rootOf(rtnl, index);
  // directPackets is a counter (frames sent while no class matched: an IPv6 router solicitation
  // on the veth coming up lands there at times), so only its presence is checked.
  const { directPackets, ...settings } = root.options as { directPackets?: number };
  assert.deepEqual(settings, { kind: 'htb', defaultClass: 0x10, r2q: 10, directQlen: 100 });
  assert.equal(typeof directPackets, 'number');

  await rtnl.tclass.add({ index, parent: '1:', classid: '1:10', kind: 'htb', rate: parseRate('25mbit'), ceil: parseRate('30mbit'), prio: 1 });
  await rtnl.tclass.add({ index, parent: '1:', classid: '1:20', kind: 'htb', rate: parseRate('40gbit'), burst: parseSize('15k') });
  await assert.rejects(rtnl.tclass.add({ index, parent: '1:', classid: '1:10', kind: 'htb', rate: 1e6 }), (err: unknown) => err instanceof NetlinkError && err.code === 'EEXIST');
  const text = tcClasses(ns, 'd0');
  assert.match(text.get('1:10') ?? '', /^root prio 1 rate 25Mbit ceil 30Mbit burst 1600b cburst 1593b/);
  // the default cburst, 5e9 / hz + 1600 = 1605 bytes, is 0.3 µs at 5e9 B/s: 0 in tc 6.1's whole µs
  assert.match(text.get('1:20') ?? '', /^root prio 0 rate 40Gbit ceil 40Gbit burst 10000b cburst 0b/);
  const classes = new Map((await rtnl.tclass.list({ index })).map((c) => [formatTcHandle(c.handle), c]));
  assert.deepEqual([...classes.keys()].sort(), ['1:10', '1:20']);
  const c10 = classes.get('1:10')!;
  assert.equal(c10.parent, TC_H.ROOT);
  assert.deepEqual({ ...c10.options, quantum: undefined }, { kind: 'htb', rate: 25_000_000, ceil: 30_000_000, burst: 1600, cburst: 1593, quantum: undefined, level: 0, prio: 1 });
  assert.deepEqual({ ...classes.get('1:20')!.options, quantum: undefined }, { kind: 'htb', rate: 40_000_000_000, ceil: 40_000_000_000, burst: 10000, cburst: 0, quantum: undefined, level: 0, prio: 0 });

  await rtnl.tclass.replace({ index, parent: '1:', classid: '1:10', kind: 'htb', rate: parseRate('50mbit') });
  assert.match(tcClasses(ns, 'd0').get('1:10') ?? '', /rate 50Mbit ceil 50Mbit/);
  assert.equal((await rtnl.tclass.list({ index })).find((c) => formatTcHandle(c.handle) === '1:10')?.options.kind, 'htb');
  await rtnl.tclass.change({ index, parent: '1:', classid: '1:10', kind: 'htb', rate: parseRate('20mbit'), ceil: parseRate('60mbit') });
  assert.match(tcClasses(ns, 'd0').get('1:10') ?? '', /rate 20Mbit ceil 60Mbit/);

  await rtnl.tclass.del({ index, classid: '1:20' });
  assert.deepEqual([...tcClasses(ns, 'd0').keys()], ['1:10']);
  await assert.rejects(rtnl.tclass.del({ index, classid: '1:20' }), (err: unknown) => err instanceof NetlinkError && err.code === 'ENOENT');
  await rtnl.qdisc.del({ index, handle: '1:' });
  assert.deepEqual(tcQdiscs(ns, 'd0').map((q) => q.kind), ['noqueue']);
});

test('netem: works where the kernel has it; elsewhere NSBOX_ERR_KERNEL_FEATURE naming the kind, and nothing changed', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const index = veth(ns);
  const spec = { index, kind: 'netem', delay: parseTime('20ms'), jitter: parseTime('5ms'), loss: 1.5, limit: 2000 } as const;
  let refusal: unknown;
  try {
    await rtnl.qdisc.add(spec);
  } catch (err) {
    refusal = err;
  }
  if (refusal === undefined) {
    const root = await rootOf(rtnl, index);
    assert.equal(root.kind, 'netem');
    assert.equal(tcQdiscs(ns, 'd0')[0]?.kind, 'netem');
    await rtnl.qdisc.del({ index });
    return;
  }
  assert.ok(refusal instanceof NsboxError, String(refusal));
  assert.equal(refusal.code, 'NSBOX_ERR_KERNEL_FEATURE');
  assert.match(refusal.message, /the kernel has no qdisc kind "netem" \(CONFIG_NET_SCH_NETEM is not set\)/);
  assert.ok(refusal.cause instanceof NetlinkError);
  assert.equal(refusal.cause.code, 'ENOENT');
  assert.deepEqual(tcQdiscs(ns, 'd0').map((q) => q.kind), ['noqueue'], 'nothing changed');
  // the same with replace, and under an htb class that exists
  await assert.rejects(rtnl.qdisc.replace(spec), (err: unknown) => err instanceof NsboxError && err.code === 'NSBOX_ERR_KERNEL_FEATURE');
  await rtnl.qdisc.add({ index, handle: '1:', kind: 'htb' });
  await rtnl.tclass.add({ index, parent: '1:', classid: '1:1', kind: 'htb', rate: 1e6 });
  await assert.rejects(rtnl.qdisc.add({ ...spec, parent: '1:1' }), (err: unknown) => err instanceof NsboxError && err.code === 'NSBOX_ERR_KERNEL_FEATURE');
  // a missing parent is the kernel's ENOENT, not a missing kind
  await assert.rejects(rtnl.qdisc.add({ ...spec, parent: '1:2' }), (err: unknown) => err instanceof NetlinkError && err.code === 'ENOENT');
  await assert.rejects(rtnl.qdisc.add({ index, parent: '7:1', kind: 'tbf', rate: 1e6, burst: 4096, limit: 10_000 }), (err: unknown) => err instanceof NetlinkError && err.code === 'ENOENT');
  await rtnl.qdisc.del({ index });
});

test('ingress, clsact and pfifo: add, list, del', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const index = veth(ns);
  for (const kind of ['ingress', 'clsact'] as const) {
    await rtnl.qdisc.add({ index, kind });
    const q = (await rtnl.qdisc.list({ index })).find((x) => x.kind === kind);
    assert.deepEqual(q && { handle: formatTcHandle(q.handle), parent: q.parent, options: q.options }, { handle: 'ffff:', parent: TC_H.INGRESS, options: { kind } });
    assert.deepEqual(tcQdiscs(ns, 'd0').filter((x) => x.kind === kind).map((x) => x.handle), ['ffff:']);
    await rtnl.qdisc.del({ index, kind });
    assert.deepEqual(tcQdiscs(ns, 'd0').filter((x) => x.kind === kind), []);
  }
  await rtnl.qdisc.add({ index, handle: '2:', kind: 'pfifo', limit: 50 });
  assert.deepEqual((await rootOf(rtnl, index)).options, { kind: 'pfifo', limit: 50 });
  assert.deepEqual(tcQdiscs(ns, 'd0').map((q) => [q.kind, q.handle, q.options?.limit]), [['pfifo', '2:', 50]]);
  await rtnl.qdisc.del({ index });
});

test('real traffic: a tbf with a 3000-byte queue drops most of a burst of UDP datagrams; its drop counter accounts for every one', async () => {
  using a = makeNetns();
  using b = makeNetns();
  using rtnl = openRtnl(a);
  ip(a.name, 'link', 'add', 'ta', 'type', 'veth', 'peer', 'name', 'tb', 'netns', b.name);
  // no IPv6 link-local, so the datagrams are the only packets through the tbf
  ip(a.name, 'link', 'set', 'ta', 'addrgenmode', 'none');
  ip(b.name, 'link', 'set', 'tb', 'addrgenmode', 'none');
  ip(a.name, 'addr', 'add', '10.61.0.1/24', 'dev', 'ta');
  ip(b.name, 'addr', 'add', '10.61.0.2/24', 'dev', 'tb');
  ip(a.name, 'link', 'set', 'ta', 'up');
  ip(b.name, 'link', 'set', 'tb', 'up');
  ip(a.name, 'neigh', 'add', '10.61.0.2', 'lladdr', ipJson<{ address: string }[]>(b.name, 'link', 'show', 'tb')[0]!.address, 'dev', 'ta', 'nud', 'permanent');
  const index = ipJson<{ ifindex: number }[]>(a.name, 'link', 'show', 'ta')[0]!.ifindex;
  await rtnl.qdisc.add({ index, kind: 'tbf', rate: parseRate('1mbit'), burst: 2000, limit: 3000 });

  using sender = new UdpEndpoint(a.fd, '10.61.0.1', 40100);
  using receiver = new UdpEndpoint(b.fd, '10.61.0.2', 40101);
  const sent = 100;
  const payload = 'x'.repeat(1000);
  for (let i = 0; i < sent; i++) sender.send('10.61.0.2', 40101, payload);

  // every datagram is either dropped by the tbf or delivered once its queue drains (the deadline
  // only keeps a broken run from hanging)
  let received = 0;
  let stats: TcStats | undefined;
  for (const deadline = Date.now() + 20_000; ; await delay(20)) {
    while (receiver.take() !== undefined) received++;
    stats = (await rootOf(rtnl, index)).stats;
    if (stats !== undefined && stats.qlen === 0 && received + stats.drops === sent) break;
    if (Date.now() > deadline) assert.fail(`not every datagram accounted for: received ${received}, tbf ${JSON.stringify(stats)}`);
  }
  const [oracle] = tcQdiscs(a, 'ta');
  assert.equal(oracle?.drops, stats.drops, 'tc reads the same drop counter');
  assert.equal(oracle.packets, stats.packets, 'and the same packets sent');
  assert.equal(stats.packets, received);
  assert.ok(received > 0, 'some datagrams went through');
  assert.ok(received < sent, `the tbf dropped some (${received} of ${sent} arrived)`);
});
