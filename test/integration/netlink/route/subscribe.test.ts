/**
 * Integration (root, throwaway host): rtnl.subscribe() — change notifications. The changes are
 * made with `ip` (so the events come from the kernel, not from nsbox's own requests); aborting
 * ends the `for await` loop cleanly and closes the subscription socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RtEvent } from '../../../../src/netlink/route/ops/index.js';
import { openFds } from '../../../helpers/leaks.js';
import { makeNetns } from '../../../helpers/netns.js';
import { ip } from '../../../helpers/iproute.js';
import { checkLeaksAfterAll, openRtnl } from '../../../helpers/rtnl.js';

checkLeaksAfterAll();

/** Iterate until `until` says stop (then abort); fail if that takes over `ms`. Returns every event seen. */
async function collect(events: AsyncIterable<RtEvent>, ac: AbortController, until: (seen: RtEvent[]) => boolean, ms = 5000): Promise<RtEvent[]> {
  const seen: RtEvent[] = [];
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; ac.abort(); }, ms);
  try {
    for await (const ev of events) {
      seen.push(ev);
      if (until(seen)) ac.abort();
    }
  } finally {
    clearTimeout(timer);
  }
  assert.equal(timedOut, false, `the events did not come within ${ms} ms: ${JSON.stringify(seen.map((e) => e.type))}`);
  return seen;
}

test("subscribe(['link']) sees a link appear (new) and disappear (del) with its name", async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const ac = new AbortController();
  const events = rtnl.subscribe({ groups: ['link'], signal: ac.signal }); // the socket is joined now
  ip(ns.name, 'link', 'add', 'sub0', 'type', 'bridge');
  ip(ns.name, 'link', 'del', 'sub0');
  const linkEvents = (seen: RtEvent[]) => seen.flatMap((e) => (e.type === 'link' && e.link.name === 'sub0' ? [e] : []));
  const seen = await collect(events, ac, (s) => linkEvents(s).some((e) => e.action === 'del'));
  const mine = linkEvents(seen);
  assert.equal(mine[0]?.action, 'new');
  assert.equal(mine.at(-1)?.action, 'del');
  assert.equal(mine[0]?.link.info?.kind, 'bridge');
  assert.equal(mine[0]?.link.index, mine.at(-1)?.link.index);
  assert.ok(mine.every((e) => e.link.stats64 === undefined), 'link events carry no counters');
  assert.ok(seen.every((e) => e.type === 'link'), 'only the link group');
});

test("subscribe(['addr']) sees an address added", async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'sa0', 'type', 'veth', 'peer', 'name', 'sa0p');
  const ac = new AbortController();
  const events = rtnl.subscribe({ groups: ['addr'], signal: ac.signal });
  ip(ns.name, 'addr', 'add', '10.60.0.1/24', 'dev', 'sa0');
  ip(ns.name, 'addr', 'add', '2001:db8:60::1/64', 'dev', 'sa0', 'nodad');
  const want = ['10.60.0.1/24', '2001:db8:60::1/64'];
  const added = (s: RtEvent[]) => s.flatMap((e) => (e.type === 'addr' && e.action === 'new' ? [e.addr.cidr] : []));
  const seen = await collect(events, ac, (s) => want.every((c) => added(s).includes(c)));
  assert.deepEqual(added(seen).filter((c) => want.includes(c)), want);
  const v4 = seen.find((e) => e.type === 'addr' && e.addr.cidr === '10.60.0.1/24');
  assert.ok(v4?.type === 'addr');
  assert.equal(v4.addr.index, (await rtnl.link.get({ name: 'sa0' })).index);
});

test("subscribe(['route', 'neigh']) sees routes and neighbours another process adds", async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'sr0', 'type', 'veth', 'peer', 'name', 'sr0p');
  ip(ns.name, 'addr', 'add', '10.61.0.1/24', 'dev', 'sr0');
  ip(ns.name, 'link', 'set', 'sr0', 'up');
  const ac = new AbortController();
  const events = rtnl.subscribe({ groups: ['route', 'neigh'], signal: ac.signal });
  ip(ns.name, 'route', 'add', '10.62.0.0/16', 'via', '10.61.0.2');
  ip(ns.name, 'neigh', 'add', '10.61.0.9', 'lladdr', '02:00:00:00:00:09', 'dev', 'sr0', 'nud', 'permanent');
  const route = (s: RtEvent[]) => s.find((e) => e.type === 'route' && e.action === 'new' && e.route.destination === '10.62.0.0/16');
  const neigh = (s: RtEvent[]) => s.find((e) => e.type === 'neigh' && e.action === 'new' && e.neigh.dst === '10.61.0.9');
  const seen = await collect(events, ac, (s) => route(s) !== undefined && neigh(s) !== undefined);
  const r = route(seen);
  assert.ok(r?.type === 'route');
  assert.equal(r.route.gateway, '10.61.0.2');
  const n = neigh(seen);
  assert.ok(n?.type === 'neigh');
  assert.equal(n.neigh.lladdr, '02:00:00:00:00:09');
});

test('aborting ends the for-await loop cleanly and closes the subscription socket', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const before = openFds();
  const ac = new AbortController();
  const events = rtnl.subscribe({ groups: ['link', 'addr', 'route', 'neigh', 'nsid'], signal: ac.signal });
  assert.equal(openFds().length, before.length + 1, 'one socket for the subscription');
  setTimeout(() => ac.abort(), 20);
  let count = 0;
  for await (const _ev of events) count++; // nothing happens in the namespace: waits until the abort
  assert.equal(count, 0);
  assert.deepEqual(openFds(), before, 'the socket is closed');
  assert.deepEqual(await events.next(), { value: undefined, done: true }, 'stays ended');
});

test('breaking out of the loop closes the socket; an already aborted signal yields nothing', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const before = openFds();
  const events = rtnl.subscribe({ groups: ['link'] });
  ip(ns.name, 'link', 'add', 'brk0', 'type', 'bridge');
  for await (const ev of events) {
    assert.equal(ev.type, 'link');
    break;
  }
  assert.deepEqual(openFds(), before, 'return() closed the socket');

  const none = rtnl.subscribe({ groups: ['link'], signal: AbortSignal.abort() });
  assert.deepEqual(openFds(), before, 'no socket for an aborted signal');
  assert.deepEqual(await none.next(), { value: undefined, done: true });
  assert.throws(() => rtnl.subscribe({ groups: ['bogus' as 'link'] }), TypeError);
});

test('a reader that falls more than maxQueued events behind gets one resync (reason reader, recv: ENOBUFS), then what follows', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'sq0', 'type', 'veth', 'peer', 'name', 'sq0p');
  const ac = new AbortController();
  const events = rtnl.subscribe({ groups: ['addr'], signal: ac.signal, maxQueued: 2 });
  // Five notifications wait in the socket; the first next() reads them all in one go.
  for (let i = 1; i <= 5; i++) ip(ns.name, 'addr', 'add', `10.61.0.${i}/24`, 'dev', 'sq0');
  const first = (await events.next()).value as RtEvent;
  assert.equal(first.type, 'resync');
  assert.equal(first.reason, 'reader');
  assert.deepEqual({ code: first.error.code, syscall: first.error.syscall, message: first.error.message }, { code: 'ENOBUFS', syscall: 'recv', message: 'recv: ENOBUFS: No buffer space available' });
  const second = (await events.next()).value as RtEvent;
  assert.ok(second.type === 'addr' && second.action === 'new');
  assert.equal(second.addr.cidr, '10.61.0.5/24', 'the events queued before the overflow were dropped, the last one kept');
  ac.abort();
});
