/**
 * Integration (root, throwaway host): lab faults (firewall/fault-table.ts) with real UDP traffic
 * between namespaces made here. A is wired to B and to C directly (veth pairs), and to C through
 * a router R (A — R — C, R forwarding). Each node's faults are its own `inet nsbox_fault` table.
 *
 * Loss at the receiver: 20% on B's interface drops a binomial share of 2000 datagrams (the band
 * checked is over 10 standard deviations wide), every drop is in the rule's counter (received +
 * dropped = sent, and nft's own listing agrees), and the sender never sees a send error;
 * setLoss changes it in place (the rules keep their handles) and 0 removes it. Partitions: each
 * side blocking the other cuts A→B and B→A while A→C still works; a one-way block (on B only)
 * drops A→B and lets B→A through; heal restores all; an IPv6 source is blocked apart from IPv4. heal() and remove() leave a foreign table
 * of the same namespace as it was. A router's table drops forwarded traffic too (prerouting).
 * "Did not arrive" is never a timeout: the test waits until the kernel's drop counter has
 * counted the datagrams, then checks that none arrived.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultTable, type FaultState } from '../../../src/firewall/index.js';
import { Nft } from '../../../src/netlink/nftables/ops/index.js';
import { makeNetns, type TestNetns } from '../../helpers/netns.js';
import { ip } from '../../helpers/iproute.js';
import { checkLeaksAfterAll } from '../../helpers/rtnl.js';
import { UdpEndpoint } from '../../helpers/flows.js';
import { listRuleset, nft } from '../../helpers/nft.js';

const ADDR = {
  aB: '10.90.1.1', b: '10.90.1.2',
  aC: '10.90.2.1', c: '10.90.2.2',
  aR: '10.90.3.1', rA: '10.90.3.254', rC: '10.90.4.254', cR: '10.90.4.2',
  aC6: 'fd90:2::1', c6: 'fd90:2::2',
} as const;

let a: TestNetns, b: TestNetns, c: TestNetns, r: TestNetns;
let faultsA: FaultTable, faultsB: FaultTable, faultsR: FaultTable, faultsC: FaultTable;
let nextPort = 30000 + Math.floor(Math.random() * 20000);
const port = (): number => nextPort++;

/** A veth pair between two namespaces, IPv4 only (no IPv6 address, no link-local: nothing but the test's traffic). */
function wire(x: TestNetns, xName: string, xAddr: string, y: TestNetns, yName: string, yAddr: string): void {
  ip(x.name, 'link', 'add', xName, 'type', 'veth', 'peer', 'name', yName, 'netns', y.name);
  for (const [ns, dev, addr] of [[x, xName, xAddr], [y, yName, yAddr]] as const) {
    ip(ns.name, 'link', 'set', dev, 'addrgenmode', 'none');
    ip(ns.name, 'addr', 'add', `${addr}/24`, 'dev', dev);
    ip(ns.name, 'link', 'set', dev, 'up');
  }
}

// registered first, so it runs before the leak check's own after hook (whose fd snapshot is taken here, before the namespaces)
after(() => {
  for (const f of [faultsA, faultsB, faultsR, faultsC]) f?.close();
  for (const ns of [a, b, c, r]) ns?.[Symbol.dispose]();
});
checkLeaksAfterAll();

before(() => {
  [a, b, c, r] = [makeNetns(), makeNetns(), makeNetns(), makeNetns()];
  wire(a, 'vab', ADDR.aB, b, 'vb', ADDR.b);
  wire(a, 'vac', ADDR.aC, c, 'vc', ADDR.c);
  ip(a.name, 'addr', 'add', `${ADDR.aC6}/64`, 'dev', 'vac', 'nodad');
  ip(c.name, 'addr', 'add', `${ADDR.c6}/64`, 'dev', 'vc', 'nodad');
  wire(a, 'var', ADDR.aR, r, 'ra', ADDR.rA);
  wire(r, 'rc', ADDR.rC, c, 'vcr', ADDR.cR);
  ip(a.name, 'route', 'add', '10.90.4.0/24', 'via', ADDR.rA);
  ip(c.name, 'route', 'add', '10.90.3.0/24', 'via', ADDR.rC);
  execFileSync('ip', ['netns', 'exec', r.name, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
  faultsA = FaultTable.open({ netns: a.path });
  faultsB = FaultTable.open({ netns: b.path });
  faultsR = FaultTable.open({ netns: r.path });
  faultsC = FaultTable.open({ netns: c.path });
});

/** A sender in one namespace and a receiver in another. */
function flow(from: TestNetns, src: string, to: TestNetns, dst: string): { tx: UdpEndpoint; rx: UdpEndpoint } & Disposable {
  const tx = new UdpEndpoint(from.fd, src, port());
  const rx = new UdpEndpoint(to.fd, dst, port());
  return { tx, rx, [Symbol.dispose]: () => { tx[Symbol.dispose](); rx[Symbol.dispose](); } };
}

interface Delivery { received: number; dropped: number; sendErrors: number }

/**
 * Send `n` datagrams in batches; after each, wait until every datagram sent so far is either
 * received or counted by `dropped` (the receiver's rule counter), so the receive queue never
 * overflows and nothing is judged lost by a timeout.
 */
async function deliver(f: { tx: UdpEndpoint; rx: UdpEndpoint }, n: number, dropped: () => Promise<bigint>): Promise<Delivery> {
  const base = await dropped();
  let received = 0, sendErrors = 0, sent = 0, lost = 0n;
  while (sent < n) {
    const batch = Math.min(100, n - sent);
    for (let i = 0; i < batch; i++) {
      try {
        f.tx.send(f.rx.address, f.rx.port, `d${sent + i}`);
      } catch {
        sendErrors++;
      }
    }
    sent += batch;
    const deadline = Date.now() + 10_000;
    for (;;) {
      while (f.rx.take() !== undefined) received++;
      lost = (await dropped()) - base;
      if (BigInt(received) + lost >= BigInt(sent - sendErrors)) break;
      if (Date.now() > deadline) throw new Error(`timed out: ${sent} sent, ${received} received, ${lost} counted as dropped`);
      await sleep(5);
    }
  }
  return { received, dropped: Number(lost), sendErrors };
}

const counter = (faults: FaultTable, rule: keyof FaultState['dropped']) => async (): Promise<bigint> => (await faults.state()).dropped[rule];

/** `n` datagrams that must all arrive (waits for them). */
async function allArrive(f: { tx: UdpEndpoint; rx: UdpEndpoint }, n = 20): Promise<void> {
  for (let i = 0; i < n; i++) f.tx.send(f.rx.address, f.rx.port, `ok${i}`);
  for (let i = 0; i < n; i++) await f.rx.receive(`datagram ${i} of ${n} from ${f.tx.address} at ${f.rx.address}`);
}

/** `n` datagrams that must all be dropped by `rule` of `faults`: waits until its counter counted them, then none arrived. */
async function noneArrive(f: { tx: UdpEndpoint; rx: UdpEndpoint }, faults: FaultTable, rule: keyof FaultState['dropped'], n = 20): Promise<void> {
  const d = await deliver(f, n, counter(faults, rule));
  assert.deepEqual(d, { received: 0, dropped: n, sendErrors: 0 }, `${f.tx.address} -> ${f.rx.address}`);
}

/** Rule handles of a node's chain, by comment. */
async function ruleHandles(ns: TestNetns): Promise<string[]> {
  const h = Nft.open({ netns: ns.path });
  try {
    return (await h.listRules({ family: 'inet', table: 'nsbox_fault' })).map((x) => `${x.comment}:${x.handle}`);
  } finally {
    h.close();
  }
}

test('loss at the receiver: 20% of 2000 datagrams dropped, all counted, no send error; changed in place to 5%; 0 removes it', async (t) => {
  using f = flow(a, ADDR.aB, b, ADDR.b);
  await allArrive(f, 5); // neighbours resolved before any loss
  assert.equal(await faultsB.ensure(), true);
  assert.equal(await faultsB.ensure(), false, 'idempotent');
  await faultsB.setLoss('vb', 0.2);
  assert.deepEqual((await faultsB.state()).loss, { vb: 0.2 });
  // nft reads the typeof set and its element back as written
  const listed = nft(b.name, 'list', 'set', 'inet', 'nsbox_fault', 'loss');
  assert.match(listed, /typeof iifname \. numgen random mod 1000000/);
  assert.match(listed, /"vb" \. 0-199999/);
  const handles = await ruleHandles(b);

  const d20 = await deliver(f, 2000, counter(faultsB, 'loss'));
  assert.equal(d20.sendErrors, 0, 'loss is not in the sender\'s output path');
  assert.equal(d20.received + d20.dropped, 2000, 'every datagram either arrived or is in the drop counter');
  t.diagnostic(`20%: ${d20.received} of 2000 received, ${d20.dropped} dropped`);
  assert.ok(d20.received >= 1400 && d20.received <= 1800, `20% loss: ${d20.received} of 2000 arrived (expected ~1600, sd ~18)`);
  // nft's own view of the counter agrees with nsbox's decoder
  const json = JSON.parse(nft(b.name, '-j', 'list', 'chain', 'inet', 'nsbox_fault', 'pre')) as { nftables: { rule?: { comment?: string; expr: { counter?: { packets: number } }[] } }[] };
  const lossRule = json.nftables.find((x) => x.rule?.comment === 'loss')?.rule;
  assert.equal(lossRule?.expr.find((e) => e.counter !== undefined)?.counter?.packets, Number((await faultsB.state()).dropped.loss));

  await faultsB.setLoss('vb', 0.05);
  assert.deepEqual((await faultsB.state()).loss, { vb: 0.05 });
  assert.match(nft(b.name, 'list', 'set', 'inet', 'nsbox_fault', 'loss'), /"vb" \. 0-49999/);
  assert.deepEqual(await ruleHandles(b), handles, 'the rules are untouched: only the element changed');
  const d5 = await deliver(f, 2000, counter(faultsB, 'loss'));
  assert.equal(d5.sendErrors, 0);
  assert.equal(d5.received + d5.dropped, 2000);
  t.diagnostic(`5%: ${d5.received} of 2000 received, ${d5.dropped} dropped`);
  assert.ok(d5.received >= 1820 && d5.received <= 1970, `5% loss: ${d5.received} of 2000 arrived (expected ~1900, sd ~10)`);

  await faultsB.setLoss('vb', 0);
  assert.deepEqual((await faultsB.state()).loss, {});
  const d0 = await deliver(f, 500, counter(faultsB, 'loss'));
  assert.deepEqual(d0, { received: 500, dropped: 0, sendErrors: 0 });
  await assert.rejects(faultsB.setLoss('vb', 1.5), RangeError);
});

test('partitions: both ways (A|B while A→C works), one way (only B blocks A), heal restores all; unblocking the absent is fine', async () => {
  using ab = flow(a, ADDR.aB, b, ADDR.b);
  using ba = flow(b, ADDR.b, a, ADDR.aB);
  using ac = flow(a, ADDR.aC, c, ADDR.c);
  await allArrive(ab, 3);
  await allArrive(ba, 3);
  await allArrive(ac, 3);

  await faultsA.block([ADDR.b]);
  await faultsB.block([ADDR.aB]);
  await faultsB.block([ADDR.aB]); // idempotent
  assert.deepEqual((await faultsB.state()).blocked, [ADDR.aB]);
  await noneArrive(ab, faultsB, 'blocked4');
  await noneArrive(ba, faultsA, 'blocked4');
  await allArrive(ac);

  await faultsA.heal();
  await faultsB.heal();
  assert.deepEqual((await faultsB.state()).blocked, []);
  await allArrive(ab);
  await allArrive(ba);

  // one way: only B drops what comes from A
  await faultsB.block([ADDR.aB]);
  await noneArrive(ab, faultsB, 'blocked4');
  await allArrive(ba);
  await faultsB.unblock([ADDR.aB]);
  await faultsB.unblock([ADDR.aB, '10.90.9.9', 'fd00::9']); // not blocked: fine
  await allArrive(ab);
  assert.deepEqual((await faultsB.state()).blocked, []);
});

test('a router\'s table drops forwarded traffic too (prerouting): loss and a blocked source on R cut A→C through R', async () => {
  using f = flow(a, ADDR.aR, c, ADDR.cR);
  await allArrive(f, 3);
  await faultsR.setLoss('ra', 1);
  await noneArrive(f, faultsR, 'loss');
  await faultsR.setLoss('ra', 0);
  await allArrive(f);
  await faultsR.block([ADDR.aR]);
  await noneArrive(f, faultsR, 'blocked4');
  await faultsR.heal();
  await allArrive(f);
  await faultsR.remove();
  assert.equal((await faultsR.state()).present, false);
});

test('an IPv6 source blocked at C: A→C over IPv6 dropped while IPv4 on the same link arrives; unblock restores it', async () => {
  using v6 = flow(a, ADDR.aC6, c, ADDR.c6);
  using v4 = flow(a, ADDR.aC, c, ADDR.c);
  await allArrive(v6, 3);
  await faultsC.block([ADDR.aC6]);
  assert.deepEqual((await faultsC.state()).blocked, [ADDR.aC6]);
  await noneArrive(v6, faultsC, 'blocked6');
  await allArrive(v4);
  await faultsC.unblock([ADDR.aC6]);
  await allArrive(v6);
  await faultsC.remove();
});

const FOREIGN = `
table ip foreign {
  set keep { type ipv4_addr; elements = { 192.0.2.7 } }
  chain input { type filter hook input priority 0; policy accept; ip saddr @keep drop; }
}
table inet other_faults {
  set loss { type ipv4_addr; elements = { 192.0.2.8 } }
  chain pre { type filter hook prerouting priority -300; policy accept; ip saddr @loss drop; }
}
`;

/** `nft -j list ruleset` of a namespace without nsbox_fault's items. */
function othersOf(ns: TestNetns): unknown[] {
  const ours = (x: unknown): boolean => {
    const item = Object.values(x as Record<string, { table?: string; name?: string }>)[0];
    return item?.table === 'nsbox_fault' || ('table' in (x as object) && item?.name === 'nsbox_fault');
  };
  return listRuleset(ns.name).filter((x) => !ours(x));
}

test('heal() and remove() touch no other table of the namespace', async () => {
  execFileSync('ip', ['netns', 'exec', b.name, 'nft', '-f', '-'], { input: FOREIGN });
  const before = othersOf(b);
  assert.ok(JSON.stringify(before).includes('other_faults') && JSON.stringify(before).includes('192.0.2.7'));
  await faultsB.setLoss('vb', 0.3);
  await faultsB.block([ADDR.aB, 'fd00::1']);
  assert.deepEqual((await faultsB.state()).blocked.sort(), [ADDR.aB, 'fd00::1']);
  assert.deepEqual(othersOf(b), before);
  await faultsB.heal();
  const healed = await faultsB.state();
  assert.deepEqual([healed.present, healed.loss, healed.blocked], [true, {}, []]);
  assert.deepEqual(othersOf(b), before, 'heal flushed only nsbox_fault\'s sets');
  await faultsB.remove();
  await faultsB.remove(); // absent: fine
  assert.equal((await faultsB.state()).present, false);
  assert.deepEqual(listRuleset(b.name).filter((x) => JSON.stringify(x).includes('nsbox_fault')), []);
  assert.deepEqual(othersOf(b), before, 'remove deleted only nsbox_fault');
  await faultsB.heal(); // no table: nothing to do
});
