/**
 * Integration (root, throwaway host): the osl package's own tests (spec §5), one by one.
 * veth pairs stand in for upstream's dummy links (this kernel has no dummy driver). The kernel
 * state is read with iproute2 inside the sandbox (`nsenter --net=KEY ip -j …`) and with
 * /proc/self/mountinfo, not with nsbox's own API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { Sandbox, applyKernelKnobs, type InterfaceOptions } from '../../../src/index.js';
import { ipAddrsIn, ipLink, ipLinksIn, ipRoutesIn, runIn } from '../../helpers/iproute.js';
import { delHostLinks, hostVeth } from '../../helpers/host-links.js';
import { mountsUnder } from '../../helpers/leaks.js';
import { checkSandboxLeaks, freshBase, newKey } from '../../helpers/sandbox.js';

const base = freshBase();
checkSandboxLeaks(base);

const names = (key: string): string[] => ipLinksIn(key).map((l) => l.ifname).sort();
const mountCount = (key: string): number => mountsUnder(base).filter((m) => m === key).length;

interface Info { src: string; options: InterfaceOptions }

/** osl newInfo: veths wierdlongname1/2 and 3/4 in the host, and the three interfaces (a), (b), (c). */
function newInfo(): Info[] {
  hostVeth('wierdlongname1', 'wierdlongname2');
  hostVeth('wierdlongname3', 'wierdlongname4');
  return [
    {
      src: 'wierdlongname2',
      options: { ipv4: '192.168.1.100/24', ipv6: 'fdac:97b4:dbcc::2/64', routes: ['192.168.2.1/32'], advertiseAddrNMsgs: 0 },
    },
    { src: 'testbridge', options: { isBridge: true, advertiseAddrNMsgs: 0 } },
    { src: 'wierdlongname4', options: { master: 'testbridge', advertiseAddrNMsgs: 0 } },
  ];
}

function dropInfo(): void {
  delHostLinks('wierdlongname1', 'wierdlongname2', 'wierdlongname3', 'wierdlongname4');
}

/** Destroy, then prove the key is gone: no file, no mount. */
async function destroyAndVerify(sb: Sandbox): Promise<void> {
  await sb.destroy();
  assert.equal(existsSync(sb.key), false, 'the key path no longer exists');
  assert.equal(mountCount(sb.key), 0, 'no mount left on the key');
}

/** Two veth ends created inside the sandbox through its own netlink handle. */
async function vethInside(sb: Sandbox, a: string, b: string): Promise<void> {
  await sb.netlink.link.add({ name: a, kind: 'veth', peer: { name: b } });
}

void test('TestSandboxCreate: three interfaces get containername0/1/2 with their config; destroy removes the key', async () => {
  const key = newKey();
  const sb = await Sandbox.create(key);
  try {
    assert.equal(sb.key, key);
    assert.equal(mountCount(key), 1, 'the namespace is mounted on the key');
    for (const i of newInfo()) await sb.addInterface(i.src, 'containername', i.options);
    await sb.setGateway('192.168.1.1');
    await sb.setGatewayIPv6(undefined);
    assert.deepEqual(names(key), ['containername0', 'containername1', 'containername2', 'lo']);
    const links = ipLinksIn(key);
    assert.equal(links.find((l) => l.ifname === 'containername1')?.linkinfo?.info_kind, 'bridge');
    assert.equal(links.find((l) => l.ifname === 'containername2')?.master, 'containername1');
    const addrs = ipAddrsIn(key, 'containername0').filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`);
    assert.deepEqual(addrs.sort(), ['192.168.1.100/24', 'fdac:97b4:dbcc::2/64']);
    const routes = ipRoutesIn(key, 4);
    assert.ok(routes.some((r) => r.dst === 'default' && r.gateway === '192.168.1.1' && r.dev === 'containername0'), 'default route via the gateway');
    assert.ok(routes.some((r) => r.dst === '192.168.2.1' && r.dev === 'containername0' && r.scope === 'link'), 'the interface route');
    assert.equal(ipLink(undefined, 'wierdlongname2'), undefined, 'the source link left the host');
    assert.deepEqual(sb.interfaces().map((i) => i.dstName), ['containername0', 'containername1', 'containername2']);
    assert.equal(sb.gateway, '192.168.1.1');
    assert.equal(sb.gatewayIPv6, undefined);
  } finally {
    await destroyAndVerify(sb);
    dropInfo();
  }
});

void test('TestSandboxCreateTwice: a second create on the key replaces the first; destroy leaves no stacked mount', async () => {
  const key = newKey();
  const first = await Sandbox.create(key);
  const second = await Sandbox.create(key);
  try {
    assert.equal(mountCount(key), 1, 'the first mount was replaced, not stacked');
    const nsOf = (sb: Sandbox): string => sb.invoke(() => readlinkSync('/proc/thread-self/ns/net'));
    assert.notEqual(nsOf(first), nsOf(second), 'two different namespaces');
    assert.equal(runIn(key, 'readlink', '/proc/self/ns/net').trim(), nsOf(second), 'the key holds the second one');
  } finally {
    await destroyAndVerify(second);
    await first.destroy();
  }
  assert.equal(mountCount(key), 0);
  assert.equal(existsSync(key), false);
});

void test('destroying a sandbox whose key a later create() took over leaves the newer namespace mounted', async () => {
  const key = newKey();
  const first = await Sandbox.create(key);
  const second = await Sandbox.create(key);
  try {
    await first.destroy();
    assert.equal(mountCount(key), 1, 'the second sandbox keeps its mount');
    assert.equal(runIn(key, 'readlink', '/proc/self/ns/net').trim(), second.invoke(() => readlinkSync('/proc/thread-self/ns/net')));
  } finally {
    await destroyAndVerify(second);
  }
  assert.equal(existsSync(key), false);
});

void test('TestSandboxGC: create then destroy leaves no file and no mount', async () => {
  const sb = await Sandbox.create(newKey());
  assert.ok(existsSync(sb.key));
  await destroyAndVerify(sb);
});

void test('TestAddRemoveInterface: 0,1,2; removing the first leaves 1,2; re-adding fills the gap with 0', async () => {
  const sb = await Sandbox.create(newKey());
  try {
    const infos = newInfo();
    for (const i of infos) await sb.addInterface(i.src, 'containername', i.options);
    assert.deepEqual(sb.interfaces().map((i) => i.dstName), ['containername0', 'containername1', 'containername2']);
    assert.deepEqual(names(sb.key), ['containername0', 'containername1', 'containername2', 'lo']);
    await sb.interfaces()[0]!.remove();
    assert.deepEqual(sb.interfaces().map((i) => i.dstName), ['containername1', 'containername2']);
    assert.deepEqual(names(sb.key), ['containername1', 'containername2', 'lo']);
    assert.ok(ipLink(undefined, 'wierdlongname2'), 'the link is back in the host under its source name');
    const a = infos[0]!;
    const again = await sb.addInterface(a.src, 'containername', a.options);
    assert.equal(again.dstName, 'containername0', 'HEAD fills the gap');
    assert.deepEqual(sb.interfaces().map((i) => i.dstName), ['containername1', 'containername2', 'containername0']);
    assert.deepEqual(names(sb.key), ['containername0', 'containername1', 'containername2', 'lo']);
  } finally {
    await destroyAndVerify(sb);
    dropInfo();
  }
});

void test('TestAddInterfaceInParallel: 10 concurrent adds of links created inside get exactly eth0..eth9', async () => {
  const sb = await Sandbox.create(newKey());
  try {
    for (let i = 0; i < 10; i++) await vethInside(sb, `dummy${i}`, `peer${i}`);
    const added = await Promise.all(
      Array.from({ length: 10 }, (_, i) => sb.addInterface(`dummy${i}`, 'eth', { createdInContainer: true })),
    );
    const want = Array.from({ length: 10 }, (_, i) => `eth${i}`).sort();
    assert.deepEqual(names(sb.key).filter((n) => n.startsWith('eth')), want);
    assert.deepEqual(added.map((i) => i.dstName).sort(), want);
    assert.deepEqual(sb.interfaces().map((i) => i.dstName).sort(), want);
  } finally {
    await destroyAndVerify(sb);
  }
});

void test('TestRemoveInterfaceTwice: with the link deleted behind our back, both removes reject and the interface stays', async () => {
  const sb = await Sandbox.create(newKey());
  try {
    await vethInside(sb, 'dummy0', 'peer0');
    const iface = await sb.addInterface('dummy0', 'eth', { createdInContainer: true, advertiseAddrNMsgs: 0 });
    assert.equal(iface.dstName, 'eth0');
    await sb.netlink.link.del({ name: 'eth0' });
    assert.ok(!names(sb.key).includes('eth0'));
    await assert.rejects(sb.removeInterface(iface), /eth0/);
    assert.equal(sb.interfaces().length, 1);
    assert.equal(sb.interfaces()[0], iface, 'the same object stays registered');
    await assert.rejects(iface.remove(), /eth0/);
    assert.equal(sb.interfaces()[0], iface);
  } finally {
    await destroyAndVerify(sb);
  }
});

void test('TestDisableIPv6DAD: the IPv6 address is added with IFA_F_NODAD', async () => {
  const sb = await Sandbox.create(newKey());
  try {
    await vethInside(sb, 'sideA', 'sideB');
    await sb.addInterface('sideA', 'eth', { dstName: 'sideA', createdInContainer: true, ipv6: '2001:db8::44/64', advertiseAddrNMsgs: 0 });
    const a = ipAddrsIn(sb.key, 'sideA').find((x) => x.family === 'inet6' && x.local === '2001:db8::44');
    assert.ok(a, 'the address is on sideA');
    assert.equal(a.prefixlen, 64);
    assert.equal(a.nodad, true, 'ip -j addr reports nodad');
  } finally {
    await destroyAndVerify(sb);
  }
});

/** TestSetInterfaceIP's setup: sideA/sideB up in the sandbox, both addresses on sideA. */
async function setInterfaceIPSetup(sb: Sandbox): Promise<void> {
  await vethInside(sb, 'sideA', 'sideB');
  await sb.netlink.link.set({ name: 'sideA' }, { up: true });
  await sb.netlink.link.set({ name: 'sideB' }, { up: true });
  await sb.addInterface('sideA', 'eth', {
    dstName: 'sideA', createdInContainer: true, ipv4: '172.30.0.33/24', ipv6: '2001:db8::44/64', advertiseAddrNMsgs: 0,
  });
  const addrs = ipAddrsIn(sb.key, 'sideA').map((a) => `${a.local}/${a.prefixlen}`);
  assert.ok(addrs.includes('172.30.0.33/24') && addrs.includes('2001:db8::44/64'), `sideA has ${addrs.join(' ')}`);
}

/** The same addresses on sideB conflict with sideA's routes, one family at a time. */
async function assertSideBConflicts(sb: Sandbox): Promise<void> {
  for (const options of [{ ipv4: '172.30.0.33/24' }, { ipv6: '2001:db8::44/64' }]) {
    await assert.rejects(
      sb.addInterface('sideB', 'eth', { dstName: 'sideB', createdInContainer: true, advertiseAddrNMsgs: 0, ...options }),
      /conflicts with existing route/,
      JSON.stringify(options),
    );
    assert.equal(sb.interfaceBySrcName('sideB'), undefined, 'not registered');
    assert.deepEqual(ipAddrsIn(sb.key, 'sideB').filter((a) => a.scope === 'global'), [], 'no address on sideB');
  }
}

void test('TestSetInterfaceIP: addresses on sideA succeed, the same on sideB conflict with existing routes', async () => {
  const sb = await Sandbox.create(newKey());
  try {
    await setInterfaceIPSetup(sb);
    await assertSideBConflicts(sb);
  } finally {
    await destroyAndVerify(sb);
  }
});

void test('TestLiveRestore: isRestore adopts the live namespace and deletes nothing (sideB still conflicts)', async () => {
  const key = newKey();
  const sb = await Sandbox.create(key);
  let restored: Sandbox | undefined;
  try {
    await setInterfaceIPSetup(sb);
    await assertSideBConflicts(sb);
    restored = await Sandbox.create(key, { isRestore: true });
    assert.equal(mountCount(key), 1, 'restore mounted nothing');
    assert.deepEqual(names(key), ['lo', 'sideA', 'sideB']);
    await assertSideBConflicts(restored);
  } finally {
    if (restored) await destroyAndVerify(restored);
    await destroyAndVerify(sb);
  }
});

void test('TestReadWriteKnobs: applyKernelKnobs round-trips inside a sandbox and restores the old values', async () => {
  const sb = await Sandbox.create(newKey());
  try {
    const hostForward = readFileSync('/proc/sys/net/ipv4/conf/lo/forwarding', 'utf8');
    // gc_thresh1..3 as upstream; this kernel shows them only in the initial namespace, so they
    // must be skipped silently. Per-namespace knobs prove the round trip itself.
    const keys = [
      'net.ipv4.neigh.default.gc_thresh1', 'net.ipv4.neigh.default.gc_thresh2', 'net.ipv4.neigh.default.gc_thresh3',
      'net.ipv4.neigh.lo.retrans_time_ms', 'net.ipv4.conf.lo.forwarding',
    ];
    const path = (k: string): string => `/proc/sys/${k.replaceAll('.', '/')}`;
    const read = (k: string): string | undefined => sb.invoke(() => {
      try {
        return readFileSync(path(k), 'utf8').trim();
      } catch {
        return undefined;
      }
    });
    const old = new Map(keys.map((k) => [k, read(k)]));
    const want = (k: string): string => (k.endsWith('forwarding') ? (old.get(k) === '1' ? '0' : '1') : '10000');
    sb.invoke(() => applyKernelKnobs(Object.fromEntries(keys.map((k) => [k, { value: want(k) }]))));
    let checked = 0;
    for (const k of keys) {
      if (old.get(k) === undefined) {
        assert.equal(read(k), undefined, `${k} was skipped, not created`);
        continue;
      }
      assert.equal(read(k), want(k), k);
      checked++;
    }
    assert.ok(checked >= 2, 'at least the per-namespace knobs were round-tripped');
    const checkFnCalls: [string, string][] = [];
    sb.invoke(() => applyKernelKnobs({
      'net.ipv4.conf.lo.forwarding': { value: old.get('net.ipv4.conf.lo.forwarding')!, checkFn: (o, n) => { checkFnCalls.push([o, n]); return false; } },
    }));
    assert.deepEqual(checkFnCalls, [[want('net.ipv4.conf.lo.forwarding'), old.get('net.ipv4.conf.lo.forwarding')!]]);
    assert.equal(read('net.ipv4.conf.lo.forwarding'), want('net.ipv4.conf.lo.forwarding'), 'a false checkFn skips the write');
    const restore = Object.fromEntries([...old].filter(([, v]) => v !== undefined).map(([k, v]) => [k, { value: v! }]));
    sb.invoke(() => applyKernelKnobs(restore));
    for (const [k, v] of old) assert.equal(read(k), v, `${k} restored`);
    assert.equal(readFileSync('/proc/sys/net/ipv4/conf/lo/forwarding', 'utf8'), hostForward, 'the host value never changed');
  } finally {
    await destroyAndVerify(sb);
  }
});
