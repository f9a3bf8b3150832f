/**
 * Integration (root, throwaway host): the sandbox features beyond upstream's own tests
 * (spec §5 "extra acceptance criteria" and the architecture's API contract). Kernel state is
 * read with iproute2 inside the sandbox (`nsenter --net=KEY …`) and with /proc, not with
 * nsbox's own API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import {
  ClosedError, NeighborSearchError, Sandbox, SandboxType, type Interface, type StaticRoute,
} from '../../../src/index.js';
import { ipAddrsIn, ipIn, ipLink, ipLinksIn, ipRoutesIn, runIn, type IpLink } from '../../helpers/iproute.js';
import { delHostLinks, hostVeth } from '../../helpers/host-links.js';
import { mountsUnder } from '../../helpers/leaks.js';
import { skipIfMissing } from '../../helpers/privileges.js';
import { checkSandboxLeaks, freshBase, newKey, NO_ADV, withSandbox } from '../../helpers/sandbox.js';
import { BATCH, acquireSysctlRoot, closeIdleSysctlRoot, type SysctlRoot } from '../../../src/sandbox/sysctl-root.js';
import { removeNamespaceFile } from '../../../src/sandbox/index.js';

const base = freshBase();
checkSandboxLeaks(base);



/**
 * acquireSysctlRoot falls back to the host /proc/sys where the kernel or its policy refuses a
 * private procfs: what is missing, judged from a root it gave (by default, one taken and let go).
 */
function procfsInstanceMissing(dir = probeSysctlRoot()): string | undefined {
  return dir === '/proc/sys' ? 'openProcfs was refused: acquireSysctlRoot gives the host /proc/sys' : undefined;
}

function probeSysctlRoot(): string {
  const probe = acquireSysctlRoot();
  probe.release();
  return probe.dir;
}

async function vethInside(sb: Sandbox, a: string, b: string): Promise<void> {
  await sb.netlink.link.add({ name: a, kind: 'veth', peer: { name: b } });
}

const sysctlIn = (key: string, path: string): string => runIn(key, 'cat', path).trim();
const globalAddrs = (key: string, dev: string): string[] =>
  ipAddrsIn(key, dev).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`).sort();

interface FdbEntry { mac: string; ifname: string; dst?: string; master?: string; flags: string[]; state: string }
const fdbIn = (key: string, dev: string): FdbEntry[] => {
  const out = runIn(key, 'bridge', '-j', 'fdb', 'show', 'dev', dev).trim();
  return (out === '' ? [] : JSON.parse(out)) as FdbEntry[];
};

void test('a sysctl that disables IPv6 drops the IPv6 address: addressIPv6 is undefined, no global IPv6 on the link', async () => {
  await withSandbox(async (sb) => {
    await vethInside(sb, 'v6a', 'v6b');
    const iface = await sb.addInterface('v6a', 'eth', {
      createdInContainer: true, ipv4: '10.20.0.2/24', ipv6: '2001:db8:20::2/64', sysctls: ['net.ipv6.conf.IFNAME.disable_ipv6=1'], ...NO_ADV,
    });
    assert.equal(iface.addressIPv6, undefined);
    assert.equal(iface.address, '10.20.0.2/24');
    assert.deepEqual(globalAddrs(sb.key, 'eth0'), ['10.20.0.2/24'], 'only the IPv4 address is on the link');
    assert.equal(sysctlIn(sb.key, '/proc/sys/net/ipv6/conf/eth0/disable_ipv6'), '1');
  });
});

void test('per-interface sysctls land in the sandbox under the interface name, not in the host', async () => {
  const [a, b] = hostVeth();
  try {
    // An earlier test may have left the host forwarding (new links then start with forwarding=1):
    // the host end starts at 0 so that a knob leaking out of the sandbox would show.
    writeFileSync(`/proc/sys/net/ipv4/conf/${a}/forwarding`, '0');
    await withSandbox(async (sb) => {
      // The link is named like the host end that stays behind, so the same /proc/sys path exists on both sides.
      await sb.addInterface(b, 'eth', { dstName: a, sysctls: ['net.ipv4.conf.IFNAME.forwarding=1', 'net.ipv4.conf.IFNAME.arp_ignore=2'], ...NO_ADV });
      assert.equal(sysctlIn(sb.key, `/proc/sys/net/ipv4/conf/${a}/forwarding`), '1');
      assert.equal(sysctlIn(sb.key, `/proc/sys/net/ipv4/conf/${a}/arp_ignore`), '2');
      assert.equal(sysctlIn(sb.key, '/proc/sys/net/ipv4/conf/all/forwarding'), '0', 'only the interface knob');
      assert.equal(readFileSync(`/proc/sys/net/ipv4/conf/${a}/forwarding`, 'utf8').trim(), '0', 'the host link is untouched');
      assert.equal(readFileSync(`/proc/sys/net/ipv4/conf/${a}/arp_ignore`, 'utf8').trim(), '0');
    });
  } finally {
    delHostLinks(a, b);
  }
});

void test('NSBOX_TEST_RO_DISABLE_IPV6: disabling IPv6 fails (and is rolled back), enabling only warns', async () => {
  const saved = process.env.NSBOX_TEST_RO_DISABLE_IPV6;
  process.env.NSBOX_TEST_RO_DISABLE_IPV6 = '1';
  try {
    await withSandbox(async (sb) => {
      await vethInside(sb, 'roa', 'rob');
      await assert.rejects(sb.addInterface('roa', 'eth', { createdInContainer: true, ipv4: '10.21.0.2/24', ...NO_ADV }), (err: Error) => {
        assert.match(err.message, /^error setting interface "eth0" IPv6 to <nil>: failed to configure ipv6: failed to disable IPv6 on container's interface eth0/);
        return true;
      });
      assert.deepEqual(sb.interfaces(), []);
      const names = ipLinksIn(sb.key).map((l) => l.ifname);
      assert.ok(names.includes('roa') && !names.includes('eth0'), 'renamed back to its source name');
      assert.deepEqual(globalAddrs(sb.key, 'roa'), [], 'the IPv4 address added before the failure is gone');
      // Enabling: start from disable_ipv6=1 so a write is needed, then "fail" it.
      runIn(sb.key, 'sysctl', '-qw', 'net.ipv6.conf.rob.disable_ipv6=1');
      const iface = await sb.addInterface('rob', 'eth', { createdInContainer: true, ipv6: '2001:db8:21::2/64', ...NO_ADV });
      assert.equal(iface.dstName, 'eth0');
      assert.equal(iface.addressIPv6, '2001:db8:21::2/64');
    });
  } finally {
    if (saved === undefined) delete process.env.NSBOX_TEST_RO_DISABLE_IPV6;
    else process.env.NSBOX_TEST_RO_DISABLE_IPV6 = saved;
  }
});

void test('disable_ipv6 is read from netlink: a value already right is never written (works on a read-only /proc/sys)', async () => {
  const saved = process.env.NSBOX_TEST_RO_DISABLE_IPV6;
  process.env.NSBOX_TEST_RO_DISABLE_IPV6 = '1'; // any write to disable_ipv6 would count as failed
  try {
    await withSandbox(async (sb) => {
      await vethInside(sb, 'rwa', 'rwb');
      runIn(sb.key, 'sysctl', '-qw', 'net.ipv6.conf.rwa.disable_ipv6=1');
      const v4only = await sb.addInterface('rwa', 'eth', { createdInContainer: true, ipv4: '10.24.0.2/24', ...NO_ADV });
      assert.equal(v4only.dstName, 'eth0');
      assert.equal(sysctlIn(sb.key, '/proc/sys/net/ipv6/conf/eth0/disable_ipv6'), '1');
      // rwb is born with IPv6 on: enabling needs no write either.
      const v6 = await sb.addInterface('rwb', 'eth', { createdInContainer: true, ipv6: '2001:db8:24::2/64', ...NO_ADV });
      assert.equal(sysctlIn(sb.key, `/proc/sys/net/ipv6/conf/${v6.dstName}/disable_ipv6`), '0');
    });
  } finally {
    if (saved === undefined) delete process.env.NSBOX_TEST_RO_DISABLE_IPV6;
    else process.env.NSBOX_TEST_RO_DISABLE_IPV6 = saved;
  }
});

void test('sysctl roots: one private procfs per BATCH sandboxes, closed when the last sandbox of a retired batch lets go', async (t) => {
  if (skipIfMissing(t, 'procfs-instance', procfsInstanceMissing())) return;
  // Skip to the start of a fresh batch (earlier tests in this file used the current one).
  const old: SysctlRoot[] = [acquireSysctlRoot()];
  for (let i = 0; i <= BATCH; i++) {
    const r = acquireSysctlRoot();
    if (r.dir !== old[0]!.dir) {
      old.forEach((o) => o.release());
      old.length = 0;
      old.push(r);
      break;
    }
    old.push(r);
  }
  const batch = old;
  assert.equal(batch.length, 1, 'a new batch started within BATCH + 1 acquisitions');
  while (batch.length < BATCH) batch.push(acquireSysctlRoot());
  const dir = batch[0]!.dir;
  assert.match(dir, /^\/proc\/self\/fd\/\d+\/sys$/);
  assert.ok(batch.every((r) => r.dir === dir), 'one instance serves the whole batch');
  const next = acquireSysctlRoot();
  assert.notEqual(next.dir, dir, 'a new instance after BATCH');
  const instanceFd = `/proc/self/fd/${/fd\/(\d+)/.exec(dir)![1]}`;
  batch.slice(1).forEach((r) => r.release());
  assert.ok(existsSync(instanceFd), 'kept while one of its sandboxes holds it');
  batch[0]!.release();
  batch[0]!.release(); // a second release does nothing
  assert.equal(existsSync(instanceFd), false, 'closed with the last of its sandboxes');
  assert.equal(readFileSync(`${next.dir}/net/ipv4/ip_forward`, 'utf8'), readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), 'works like /proc/sys');
  next.release();
  // A sandbox's disable_ipv6 write goes through such an instance and lands in the sandbox.
  await withSandbox(async (sb) => {
    await vethInside(sb, 'pra', 'prb');
    await sb.addInterface('pra', 'eth', { createdInContainer: true, ipv4: '10.25.0.2/24', ...NO_ADV });
    assert.equal(sysctlIn(sb.key, '/proc/sys/net/ipv6/conf/eth0/disable_ipv6'), '1');
  });
});

void test('close() lets go of the sandbox\'s procfs instance too; an addInterface racing a destroy takes none', async (t) => {
  const sb = await Sandbox.create(newKey());
  await vethInside(sb, 'pca', 'pcb');
  await sb.addInterface('pca', 'eth', { createdInContainer: true, ipv4: '10.26.0.2/24', ...NO_ADV });
  const probe = acquireSysctlRoot();
  probe.release();
  sb.close();
  removeNamespaceFile(sb.key);
  if (skipIfMissing(t, 'procfs-instance', procfsInstanceMissing(probe.dir))) return;
  const instanceFd = `/proc/self/fd/${/fd\/(\d+)/.exec(probe.dir)![1]}`;
  closeIdleSysctlRoot();
  assert.equal(existsSync(instanceFd), false, 'nothing holds the instance after close()');
  // destroy() while addInterface waits for the sandbox lock: the IPv6 step finds the sandbox gone.
  const sb2 = await Sandbox.create(newKey());
  await vethInside(sb2, 'pda', 'pdb');
  const adding = sb2.addInterface('pda', 'eth', { createdInContainer: true, ipv4: '10.27.0.2/24', ...NO_ADV });
  await sb2.destroy();
  await assert.rejects(adding);
  const current = acquireSysctlRoot();
  current.release();
  closeIdleSysctlRoot();
  assert.equal(existsSync(`/proc/self/fd/${/fd\/(\d+)/.exec(current.dir)![1]}`), false, 'the racing addInterface holds no instance');
});

void test('removeStaticRoute removes by identity: only the given route is gone', async () => {
  await withSandbox(async (sb) => {
    await vethInside(sb, 'sra', 'srb');
    await sb.addInterface('sra', 'eth', { createdInContainer: true, ipv4: '172.31.0.2/24', ...NO_ADV });
    const r1: StaticRoute = { destination: '10.9.1.0/24', nextHop: '172.31.0.1' };
    const r2: StaticRoute = { destination: '10.9.2.0/24', nextHop: '172.31.0.1' };
    await sb.addStaticRoute(r1);
    await sb.addStaticRoute(r2);
    const via = (): string[] => ipRoutesIn(sb.key, 4).filter((r) => r.gateway === '172.31.0.1').map((r) => `${r.dst} ${r.dev}`).sort();
    assert.deepEqual(via(), ['10.9.1.0/24 eth0', '10.9.2.0/24 eth0']);
    assert.deepEqual(sb.staticRoutes(), [r1, r2]);
    await sb.removeStaticRoute(r2);
    assert.deepEqual(via(), ['10.9.1.0/24 eth0']);
    assert.deepEqual(sb.staticRoutes(), [r1]);
    await sb.removeStaticRoute(r1);
    assert.deepEqual(via(), []);
    assert.deepEqual(sb.staticRoutes(), []);
  });
});

void test('unsetGateway/unsetGatewayIPv6/unsetDefaultRoute* do nothing when nothing was set', async () => {
  await withSandbox(async (sb) => {
    const before = ipRoutesIn(sb.key);
    await sb.unsetGateway();
    await sb.unsetGatewayIPv6();
    await sb.unsetDefaultRouteIPv4();
    await sb.unsetDefaultRouteIPv6();
    assert.deepEqual(ipRoutesIn(sb.key), before);
    assert.equal(sb.gateway, undefined);
    assert.equal(sb.gatewayIPv6, undefined);
  });
});

void test('setGateway/unsetGateway (v4 and v6) program and remove the default routes', async () => {
  await withSandbox(async (sb) => {
    await vethInside(sb, 'gwa', 'gwb');
    await sb.addInterface('gwa', 'eth', { createdInContainer: true, ipv4: '10.23.0.2/24', ipv6: '2001:db8:23::2/64', ...NO_ADV });
    await assert.rejects(sb.setGateway('192.0.2.1'), (err: Error) => {
      assert.match(err.message, /^route for the gateway 192\.0\.2\.1 could not be found/, 'no route to it at all');
      return true;
    });
    assert.equal(sb.gateway, undefined);
    await sb.setGateway('10.23.0.1');
    await sb.setGatewayIPv6('2001:db8:23::1');
    const defaults = (fam: 4 | 6): string[] => ipRoutesIn(sb.key, fam).filter((r) => r.dst === 'default').map((r) => `${r.gateway} ${r.dev}`);
    assert.deepEqual(defaults(4), ['10.23.0.1 eth0']);
    assert.deepEqual(defaults(6), ['2001:db8:23::1 eth0']);
    assert.equal(sb.gateway, '10.23.0.1');
    assert.equal(sb.gatewayIPv6, '2001:db8:23::1');
    await assert.rejects(sb.setGateway('192.0.2.1'), (err: Error) => {
      assert.match(err.message, /^direct route for the gateway 192\.0\.2\.1 could not be found/, 'only the default route leads there');
      return true;
    });
    await sb.addStaticRoute({ destination: '198.51.100.0/24', nextHop: '10.23.0.254' });
    await assert.rejects(sb.setGateway('198.51.100.1'), (err: Error) => {
      assert.match(err.message, /^direct route for the gateway 198\.51\.100\.1 could not be found/, 'reachable only through another gateway');
      return true;
    });
    assert.equal(sb.gateway, '10.23.0.1', 'a failed setGateway changes nothing');
    assert.deepEqual(defaults(4), ['10.23.0.1 eth0']);
    await sb.unsetGateway();
    await sb.unsetGatewayIPv6();
    assert.deepEqual(defaults(4), []);
    assert.deepEqual(defaults(6), []);
    assert.equal(sb.gateway, undefined);
    // A link-local IPv6 gateway needs the interface named in the route: osl's lookup supplies it.
    // (fe80::/64 is routed once eth0 has carrier, i.e. its peer is up; the peer, also in
    // this sandbox, gets no IPv6 so that eth0 is the only way to fe80::1.)
    runIn(sb.key, 'sysctl', '-qw', 'net.ipv6.conf.gwb.disable_ipv6=1');
    runIn(sb.key, 'ip', 'link', 'set', 'gwb', 'up');
    await sb.setGatewayIPv6('fe80::1');
    assert.deepEqual(defaults(6), ['fe80::1 eth0']);
    await sb.unsetGatewayIPv6();
    assert.deepEqual(defaults(6), []);
  });
});

void test("setDefaultRouteIPv4 with a routes: ['0.0.0.0/0'] interface adds a scope-link default route", async () => {
  await withSandbox(async (sb) => {
    await vethInside(sb, 'dra', 'drb');
    await sb.addInterface('dra', 'eth', { createdInContainer: true, ipv4: '10.24.0.2/24', routes: ['0.0.0.0/0', '10.25.0.0/16'], ...NO_ADV });
    const v4 = (): string[] => ipRoutesIn(sb.key, 4).filter((r) => r.dst !== '10.24.0.0/24').map((r) => `${r.dst} ${r.dev} ${r.scope}`).sort();
    assert.deepEqual(v4(), ['10.25.0.0/16 eth0 link'], 'addInterface keeps the unspecified route for setDefaultRoute');
    await sb.setDefaultRouteIPv4('dra');
    assert.deepEqual(v4(), ['10.25.0.0/16 eth0 link', 'default eth0 link']);
    await assert.rejects(sb.setDefaultRouteIPv6('dra'), /setting IPv6 default route to interface with srcName 'dra': no default route/);
    await assert.rejects(sb.setDefaultRouteIPv4('nosuch'), /setting IPv4 default route to interface with srcName 'nosuch': no interface/);
    await sb.unsetDefaultRouteIPv4();
    assert.deepEqual(v4(), ['10.25.0.0/16 eth0 link']);
    await sb.unsetDefaultRouteIPv4(); // cleared after success: nothing more to do
  });
});

void test('addNeighbor/deleteNeighbor: permanent entry; NeighborSearchError on a duplicate add and a missing delete', async () => {
  await withSandbox(async (sb) => {
    await vethInside(sb, 'nba', 'nbb');
    await sb.addInterface('nba', 'eth', { createdInContainer: true, ipv4: '10.26.0.2/24', ...NO_ADV });
    const mac = '02:42:0a:1a:00:09';
    const entries = (): string[] => ipIn<{ dst: string; dev: string; lladdr?: string; state?: string[] }[]>(sb.key, 'neigh', 'show', 'dev', 'eth0')
      .map((n) => `${n.dst} ${n.lladdr} ${(n.state ?? []).join(',')}`);
    await sb.addNeighbor('10.26.0.9', mac, { linkName: 'nba' });
    assert.deepEqual(entries(), [`10.26.0.9 ${mac} PERMANENT`]);
    await assert.rejects(sb.addNeighbor('10.26.0.9', mac, { linkName: 'nba' }), (err: unknown) => {
      assert.ok(err instanceof NeighborSearchError);
      assert.equal(err.present, true);
      assert.equal(err.code, 'NSBOX_ERR_NEIGHBOR_EXISTS');
      assert.equal(err.message, `neighbor entry already exists for IP 10.26.0.9, mac ${mac}, link nba`);
      return true;
    });
    await sb.deleteNeighbor('10.26.0.9', mac, { linkName: 'nba' });
    assert.deepEqual(entries(), []);
    await assert.rejects(sb.deleteNeighbor('10.26.0.9', mac, { linkName: 'nba' }), (err: unknown) => {
      assert.ok(err instanceof NeighborSearchError);
      assert.equal(err.present, false);
      assert.equal(err.code, 'NSBOX_ERR_NEIGHBOR_NOT_FOUND');
      return true;
    });
    await assert.rejects(sb.addNeighbor('10.26.0.10', mac, { linkName: 'nosuch' }), /could not find the interface with name nosuch/);
  });
});

void test('bridge FDB neighbour (family 7) on a vxlan port: self entry added; delete also removes the NTF_MASTER twin', async () => {
  await withSandbox(async (sb) => {
    await sb.addInterface('nsbtbr', 'br', { isBridge: true, ...NO_ADV });
    await sb.netlink.link.add({ name: 'vx42', kind: 'vxlan', id: 42, port: 4789 });
    const vx = await sb.addInterface('vx42', 'vxlan', { createdInContainer: true, master: 'nsbtbr', ...NO_ADV });
    assert.equal(vx.dstName, 'vxlan0');
    assert.equal(ipLinksIn(sb.key).find((l) => l.ifname === 'vxlan0')?.master, 'br0');
    const mac = '02:42:c0:00:02:0a';
    const mine = (): FdbEntry[] => fdbIn(sb.key, 'vxlan0').filter((e) => e.mac === mac);
    await sb.addNeighbor('192.0.2.10', mac, { linkName: 'vx42', family: 7 });
    const self = mine();
    assert.equal(self.length, 1, JSON.stringify(self));
    assert.equal(self[0]!.dst, '192.0.2.10');
    assert.ok(self[0]!.flags.includes('self'));
    assert.equal(self[0]!.state, 'permanent');
    await assert.rejects(sb.addNeighbor('192.0.2.10', mac, { linkName: 'vx42', family: 7 }), (e: unknown) => e instanceof NeighborSearchError && e.present);
    runIn(sb.key, 'bridge', 'fdb', 'add', mac, 'dev', 'vxlan0', 'master', 'static');
    assert.ok(mine().some((e) => e.master === 'br0'), 'the bridge (NTF_MASTER) twin exists');
    await sb.deleteNeighbor('192.0.2.10', mac, { linkName: 'vx42', family: 7 });
    assert.deepEqual(mine(), [], 'both the self entry and the master twin are gone');
    await assert.rejects(sb.deleteNeighbor('192.0.2.10', mac, { linkName: 'vx42', family: 7 }), (e: unknown) => e instanceof NeighborSearchError && !e.present);
  });
});

void test('addAliasIP/removeAliasIP put a /32 on lo and take it off', async () => {
  await withSandbox(async (sb) => {
    await sb.addAliasIP('lo', '10.255.0.5/32');
    assert.ok(ipAddrsIn(sb.key, 'lo').some((a) => a.local === '10.255.0.5' && a.prefixlen === 32));
    await sb.removeAliasIP('lo', '10.255.0.5/32');
    assert.ok(!ipAddrsIn(sb.key, 'lo').some((a) => a.local === '10.255.0.5'));
    await assert.rejects(sb.addAliasIP('nosuch0', '10.255.0.6/32'));
  });
});

void test('disableARPForVIP writes arp_ignore=1 and arp_announce=2 for the interface inside the sandbox', async () => {
  await withSandbox(async (sb) => {
    await vethInside(sb, 'arpa', 'arpb');
    await sb.addInterface('arpa', 'eth', { createdInContainer: true, ...NO_ADV });
    await sb.disableARPForVIP('arpa');
    assert.equal(sysctlIn(sb.key, '/proc/sys/net/ipv4/conf/eth0/arp_ignore'), '1');
    assert.equal(sysctlIn(sb.key, '/proc/sys/net/ipv4/conf/eth0/arp_announce'), '2');
    assert.equal(sysctlIn(sb.key, '/proc/sys/net/ipv4/conf/arpb/arp_ignore'), '0', 'only that interface');
    await assert.rejects(sb.disableARPForVIP('nosuch'), /failed to find interface nosuch in sandbox/);
  });
});

void test('invoke runs the callback inside the sandbox and returns its value; the caller stays in the host', async () => {
  await withSandbox(async (sb) => {
    const host = readlinkSync('/proc/thread-self/ns/net');
    const expected = runIn(sb.key, 'readlink', '/proc/self/ns/net').trim();
    assert.notEqual(expected, host);
    assert.equal(sb.invoke(() => readlinkSync('/proc/thread-self/ns/net')), expected);
    const obj = { x: 1 };
    assert.equal(sb.invoke(() => obj), obj);
    assert.throws(() => sb.invoke(() => { throw new RangeError('inside'); }), RangeError);
    assert.equal(readlinkSync('/proc/thread-self/ns/net'), host);
  });
});

void test('spawn runs a child inside the sandbox: its `ip -j link` shows the sandbox links', async () => {
  await withSandbox(async (sb) => {
    await vethInside(sb, 'spwa', 'spwb');
    const child = sb.spawn('ip', ['-j', 'link', 'show']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    const names = (JSON.parse(out) as IpLink[]).map((l) => l.ifname).sort();
    assert.deepEqual(names, ['lo', 'spwa', 'spwb']);
  });
});

void test('ipv6LoEnabled is true in a fresh sandbox (lo has ::1)', async () => {
  await withSandbox(async (sb) => {
    assert.ok(ipAddrsIn(sb.key, 'lo').some((a) => a.local === '::1'), 'the oracle sees ::1');
    assert.equal(await sb.ipv6LoEnabled(), true);
    assert.equal(await sb.refreshIPv6LoEnabled(), true);
    runIn(sb.key, 'sysctl', '-qw', 'net.ipv6.conf.lo.disable_ipv6=1');
    assert.equal(await sb.ipv6LoEnabled(), true, 'cached');
    assert.equal(await sb.refreshIPv6LoEnabled(), false);
    assert.equal(await sb.ipv6LoEnabled(), false);
  });
});

/** The load-balancer knobs applyOSTweaks sets (osl's), as /proc/sys/net/ipv4/vs/<name> → value. */
const IPVS_KNOBS = { conn_reuse_mode: '0', expire_nodest_conn: '1', expire_quiescent_template: '1' };

/** The ip_vs knobs as a shell `cat` sees them: in the throwaway host, or inside the sandbox bound to `key`; '-' where missing. */
function ipvsKnobs(key?: string): Record<string, string> {
  const script = Object.keys(IPVS_KNOBS).map((k) => `echo ${k}=$(cat /proc/sys/net/ipv4/vs/${k} 2>/dev/null || echo -)`).join('; ');
  const out = key === undefined ? execFileSync('sh', ['-c', script], { encoding: 'utf8' }) : runIn(key, 'sh', '-c', script);
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split('=') as [string, string]));
}

const ipvsMissing = (): string | undefined => (existsSync('/proc/sys/net/ipv4/vs') ? undefined : 'no /proc/sys/net/ipv4/vs: ip_vs is neither built in nor loaded');

void test("applyOSTweaks([LoadBalancer]) does not throw when ip_vs is absent, and never touches the host's knobs", async () => {
  await withSandbox(async (sb) => {
    const host = ipvsKnobs();
    const inside = ipvsKnobs(sb.key);
    sb.applyOSTweaks([SandboxType.LoadBalancer]);
    sb.applyOSTweaks([SandboxType.Ingress, SandboxType.LoadBalancer]);
    sb.applyOSTweaks([]);
    assert.deepEqual(ipvsKnobs(), host, "the host's /proc/sys/net/ipv4/vs is as it was");
    if (ipvsMissing() !== undefined) {
      assert.deepEqual(host, { conn_reuse_mode: '-', expire_nodest_conn: '-', expire_quiescent_template: '-' });
      assert.deepEqual(ipvsKnobs(sb.key), inside, 'without ip_vs nothing appears in the sandbox either');
    }
  });
});

void test('applyOSTweaks([LoadBalancer]) sets the ip_vs knobs inside the sandbox, and only there', async (t) => {
  if (skipIfMissing(t, 'ip_vs', ipvsMissing())) return;
  await withSandbox(async (sb) => {
    const host = ipvsKnobs();
    assert.notDeepEqual(host, IPVS_KNOBS, 'the host starts with other values, so a write there would show');
    assert.notDeepEqual(ipvsKnobs(sb.key), IPVS_KNOBS, 'so does the sandbox');
    sb.applyOSTweaks([SandboxType.LoadBalancer]);
    assert.deepEqual(ipvsKnobs(sb.key), IPVS_KNOBS, 'set in the sandbox');
    assert.deepEqual(ipvsKnobs(), host, "the host's knobs are untouched");
  });
});

void test('restoreInterfaces finds an IPv6-only interface by its IPv6 address and a v4 one by its v4 address, and registers them', async () => {
  const key = newKey();
  const sb = await Sandbox.create(key);
  let restored: Sandbox | undefined;
  try {
    await vethInside(sb, 'rsa', 'rsb');
    await vethInside(sb, 'rsc', 'rsd');
    await sb.addInterface('rsa', 'eth', { createdInContainer: true, ipv6: '2001:db8:30::2/64', ...NO_ADV });
    await sb.addInterface('rsc', 'eth', { createdInContainer: true, ipv4: '10.30.0.2/24', ...NO_ADV });
    await sb.addInterface('rsb', 'eth', { createdInContainer: true, ipv4: '10.31.0.2/24', ipv6: '2001:db8:31::2/64', ...NO_ADV });
    const linksBefore = ipLinksIn(key).map((l) => `${l.ifname} ${l.flags.join(',')}`).sort();
    restored = await Sandbox.create(key, { isRestore: true });
    const list = await restored.restoreInterfaces([
      // listed in another order than they were added, with the IPv6 text not in canonical form
      { srcName: 'rsc', dstPrefix: 'eth', options: { ipv4: '10.30.0.2/24', ...NO_ADV } },
      { srcName: 'rsa', dstPrefix: 'eth', options: { ipv6: '2001:DB8:30:0::2/64', ...NO_ADV } },
      { srcName: 'rsb', dstPrefix: 'eth', options: { ipv4: '10.31.0.2/24', ipv6: '2001:db8:31::2/64', ...NO_ADV } },
      { srcName: 'gone', dstPrefix: 'eth', options: { ipv4: '10.99.0.2/24', ...NO_ADV } },
    ]);
    assert.deepEqual(list.map((i) => `${i.srcName}=${i.dstName}`), ['rsc=eth1', 'rsa=eth0', 'rsb=eth2', 'gone=']);
    assert.deepEqual(restored.interfaces(), list, 'registered in order');
    assert.equal(restored.interfaceBySrcName('rsa')?.dstName, 'eth0');
    assert.deepEqual(ipLinksIn(key).map((l) => `${l.ifname} ${l.flags.join(',')}`).sort(), linksBefore, 'the kernel was not touched');
    // registered: removable through the restored sandbox (as upstream, a removed link goes to the host)
    await restored.interfaceBySrcName('rsa')!.remove();
    assert.ok(!ipLinksIn(key).some((l) => l.ifname === 'eth0' || l.ifname === 'rsa'), 'gone from the sandbox');
    assert.ok(ipLink(undefined, 'rsa'), 'in the host under its source name (it dies with its peer at destroy)');
  } finally {
    if (restored) await restored.destroy();
    await sb.destroy();
  }
});

void test('restoreGateway and restoreRoutes record state without programming anything', async () => {
  await withSandbox(async (sb) => {
    await vethInside(sb, 'rga', 'rgb');
    await sb.addInterface('rga', 'eth', { createdInContainer: true, ipv4: '10.32.0.2/24', routes: ['0.0.0.0/0'], ...NO_ADV });
    const before = ipRoutesIn(sb.key);
    const r: StaticRoute = { destination: '10.33.0.0/16', nextHop: '10.32.0.1' };
    sb.restoreRoutes([r]);
    sb.restoreGateway(true, '10.32.0.1', 'rga');
    sb.restoreGateway(false, '2001:db8:32::1', 'rga');
    assert.deepEqual(ipRoutesIn(sb.key), before, 'no route was programmed');
    assert.deepEqual(sb.staticRoutes(), [r]);
    assert.equal(sb.gateway, '10.32.0.1');
    assert.equal(sb.gatewayIPv6, '2001:db8:32::1');
    // the recorded default-route interface is what unsetDefaultRouteIPv4 acts on: the route
    // was never programmed, so the kernel refuses the delete
    sb.restoreGateway(true, undefined, 'rga');
    await assert.rejects(sb.unsetDefaultRouteIPv4(), /removing IPv4 default route to interface with srcName 'rga'/);
    // programming it for real makes the recorded state consistent again
    await sb.setDefaultRouteIPv4('rga');
    await sb.unsetDefaultRouteIPv4();
    assert.deepEqual(ipRoutesIn(sb.key), before);
  });
});

void test('destroy is idempotent and safe: a second call resolves and changes nothing', async () => {
  const sb = await Sandbox.create(newKey());
  await sb.destroy();
  assert.equal(sb.destroyed, true);
  assert.equal(existsSync(sb.key), false);
  await sb.destroy();
  await Promise.all([sb.destroy(), sb.destroy()]);
  assert.deepEqual(mountsUnder(base), []);
});

void test('destroying a sandbox whose key was taken over by a newer one leaves the newer one mounted', async () => {
  const key = newKey();
  const old = await Sandbox.create(key);
  const current = await Sandbox.create(key);
  try {
    const currentNs = current.invoke(() => readlinkSync('/proc/thread-self/ns/net'));
    await old.destroy();
    assert.equal(mountsUnder(base).filter((m) => m === key).length, 1, 'the newer mount is still there');
    assert.equal(runIn(key, 'readlink', '/proc/self/ns/net').trim(), currentNs);
  } finally {
    await current.destroy();
  }
  assert.equal(existsSync(key), false);
});

void test('every method after destroy throws ClosedError (NSBOX_ERR_CLOSED)', async () => {
  const sb = await Sandbox.create(newKey());
  await vethInside(sb, 'cla', 'clb');
  const iface: Interface = await sb.addInterface('cla', 'eth', { createdInContainer: true, ...NO_ADV });
  await sb.destroy();
  const isClosed = (err: unknown): boolean => err instanceof ClosedError && err.code === 'NSBOX_ERR_CLOSED';
  const asyncCalls: [string, () => Promise<unknown>][] = [
    ['addInterface', () => sb.addInterface('x', 'eth')],
    ['removeInterface', () => sb.removeInterface(iface)],
    ['iface.remove', () => iface.remove()],
    ['iface.statistics', () => iface.statistics()],
    ['interfaceStatistics', () => sb.interfaceStatistics(iface)],
    ['setGateway', () => sb.setGateway('10.0.0.1')],
    ['setGatewayIPv6', () => sb.setGatewayIPv6('2001:db8::1')],
    ['unsetGateway', () => sb.unsetGateway()],
    ['unsetGatewayIPv6', () => sb.unsetGatewayIPv6()],
    ['setDefaultRouteIPv4', () => sb.setDefaultRouteIPv4('cla')],
    ['setDefaultRouteIPv6', () => sb.setDefaultRouteIPv6('cla')],
    ['unsetDefaultRouteIPv4', () => sb.unsetDefaultRouteIPv4()],
    ['unsetDefaultRouteIPv6', () => sb.unsetDefaultRouteIPv6()],
    ['addStaticRoute', () => sb.addStaticRoute({ destination: '10.1.0.0/16', nextHop: '10.0.0.1' })],
    ['removeStaticRoute', () => sb.removeStaticRoute({ destination: '10.1.0.0/16', nextHop: '10.0.0.1' })],
    ['addNeighbor', () => sb.addNeighbor('10.0.0.9', '02:00:00:00:00:09', { linkName: 'cla' })],
    ['deleteNeighbor', () => sb.deleteNeighbor('10.0.0.9', '02:00:00:00:00:09', { linkName: 'cla' })],
    ['addAliasIP', () => sb.addAliasIP('lo', '10.255.0.1/32')],
    ['removeAliasIP', () => sb.removeAliasIP('lo', '10.255.0.1/32')],
    ['disableARPForVIP', () => sb.disableARPForVIP('cla')],
    ['ipv6LoEnabled', () => sb.ipv6LoEnabled()],
    ['refreshIPv6LoEnabled', () => sb.refreshIPv6LoEnabled()],
    ['restoreInterfaces', () => sb.restoreInterfaces([])],
  ];
  for (const [name, call] of asyncCalls) await assert.rejects(call, isClosed, name);
  const syncCalls: [string, () => unknown][] = [
    ['netlink', () => sb.netlink],
    ['netnsFd', () => sb.netnsFd],
    ['invoke', () => sb.invoke(() => 1)],
    ['spawn', () => sb.spawn('true')],
    ['applyOSTweaks', () => sb.applyOSTweaks([SandboxType.LoadBalancer])],
    ['restoreRoutes', () => sb.restoreRoutes([])],
    ['restoreGateway', () => sb.restoreGateway(true, '10.0.0.1', 'cla')],
  ];
  for (const [name, call] of syncCalls) assert.throws(call, isClosed, name);
  assert.equal(existsSync(sb.key), false);
});

void test('statistics() after traffic between two sandboxes matches `ip -s -j link` counters', async () => {
  const [a, b] = hostVeth();
  const left = await Sandbox.create(newKey());
  const right = await Sandbox.create(newKey());
  try {
    const ia = await left.addInterface(a, 'eth', { ipv4: '10.77.0.1/24', ...NO_ADV });
    const ib = await right.addInterface(b, 'eth', { ipv4: '10.77.0.2/24', ...NO_ADV });
    assert.equal(ipLink(undefined, a), undefined);
    const ping = left.invoke(() => spawnSync('ping', ['-c', '2', '-W', '1', '10.77.0.2'], { encoding: 'utf8' }));
    assert.equal(ping.status, 0, ping.stdout + ping.stderr);
    for (const [sb, iface] of [[left, ia], [right, ib]] as const) {
      const ours = await iface.statistics();
      const [link] = ipIn<IpLink[]>(sb.key, '-s', 'link', 'show', 'dev', 'eth0');
      const s = link?.stats64;
      assert.ok(s, 'ip reports stats64');
      assert.deepEqual(ours, {
        rxBytes: s.rx.bytes, txBytes: s.tx.bytes, rxPackets: s.rx.packets, txPackets: s.tx.packets, rxDropped: s.rx.dropped, txDropped: s.tx.dropped,
      }, sb === left ? 'left' : 'right');
      assert.ok(ours.txPackets >= 2 && ours.rxPackets >= 2, 'the echo requests and replies were counted');
    }
  } finally {
    await left.destroy();
    await right.destroy();
    delHostLinks(a, b);
  }
});
