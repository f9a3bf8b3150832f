/**
 * Integration (root, throwaway host): the native namespace primitives. Checked against the
 * kernel's own views (/proc/self/mountinfo, /proc/<pid>/ns/net, /proc/sys) and iproute2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, fstatSync, readFileSync, readlinkSync, statSync, writeFileSync, readlink } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  AF_INET, AF_NETLINK, NETLINK_ROUTE, SOCK_DGRAM, SOCK_RAW, close, createAndOpenNetns, createNetns, createNetnsWithNetlink, destroyNetns,
  openNetns, closeNetns, netnsReplaced, openNetlink, openProcfs, readFileIn, socketIn, withNetns, writeFileIn,
} from '../../../src/sys/index.js';
import { Rtnl } from '../../../src/netlink/route/ops/index.js';
import { SysError } from '../../../src/errors.js';
import { NETNS_DIR, checkLeaksAfterAll, mountsUnder } from '../../helpers/leaks.js';
import { randomName } from '../../helpers/names.js';
import { makeNetns } from '../../helpers/netns.js';
import { ipJson } from '../../helpers/iproute.js';

const hostNs = (): string => readlinkSync('/proc/thread-self/ns/net');

checkLeaksAfterAll();

test('createNetns makes a bind-mounted namespace that iproute2 sees, destroyNetns removes it all', () => {
  const name = randomName();
  const path = `${NETNS_DIR}/${name}`;
  createNetns(path);
  assert.ok(mountsUnder(NETNS_DIR).includes(path), 'mounted');
  const links = ipJson<{ ifname: string }[]>(name, 'link', 'show');
  assert.deepEqual(links.map((l) => l.ifname), ['lo'], 'a fresh namespace holds only lo');
  assert.equal(hostNs(), readlinkSync('/proc/thread-self/ns/net'), 'the caller never moved');
  assert.deepEqual(destroyNetns(path), { unmounted: true, removed: true });
  assert.equal(existsSync(path), false);
  assert.ok(!mountsUnder(NETNS_DIR).includes(path));
});

test('destroyNetns of something already gone succeeds and says so', () => {
  const path = `${NETNS_DIR}/${randomName()}`;
  assert.deepEqual(destroyNetns(path), { unmounted: false, removed: false });
  writeFileSync(path, '');
  assert.deepEqual(destroyNetns(path), { unmounted: false, removed: true }, 'a plain file is removed');
});

test('createNetns over an existing path fails with EEXIST and changes nothing', () => {
  using ns = makeNetns();
  const inode = withNetns(ns.fd, hostNs);
  assert.throws(() => createNetns(ns.path), (err: unknown) => {
    assert.ok(err instanceof SysError);
    assert.equal(err.code, 'EEXIST');
    assert.equal(err.errno, -17);
    assert.equal(err.syscall, 'open');
    assert.equal(err.path, ns.path);
    return true;
  });
  const again = openNetns(ns.path);
  assert.equal(withNetns(again, hostNs), inode, 'the existing namespace is untouched');
  closeNetns(again);
});

test('createNetns in a missing directory fails with ENOENT and leaves nothing', () => {
  const path = `${NETNS_DIR}/missing-dir/${randomName()}`;
  assert.throws(() => createNetns(path), { code: 'ENOENT', syscall: 'open' });
  assert.equal(existsSync(path), false);
});

test('openNetns refuses a file that is not a network namespace', () => {
  assert.throws(() => openNetns('/etc/hostname'), { code: 'NSBOX_ERR_NOT_NETNS' });
  assert.throws(() => openNetns('/proc/self/ns/uts'), { code: 'NSBOX_ERR_NOT_NETNS' });
  assert.throws(() => openNetns(`${NETNS_DIR}/${randomName()}`), { code: 'ENOENT', syscall: 'open' });
  const fd = openNetns('/proc/self/ns/net');
  closeNetns(fd);
});

test('withNetns: a spawned child and a /proc/sys/net write land in the sandbox; the caller comes back', () => {
  using ns = makeNetns();
  const host = hostNs();
  const target = withNetns(ns.fd, hostNs);
  const forwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const childNs = withNetns(ns.fd, () => {
    writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    return spawnSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' }).stdout.trim();
  });
  assert.equal(childNs, target, 'the child ran in the sandbox');
  assert.equal(hostNs(), host, 'the caller is back in its namespace');
  assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), forwardBefore, 'the host value is unchanged');
  assert.equal(withNetns(ns.fd, () => readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).trim(), '1');
});

test('withNetns: an async child spawn (fork happens in the window) lands in the sandbox', async () => {
  using ns = makeNetns();
  const target = withNetns(ns.fd, hostNs);
  const child = withNetns(ns.fd, () => spawn('readlink', ['/proc/self/ns/net']));
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise((resolve) => child.on('close', resolve));
  assert.equal(out.trim(), target);
});

test('withNetns: thread-pool work started inside the window runs in the host namespace', async () => {
  using ns = makeNetns();
  const host = hostNs();
  const results = await withNetns(ns.fd, () => {
    const jobs: Promise<string>[] = [];
    for (let i = 0; i < 16; i++) {
      jobs.push(new Promise((resolve, reject) => readlink('/proc/thread-self/ns/net', (e, v) => (e ? reject(e) : resolve(v)))));
    }
    return { all: Promise.all(jobs) };
  }).all;
  assert.deepEqual(new Set(results), new Set([host]), 'no pool thread lives in the sandbox');
});

test('withNetns: an exception inside propagates and the caller still comes back', () => {
  using ns = makeNetns();
  const host = hostNs();
  assert.throws(() => withNetns(ns.fd, () => { throw new RangeError('boom'); }), RangeError);
  assert.equal(hostNs(), host);
});

test('withNetns refuses async functions and promise results', () => {
  using ns = makeNetns();
  const host = hostNs();
  assert.throws(() => withNetns(ns.fd, async () => 1), TypeError);
  assert.throws(() => withNetns(ns.fd, () => Promise.resolve(1)), /synchronous only/);
  assert.equal(hostNs(), host);
});

test('withNetns on a bad fd fails with EBADF/EINVAL and nothing moves', () => {
  const host = hostNs();
  assert.throws(() => withNetns(9999, () => 1), (err: unknown) => err instanceof SysError && err.syscall === 'setns');
  assert.equal(hostNs(), host);
});

test('a failed switch back aborts the process instead of running on in the wrong namespace', () => {
  using ns = makeNetns();
  const sysModule = fileURLToPath(new URL('../../../src/sys/index.js', import.meta.url));
  // The test hook is on the raw addon, which only sys/binding.ts holds (sys/index.ts does not re-export it).
  const bindingModule = fileURLToPath(new URL('../../../src/sys/binding.js', import.meta.url));
  const script = `
    import * as sys from ${JSON.stringify(sysModule)};
    import { native } from ${JSON.stringify(bindingModule)};
    const fd = sys.openNetns(${JSON.stringify(ns.path)});
    native().testFailNextRestore();
    sys.withNetns(fd, () => 1);
    console.log('still running');`;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8', env: { ...process.env, NSBOX_TEST_HOOKS: '1' },
  });
  assert.equal(res.signal, 'SIGABRT', `expected an abort, got status ${res.status} ${res.stderr}`);
  assert.doesNotMatch(res.stdout, /still running/);
  assert.match(res.stderr, /setns back to the original network namespace failed/);
});

test('socketIn: a socket made in the sandbox belongs to it; every fd is close-on-exec', () => {
  using ns = makeNetns();
  const fd = socketIn(ns.fd, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  const udp = socketIn(-1, AF_INET, SOCK_DGRAM, 0);
  try {
    for (const f of [fd, udp]) {
      const flags = parseInt(/flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${f}`, 'utf8'))?.[1] ?? '0', 8);
      assert.ok(flags & 0o2000000, 'O_CLOEXEC');
      assert.ok(flags & 0o4000, 'O_NONBLOCK');
    }
    const child = spawnSync('ls', ['/proc/self/fd'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    assert.ok(!child.includes(String(fd)) && !child.includes(String(udp)) && !child.includes(String(ns.fd)), `child saw ${child.join(',')}`);
  } finally {
    close(fd);
    close(udp);
  }
});

test('createAndOpenNetns returns an fd of the namespace it mounted; the caller never moves', () => {
  const name = randomName();
  const path = `${NETNS_DIR}/${name}`;
  const fd = createAndOpenNetns(path);
  try {
    assert.equal(fstatSync(fd).ino, statSync(path).ino, 'the fd and the bind mount are the same namespace');
    assert.notEqual(withNetns(fd, hostNs), hostNs(), 'a new namespace, not the host');
    assert.equal(hostNs(), readlinkSync('/proc/thread-self/ns/net'));
    const flags = parseInt(/flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0', 8);
    assert.ok(flags & 0o2000000, 'O_CLOEXEC');
  } finally {
    closeNetns(fd);
  }
  assert.deepEqual(ipJson<{ ifname: string }[]>(name, 'link', 'show').map((l) => l.ifname), ['lo'], 'closing the fd keeps the namespace');
  const again = openNetns(path);
  try {
    assert.equal(netnsReplaced(again, path), false, 'the same namespace is still there');
    destroyNetns(path);
    assert.equal(netnsReplaced(again, path), false, 'gone is not replaced');
    closeNetns(createAndOpenNetns(path));
    assert.equal(netnsReplaced(again, path), true, 'another namespace took the path');
  } finally {
    closeNetns(again);
  }
  assert.deepEqual(destroyNetns(path), { unmounted: true, removed: true });
  assert.throws(() => createAndOpenNetns(`${NETNS_DIR}/missing-dir/${randomName()}`), { code: 'ENOENT' });
});

test('createNetnsWithNetlink: the socket is made inside the new namespace; a failed socket leaves no namespace', async () => {
  const name = randomName();
  const path = `${NETNS_DIR}/${name}`;
  const { nsFd, netlink } = createNetnsWithNetlink(path, { protocol: NETLINK_ROUTE, recvBufferBytes: 1 << 20 });
  try {
    assert.ok(netlink.portId !== 0, 'bound');
    const flags = parseInt(/flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${netlink.fd}`, 'utf8'))?.[1] ?? '0', 8);
    assert.ok(flags & 0o2000000 && flags & 0o4000, 'O_CLOEXEC and O_NONBLOCK');
    spawnSync('ip', ['-n', name, 'link', 'add', 'nsbt-cwn0', 'type', 'veth', 'peer', 'name', 'nsbt-cwn1']);
    const rtnl = Rtnl.open({ netns: nsFd, adopt: netlink });
    try {
      assert.deepEqual((await rtnl.link.list()).map((l) => l.name).sort(), ['lo', 'nsbt-cwn0', 'nsbt-cwn1'], 'it sees the new namespace');
    } finally {
      rtnl.close();
    }
    assert.throws(() => fstatSync(netlink.fd), { code: 'EBADF' }, 'the handle owned the adopted socket and closed it');
  } finally {
    closeNetns(nsFd);
    destroyNetns(path);
  }
  assert.equal(hostNs(), readlinkSync('/proc/thread-self/ns/net'), 'the caller never moved');
  // Netlink protocol 32 is out of range: the socket fails after unshare and mount, and both are undone.
  const failed = `${NETNS_DIR}/${randomName()}`;
  assert.throws(() => createNetnsWithNetlink(failed, { protocol: 32, recvBufferBytes: 1 << 20 }), { code: 'EPROTONOSUPPORT', syscall: 'socket' });
  assert.throws(() => createNetnsWithNetlink(failed, { protocol: -1, recvBufferBytes: 1 << 20 }), RangeError, 'no socket is not a socket');
  assert.equal(existsSync(failed), false, 'no file');
  assert.ok(!mountsUnder(NETNS_DIR).includes(failed), 'no mount');
  assert.equal(hostNs(), readlinkSync('/proc/thread-self/ns/net'));
});

test('Rtnl.open closes an adopted socket when it cannot open the namespace', () => {
  const { fd, portId } = openNetlink(-1, NETLINK_ROUTE, 1 << 20);
  assert.throws(() => Rtnl.open({ netns: `${NETNS_DIR}/${randomName()}`, adopt: { fd, portId } }), { code: 'ENOENT' });
  assert.throws(() => fstatSync(fd), { code: 'EBADF' });
});

test('openProcfs: a private procfs whose /sys follows the namespace of the opening thread', () => {
  using ns = makeNetns();
  const fd = openProcfs();
  try {
    const knob = `/proc/self/fd/${fd}/sys/net/ipv4/ip_forward`;
    writeFileIn(ns.fd, knob, '1\n');
    assert.equal(readFileIn(ns.fd, '/proc/sys/net/ipv4/ip_forward'), '1\n', 'the namespace knob, seen through the host /proc');
    assert.equal(readFileSync(knob, 'utf8'), readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), 'outside a window: the host knob');
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(`/proc/self/fd/${fd}`), 'attached nowhere');
  } finally {
    close(fd);
  }
  // Where /proc/sys is read-only, a fresh instance must not get around it: EROFS.
  const sys = fileURLToPath(new URL('../../../src/sys/index.js', import.meta.url));
  const probe = `import('${sys}').then((m) => { try { m.close(m.openProcfs()); console.log('opened'); } catch (e) { console.log(e.code); } })`;
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
    `mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec ${process.execPath} -e "${probe}"`], { encoding: 'utf8' });
  assert.equal(r.stdout.trim(), 'EROFS', r.stderr);
});

test('openNetlink: a bound rtnetlink socket made in the namespace, close-on-exec and non-blocking', async () => {
  using ns = makeNetns();
  const { fd, portId } = openNetlink(ns.fd, NETLINK_ROUTE, 1 << 20);
  try {
    assert.ok(portId !== 0, 'bound: the kernel assigned a port id');
    const flags = parseInt(/flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0', 8);
    assert.ok(flags & 0o2000000, 'O_CLOEXEC');
    assert.ok(flags & 0o4000, 'O_NONBLOCK');
  } finally {
    close(fd);
  }
  // Through the client: the socket sees the sandbox's links, not the host's.
  spawnSync('ip', ['-n', ns.name, 'link', 'add', 'nsbt-onl0', 'type', 'veth', 'peer', 'name', 'nsbt-onl1']);
  const rtnl = Rtnl.open({ netns: ns.fd });
  try {
    const names = (await rtnl.link.list()).map((l) => l.name).sort();
    assert.deepEqual(names, ['lo', 'nsbt-onl0', 'nsbt-onl1']);
  } finally {
    rtnl.close();
  }
  assert.equal(hostNs(), readlinkSync('/proc/thread-self/ns/net'));
  assert.throws(() => openNetlink(9999, NETLINK_ROUTE, 1 << 20), { code: 'EBADF', syscall: 'setns' });
});

test('readFileIn/writeFileIn: a /proc/sys/net knob of the namespace, not the host; errors name the path', () => {
  using ns = makeNetns();
  const knob = '/proc/sys/net/ipv4/ip_forward';
  const hostBefore = readFileSync(knob, 'utf8');
  assert.equal(readFileIn(ns.fd, knob), '0\n');
  writeFileIn(ns.fd, knob, '1\n');
  assert.equal(readFileIn(ns.fd, knob), '1\n');
  assert.equal(spawnSync('ip', ['netns', 'exec', ns.name, 'cat', knob], { encoding: 'utf8' }).stdout, '1\n', 'iproute2 sees it inside');
  assert.equal(readFileSync(knob, 'utf8'), hostBefore, 'the host knob is untouched');
  const missing = '/proc/sys/net/ipv6/conf/nsbt-none/disable_ipv6';
  assert.throws(() => readFileIn(ns.fd, missing), { code: 'ENOENT', syscall: 'open', path: missing });
  assert.throws(() => writeFileIn(ns.fd, missing, '1\n'), { code: 'ENOENT', syscall: 'open', path: missing });
  assert.throws(() => writeFileIn(ns.fd, knob, 'x\n'), { code: 'EINVAL', syscall: 'write', path: knob }, 'the kernel refuses the value');
  // 4094 bytes and a 2-byte character: too long, never cut short at the character.
  assert.throws(() => writeFileIn(ns.fd, knob, `${'1'.repeat(4094)}é`), { name: 'RangeError', message: /string too long/ });
  assert.equal(readFileIn(ns.fd, knob), '1\n', 'nothing was written');
  assert.equal(hostNs(), readlinkSync('/proc/thread-self/ns/net'), 'every failure switched back');
});
