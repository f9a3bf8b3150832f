/**
 * Integration (root, throwaway host): the netlink socket under the rtnl handle — many requests
 * in flight, use after close, timeouts, aborts, requests sent from the thread pool (and closed
 * under), and an idle handle not keeping Node alive — and
 * sockets of other families (NETLINK_FIB_LOOKUP, NETLINK_USERSOCK), named by their own descriptors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AbortError, ClosedError, SysError, TimeoutError } from '../../../src/errors.js';
import { openNetlinkSocket } from '../../../src/netlink/native-transport.js';
import type { NetlinkFamily } from '../../../src/netlink/family.js';
import { makeNetns } from '../../helpers/netns.js';
import { ip, ipAddrs, ipJson, ipLink } from '../../helpers/iproute.js';
import { checkLeaksAfterAll, openRtnl } from '../../helpers/rtnl.js';

checkLeaksAfterAll();

/**
 * NETLINK_FIB_LOOKUP (10): the kernel silently drops a request too short to be a fib_result_nl,
 * so nobody ever answers. It reads no message type, so its descriptor names none.
 */
const FIB_LOOKUP: NetlinkFamily = { name: 'fib_lookup', protocol: 10, messageName: () => undefined };
/** NETLINK_USERSOCK (2) has no kernel socket: sendto fails at once with ECONNREFUSED. */
const USERSOCK: NetlinkFamily = { name: 'usersock', protocol: 2, messageName: () => undefined };
/** Any type will do for these two; 16 would be RTM_NEWLINK in rtnetlink, and must not be named so. */
const TYPE = 16;

test('200 requests in flight at once all succeed, and the kernel holds all 200 addresses', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'many0', 'type', 'veth', 'peer', 'name', 'many0p');
  const [link] = ipJson<{ ifindex: number }[]>(ns.name, 'link', 'show', 'many0');
  assert.ok(link);
  const want = Array.from({ length: 200 }, (_, i) => `10.${100 + (i >> 8)}.${i & 0xff}.1`);
  const pending = want.map((a) => rtnl.addr.add({ index: link.ifindex, address: `${a}/32` }));
  await Promise.all(pending);
  const have = ipAddrs(ns.name, 'many0').map((a) => a.local);
  assert.equal(have.length, 200);
  assert.deepEqual([...have].sort(), [...want].sort());
  const listed = await rtnl.addr.list({ index: link.ifindex, family: 4 });
  assert.equal(listed.length, 200);
});

test('a request on a closed handle rejects with ClosedError; close is idempotent', async () => {
  using ns = makeNetns();
  const rtnl = openRtnl(ns);
  assert.equal(rtnl.closed, false);
  rtnl.close();
  rtnl.close();
  assert.equal(rtnl.closed, true);
  const closed = { name: 'ClosedError', code: 'NSBOX_ERR_CLOSED' };
  await assert.rejects(rtnl.link.list(), closed);
  await assert.rejects(rtnl.link.get({ name: 'lo' }), closed);
  await assert.rejects(rtnl.addr.add({ index: 1, address: '10.0.0.1/8' }), (err: unknown) => err instanceof ClosedError);
  await assert.rejects(rtnl.route.list(), closed);
  await assert.rejects(rtnl.neigh.list(), closed);
  await assert.rejects(rtnl.nsid.get(ns.fd), closed);
  assert.deepEqual(ipAddrs(ns.name, 'lo'), [], 'nothing reached the kernel');
});

test('a request nobody answers rejects with TimeoutError after timeoutMs', async () => {
  const socket = openNetlinkSocket(FIB_LOOKUP, { timeoutMs: 50 });
  try {
    await assert.rejects(socket.request(TYPE, 0, () => {}), (err: unknown) => {
      assert.ok(err instanceof TimeoutError, String(err));
      assert.equal(err.code, 'NSBOX_ERR_TIMEOUT');
      assert.equal(err.op, 'fib_lookup type 16');
      assert.equal(err.timeoutMs, 50);
      return true;
    });
    await assert.rejects(socket.request(TYPE, 0, () => {}, undefined, { timeoutMs: 10 }), { code: 'NSBOX_ERR_TIMEOUT', timeoutMs: 10 });
  } finally {
    socket.close();
  }
});

test('NETLINK_USERSOCK: with no kernel socket to send to, the request fails at once (ECONNREFUSED)', async () => {
  const socket = openNetlinkSocket(USERSOCK, { timeoutMs: 50 });
  try {
    await assert.rejects(socket.request(TYPE, 0, () => {}), (err: unknown) => {
      assert.ok(err instanceof SysError, String(err));
      assert.equal(err.code, 'ECONNREFUSED');
      assert.equal(err.syscall, 'sendto');
      return true;
    });
  } finally {
    socket.close();
  }
});

test('an aborted AbortSignal rejects with AbortError, before sending or while waiting', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  const already = AbortSignal.abort();
  await assert.rejects(rtnl.link.list({}, { signal: already }), { name: 'AbortError', code: 'ABORT_ERR' });
  await assert.rejects(rtnl.link.add({ name: 'ab0', kind: 'bridge' }, { signal: already }), (err: unknown) => err instanceof AbortError);
  assert.equal(ipJson(ns.name, 'link', 'show', 'type', 'bridge').length, 0, 'nothing was sent');

  const socket = openNetlinkSocket(FIB_LOOKUP, { timeoutMs: 5000 });
  try {
    const ac = new AbortController();
    const pending = socket.request(TYPE, 0, () => {}, undefined, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('changed my mind')), 20);
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof AbortError, String(err)); // not a TimeoutError: it did not wait out the 5 s
      assert.equal(err.code, 'ABORT_ERR');
      assert.equal(err.message, 'fib_lookup type 16 was aborted');
      assert.match(String((err.cause as Error).message), /changed my mind/);
      return true;
    });
  } finally {
    socket.close();
  }
});

test('closing a socket rejects the requests still waiting with ClosedError', async () => {
  const socket = openNetlinkSocket(FIB_LOOKUP, { timeoutMs: 5000 });
  const pending = [socket.request(TYPE, 0, () => {}), socket.request(TYPE, 0, () => {})];
  socket.close();
  for (const p of pending) await assert.rejects(p, { name: 'ClosedError', code: 'NSBOX_ERR_CLOSED' });
});

test('background: a link deletion is sent off the event loop, answered after a request sent in place after it, and its error comes back', async () => {
  using ns = makeNetns();
  using rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'bg0', 'type', 'veth', 'peer', 'name', 'bg0p');
  let acked = false;
  const deleting = rtnl.link.del({ name: 'bg0' }, { background: true }).then(() => { acked = true; });
  // In place, this one is answered inside its own sendmsg; the deletion's answer needs the event loop.
  await rtnl.link.list();
  assert.equal(acked, false, 'the deletion was not sent in place');
  await deleting;
  assert.equal(ipLink(ns.name, 'bg0'), undefined);
  assert.equal(ipLink(ns.name, 'bg0p'), undefined, 'the peer went with it');
  await assert.rejects(rtnl.link.del({ name: 'bg0' }, { background: true }), { name: 'NetlinkError', code: 'ENODEV' });
});

test('background: a socket closed while its send is on the pool rejects the call, and the send still reaches the kernel', async () => {
  using ns = makeNetns();
  const rtnl = openRtnl(ns);
  ip(ns.name, 'link', 'add', 'bg1', 'type', 'veth', 'peer', 'name', 'bg1p');
  const deleting = rtnl.link.del({ name: 'bg1' }, { background: true });
  rtnl.close();
  await assert.rejects(deleting, { name: 'ClosedError', code: 'NSBOX_ERR_CLOSED' });
  // The fd is closed only once the pool's write returned: had it gone at close(), the write would have failed (EBADF) or hit whatever reused the number.
  for (let i = 0; i < 400 && ipLink(ns.name, 'bg1') !== undefined; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(ipLink(ns.name, 'bg1'), undefined);
});

test('an idle handle that is never closed does not keep the process alive', async () => {
  using ns = makeNetns();
  const rtnlModule = fileURLToPath(new URL('../../../src/netlink/route/ops/index.js', import.meta.url));
  const script = `
    import { Rtnl } from ${JSON.stringify(rtnlModule)};
    const rtnl = Rtnl.open({ netns: ${JSON.stringify(ns.path)} });
    const links = await rtnl.link.list();
    console.log('links', links.length);
    // A subscription read once and then left, and one never read, must not hold the process either.
    const events = rtnl.subscribe({ groups: ['link'] });
    rtnl.subscribe({ groups: ['link'] });
    await rtnl.link.add({ name: 'idle0', kind: 'veth', peer: { name: 'idle1' } });
    const first = await events.next();
    console.log('event', first.value.type);
    // no rtnl.close(), no return(): the process must still end by itself`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let errText = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { errText += d.toString(); });
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000); // a watchdog, so a hang fails instead of hanging the suite
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(killer);
  assert.equal(signal, null, `the child did not exit by itself and was killed: ${errText}`);
  assert.equal(code, 0, errText);
  assert.equal(out.trim(), 'links 1\nevent link');
});

test('opening and closing many sockets, then exiting, does not crash the process (poller lifetime)', async () => {
  const socketModule = fileURLToPath(new URL('../../../src/netlink/native-transport.js', import.meta.url));
  const familyModule = fileURLToPath(new URL('../../../src/netlink/route/family.js', import.meta.url));
  const script = `
    import { openNetlinkSocket } from ${JSON.stringify(socketModule)};
    import { RTNETLINK } from ${JSON.stringify(familyModule)};
    for (let i = 0; i < 200; i++) openNetlinkSocket(RTNETLINK).close();
    await new Promise((resolve) => setTimeout(resolve, 50)); // libuv closes the handles
    globalThis.gc(); // and the externals are finalized (again at exit)
    await new Promise((resolve) => setTimeout(resolve, 50));
    console.log('done');`;
  const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let errText = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { errText += d.toString(); });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  assert.deepEqual({ code, signal, out: out.trim() }, { code: 0, signal: null, out: 'done' }, errText);
});
