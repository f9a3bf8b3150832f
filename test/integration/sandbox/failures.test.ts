/**
 * Integration (root, throwaway host): failure paths of the sandbox layer, one per test, each
 * proving that nothing is left behind: checked with `ip -j` in the host and inside the
 * sandbox (`nsenter --net=KEY ip -j …`) and with /proc/self/mountinfo, not with nsbox's API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, generateKey, setBasePath, type InterfaceOptions } from '../../../src/index.js';
import { hostNetlink } from '../../../src/sandbox/index.js';
import { ip, ipAddrs, ipAddrsIn, ipLink, ipLinksIn } from '../../helpers/iproute.js';
import { delHostLinks, hostVeth, linkName } from '../../helpers/host-links.js';
import { mountsUnder, netnsFilesUnder as netnsFiles } from '../../helpers/leaks.js';
import { randomName } from '../../helpers/names.js';
import { checkSandboxLeaks, freshBase, newKey, NO_ADV, withSandbox } from '../../helpers/sandbox.js';

const base = freshBase();
checkSandboxLeaks(base);

const sandboxNames = (sb: Sandbox): string[] => ipLinksIn(sb.key).map((l) => l.ifname).sort();

/** The host link is where it was, under its name, with no address, and the sandbox holds only what it held. */
function assertBackInHost(src: string, sb: Sandbox, sandboxLinks: string[]): void {
  assert.ok(ipLink(undefined, src), `${src} is back in the host under its source name`);
  assert.deepEqual(ipAddrs(undefined, src).filter((a) => a.scope !== 'link'), [], `no address left on ${src}`);
  assert.deepEqual(sandboxNames(sb), sandboxLinks, 'the sandbox holds only what it held before');
  assert.equal(sb.interfaceBySrcName(src), undefined, 'not registered');
}


void test('create with an invalid key rejects and creates nothing', async () => {
  const before = netnsFiles(base);
  for (const bad of ['', 'relative/key', `${base}/netns/`, `${base}/netns/a\0b`]) {
    await assert.rejects(Sandbox.create(bad), TypeError, JSON.stringify(bad));
    await assert.rejects(Sandbox.fromExternal('/proc/self/ns/net', bad), TypeError, JSON.stringify(bad));
  }
  await assert.rejects(Sandbox.fromExternal('relative', newKey()), TypeError);
  assert.deepEqual(netnsFiles(base), before);
  assert.deepEqual(mountsUnder(base), []);
});

void test('create when the base directory is unusable (netns is a file) rejects and leaves nothing', async () => {
  const dir = `/run/${randomName()}`;
  mkdirSync(dir);
  writeFileSync(join(dir, 'netns'), 'not a directory');
  setBasePath(dir);
  try {
    await assert.rejects(Sandbox.create(generateKey('0123456789abcdef')), /ENOTDIR|EEXIST|not a directory/i);
    assert.deepEqual(readdirSync(dir), ['netns']);
    assert.deepEqual(mountsUnder(dir), []);
  } finally {
    setBasePath(base);
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('fromExternal with a source that is not a netns rejects; no file and no mount at the key', async () => {
  const key = newKey();
  await assert.rejects(Sandbox.fromExternal('/etc/hostname', key), { code: 'NSBOX_ERR_NOT_NETNS' });
  await assert.rejects(Sandbox.fromExternal('/proc/self/ns/uts', key), { code: 'NSBOX_ERR_NOT_NETNS' });
  await assert.rejects(Sandbox.fromExternal('/nonexistent/ns', key), { code: 'ENOENT' });
  assert.equal(existsSync(key), false);
  assert.deepEqual(mountsUnder(base), []);
});

void test('fromExternal pins a live namespace on the key; destroy unpins it, the source lives on', async () => {
  const source = await Sandbox.create(newKey());
  try {
    const key = newKey();
    const sb = await Sandbox.fromExternal(source.key, key);
    assert.deepEqual(mountsUnder(base).filter((m) => m === key), [key]);
    await sb.netlink.link.add({ name: 'extA', kind: 'veth', peer: { name: 'extB' } });
    assert.deepEqual(sandboxNames(source), ['extA', 'extB', 'lo'], 'the same namespace');
    await sb.destroy();
    assert.equal(existsSync(key), false);
    assert.deepEqual(sandboxNames(source), ['extA', 'extB', 'lo'], 'the source namespace is untouched');
  } finally {
    await source.destroy();
  }
});

void test("addInterface with a missing host link fails with 'failed to get link by name' and changes nothing", async () => {
  await withSandbox(async (sb) => {
    const missing = linkName('x');
    await assert.rejects(sb.addInterface(missing, 'eth', NO_ADV), { message: new RegExp(`^failed to get link by name "${missing}"`) });
    assert.deepEqual(sb.interfaces(), []);
    assert.deepEqual(sandboxNames(sb), ['lo']);
  });
});

/**
 * Watch the host's link events from now on. `stop()` adds and deletes a marker link and
 * returns every other event seen before the marker's deletion: the kernel sends a socket its
 * notifications in order, so nothing that happened before stop() is missed.
 */
function watchHostLinks(): { stop: () => Promise<{ action: 'new' | 'del'; index: number; name: string }[]> } {
  const ac = new AbortController();
  const events = hostNetlink().subscribe({ groups: ['link'], signal: ac.signal }); // joined now
  const marker = linkName('m');
  const done = (async () => {
    const seen: { action: 'new' | 'del'; index: number; name: string }[] = [];
    for await (const ev of events) {
      if (ev.type === 'resync') throw new Error('the kernel dropped link events', { cause: ev.error });
      if (ev.type !== 'link') continue;
      if (ev.link.name !== marker) seen.push({ action: ev.action, index: ev.link.index, name: ev.link.name });
      else if (ev.action === 'del') break;
    }
    return seen;
  })();
  done.catch(() => {}); // rejections are reported by stop()
  return {
    async stop() {
      ip(undefined, 'link', 'add', marker, 'type', 'bridge');
      ip(undefined, 'link', 'del', marker);
      try {
        return await done;
      } finally {
        ac.abort();
      }
    },
  };
}

void test('addInterface with a bad option rejects before anything moves', async () => {
  const [a, b] = hostVeth();
  const index = (name: string): number => ipLink(undefined, name)!.ifindex;
  const pair = [index(a), index(b)];
  // The error resolveOptions throws, before anything touches the kernel (a TypeError or a
  // RangeError as they are, not wrapped as a failed kernel step).
  const cases: [InterfaceOptions, TypeErrorConstructor | RangeErrorConstructor, RegExp][] = [
    [{ ipv4: 'bogus' }, TypeError, /^invalid IPv4 address "bogus": not an IPv4 or IPv6 address$/],
    [{ mac: 'zz:zz:zz:zz:zz:zz' }, TypeError, /^invalid MAC address "zz:zz:zz:zz:zz:zz": expected aa:bb:cc:dd:ee:ff$/],
    [{ advertiseAddrNMsgs: 9 }, RangeError, /^AdvertiseAddrNMsgs 9 is not in the range 0 to 3$/],
    [{ sysctls: ['net.x=1'] }, TypeError, /^expected sysctl 'net\.x=1' to have format net\.X\.Y\.IFNAME\.Z$/],
    [{ dstName: 'a'.repeat(16) }, TypeError, /^invalid destination interface name "a{16}": 1 to 15 bytes, no '\/', ':' or whitespace$/],
  ];
  try {
    await withSandbox(async (sb) => {
      const watch = watchHostLinks();
      for (const [options, type, message] of cases) {
        const what = JSON.stringify(options);
        await assert.rejects(sb.addInterface(b, 'eth', { ...options }), (err: unknown) => {
          assert.equal((err as Error).constructor, type, `${what}: ${String(err)}`);
          assert.match((err as Error).message, message, what);
          return true;
        });
        assertBackInHost(b, sb, ['lo']);
      }
      // A link moved into the sandbox and back would have left the host (RTM_DELLINK) and come
      // back (RTM_NEWLINK), and its peer would have changed (its link-netnsid): no such event.
      const events = await watch.stop();
      assert.deepEqual(events.filter((e) => pair.includes(e.index) || e.name === a || e.name === b), [], 'neither end of the pair changed');
      assert.deepEqual([index(a), index(b)], pair);
    });
  } finally {
    delHostLinks(a, b);
  }
});

void test('addInterface with a dstName that exists in the sandbox: rename fails, the link goes back to the host', async () => {
  const [a, b] = hostVeth();
  try {
    await withSandbox(async (sb) => {
      await sb.netlink.link.add({ name: 'eth7', kind: 'veth', peer: { name: 'busy7' } });
      await assert.rejects(sb.addInterface(b, 'eth', { dstName: 'eth7', ...NO_ADV }), { message: new RegExp(`^error renaming interface "${b}" to "eth7"`) });
      assertBackInHost(b, sb, ['busy7', 'eth7', 'lo']);
      const again = await sb.addInterface(b, 'eth', { dstName: 'eth8', ...NO_ADV });
      assert.equal(again.dstName, 'eth8', 'the link is usable again');
    });
  } finally {
    delHostLinks(a, b);
  }
});

void test('addInterface with an IPv4 that conflicts with a route: the link goes back to the host with no address', async () => {
  const [a, b] = hostVeth();
  try {
    await withSandbox(async (sb) => {
      await sb.netlink.link.add({ name: 'cfa', kind: 'veth', peer: { name: 'cfb' } });
      await sb.addInterface('cfa', 'eth', { createdInContainer: true, ipv4: '10.50.0.2/24', ...NO_ADV });
      await assert.rejects(sb.addInterface(b, 'eth', { ipv4: '10.50.0.3/24', ipv6: '2001:db8:50::3/64', ...NO_ADV }), {
        message: /^error setting interface "eth1" IP to 10\.50\.0\.3\/24: cannot program address 10\.50\.0\.3\/24 in sandbox interface because it conflicts with existing route \{Ifindex: \d+ Dst: 10\.50\.0\.0\/24 /,
      });
      assertBackInHost(b, sb, ['cfb', 'eth0', 'lo']);
      assert.deepEqual(sb.interfaces().map((i) => i.dstName), ['eth0']);
    });
  } finally {
    delHostLinks(a, b);
  }
});

void test('addInterface whose IPv6 conflicts after the IPv4 was added: back in the host with no address at all', async () => {
  const [a, b] = hostVeth();
  try {
    await withSandbox(async (sb) => {
      await sb.netlink.link.add({ name: 'c6a', kind: 'veth', peer: { name: 'c6b' } });
      await sb.addInterface('c6a', 'eth', { createdInContainer: true, ipv6: '2001:db8:51::2/64', ...NO_ADV });
      await assert.rejects(sb.addInterface(b, 'eth', { ipv4: '10.51.0.3/24', ipv6: '2001:db8:51::3/64', ...NO_ADV }), /conflicts with existing route/);
      assertBackInHost(b, sb, ['c6b', 'eth0', 'lo']);
    });
  } finally {
    delHostLinks(a, b);
  }
});

void test("addInterface with a sysctl that is not a file ('is not a sysctl file'): back in the host, nothing kept", async () => {
  const [a, b] = hostVeth();
  try {
    await withSandbox(async (sb) => {
      await assert.rejects(
        sb.addInterface(b, 'eth', { ipv4: '10.52.0.3/24', ipv6: '2001:db8:52::3/64', sysctls: ['net.ipv4.conf.IFNAME.no_such_knob=1'], ...NO_ADV }),
        /\/proc\/sys\/net\/ipv4\/conf\/eth0\/no_such_knob is not a sysctl file/,
      );
      assertBackInHost(b, sb, ['lo']);
    });
  } finally {
    delHostLinks(a, b);
  }
});

void test('a failed configure of a link created inside takes its addresses and master off again, so a retry works', async () => {
  await withSandbox(async (sb) => {
    await sb.addInterface('fbr', 'br', { isBridge: true, ...NO_ADV });
    await sb.netlink.link.add({ name: 'cia', kind: 'veth', peer: { name: 'cib' } });
    const options = { createdInContainer: true, ipv4: '10.53.0.2/24', ipv6: '2001:db8:53::2/64', master: 'fbr', linkLocal: ['169.254.9.9/16'], ...NO_ADV };
    await assert.rejects(sb.addInterface('cia', 'eth', { ...options, sysctls: ['net.ipv4.conf.IFNAME.no_such_knob=1'] }), /is not a sysctl file/);
    const link = ipLinksIn(sb.key).find((l) => l.ifname === 'cia');
    assert.ok(link, 'renamed back to its source name, still inside');
    assert.equal(link.master, undefined, 'released from the bridge');
    assert.ok(!link.flags.includes('UP'), 'down');
    assert.deepEqual(ipAddrsIn(sb.key, 'cia').filter((x) => x.scope !== 'link'), [], 'no address left');
    const iface = await sb.addInterface('cia', 'eth', options);
    assert.equal(iface.dstName, 'eth0');
  });
});

void test("addInterface with master of an unknown bridge fails with 'could not find an appropriate master' and changes nothing", async () => {
  const [a, b] = hostVeth();
  try {
    await withSandbox(async (sb) => {
      await assert.rejects(sb.addInterface(b, 'eth', { master: 'nosuchbr', ...NO_ADV }), { message: `could not find an appropriate master "nosuchbr" for "${b}"` });
      assertBackInHost(b, sb, ['lo']);
      // a registered interface that is not a bridge is no master either
      await sb.netlink.link.add({ name: 'nba', kind: 'veth', peer: { name: 'nbb' } });
      await sb.addInterface('nba', 'eth', { createdInContainer: true, ...NO_ADV });
      await assert.rejects(sb.addInterface(b, 'eth', { master: 'nba', ...NO_ADV }), /could not find an appropriate master "nba"/);
      assertBackInHost(b, sb, ['eth0', 'lo', 'nbb']);
    });
  } finally {
    delHostLinks(a, b);
  }
});

void test('bridge creation failure (a link with that name exists in the sandbox): nothing registered, the link untouched', async () => {
  await withSandbox(async (sb) => {
    await sb.netlink.link.add({ name: 'brx', kind: 'veth', peer: { name: 'bry' } });
    await assert.rejects(sb.addInterface('brx', 'br', { isBridge: true, ...NO_ADV }), { message: /^failed to create bridge "brx": .*EEXIST/ });
    assert.deepEqual(sb.interfaces(), []);
    const links = ipLinksIn(sb.key);
    assert.deepEqual(links.map((l) => l.ifname).sort(), ['brx', 'bry', 'lo']);
    assert.equal(links.find((l) => l.ifname === 'brx')?.linkinfo?.info_kind, 'veth', 'still the veth, not deleted');
  });
});

void test('removeInterface failure (the source name is taken in the host) keeps it registered; a retry succeeds later', async () => {
  const [a, b] = hostVeth();
  let squatter: string[] = [];
  try {
    await withSandbox(async (sb) => {
      const iface = await sb.addInterface(b, 'eth', { ipv4: '10.54.0.2/24', ...NO_ADV });
      // another link takes the name b in the host, so b cannot move back
      squatter = [b, `${b.slice(0, -1)}z`];
      ip(undefined, 'link', 'add', squatter[0]!, 'type', 'veth', 'peer', 'name', squatter[1]!);
      await assert.rejects(sb.removeInterface(iface));
      assert.deepEqual(sb.interfaces(), [iface], 'still registered');
      assert.ok(sandboxNames(sb).includes('eth0'), 'still in the sandbox under its name');
      delHostLinks(...squatter);
      squatter = [];
      await iface.remove();
      assert.deepEqual(sb.interfaces(), []);
      assert.ok(ipLink(undefined, b), 'back in the host');
      assert.deepEqual(sandboxNames(sb), ['lo']);
    });
  } finally {
    delHostLinks(a, b, ...squatter);
  }
});
