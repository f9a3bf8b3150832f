/**
 * Integration (root, throwaway host): `nsbox run` end to end. The exit status and a fatal
 * signal pass through, a SIGTERM to nsbox is forwarded and cleanup still happens, and
 * afterwards nothing is left (record, lease, host veth, netns mount, /run/netns symlink);
 * --keep, --name, --network (repeatable) and --ip are honoured; the default network nsbox0 is
 * made on first use with 10.88.0.0/16, or the next free /16 when a host route covers it.
 * Checked with `ip -j` in the host, `ip -n NAME` in kept sandboxes, and `nsbox --json`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ip, ipAddrs, ipRoutes, ipTry } from '../../helpers/iproute.js';
import { finished, firstLine, rootForTest, type NsboxRoot } from '../../helpers/cli.js';
import { hostLinkNames, hostVethUp, links } from '../../helpers/host-links.js';
import { randomName } from '../../helpers/names.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';

/** nsbox0 is per host: a test that relies on making it requires that no earlier test left one. */
function assertNoDefaultBridge(): void {
  assert.ok(!hostLinkNames().includes('nsbox0'), 'precondition: no nsbox0 link in the throwaway host (an earlier test left it?)');
}

/** After a run without --keep: no record, no lease, no host link but the bridge, no mount or symlink. */
async function assertRunLeftNothing(r: NsboxRoot, hostLinksBefore: readonly string[]): Promise<void> {
  assert.deepEqual(await r.json('ls'), [], 'no sandbox record');
  const net = await r.network('nsbox0');
  assert.deepEqual(net.leases, [], 'no lease on nsbox0');
  assert.deepEqual(hostLinkNames().sort(), [...new Set([...hostLinksBefore, 'nsbox0'])].sort(), 'no host veth: only the links from before and the bridge');
  assert.deepEqual(links().filter((l) => l.master === 'nsbox0'), [], 'nothing on the bridge');
  assert.deepEqual(r.netnsMounts(), [], 'no netns mount');
  assert.deepEqual(r.netnsSymlinks(), [], 'no /run/netns symlink');
}

test('run passes the exit status through, makes nsbox0 with 10.88.0.0/16 on first use and leaves nothing', async (t) => {
  assertNoDefaultBridge();
  const r = rootForTest(t);
  const before = hostLinkNames();
  const res = await r.run('run', '--', 'sh', '-c', 'ip -4 -o addr show dev eth0; ip route show default; exit 7');
  assert.equal(res.code, 7, res.stderr);
  assert.equal(res.signal, null);
  assert.match(res.stdout, /eth0\s+inet 10\.88\.0\.2\/16 /, 'the first address of nsbox0');
  assert.match(res.stdout, /^default via 10\.88\.0\.1 dev eth0/m);
  const net = await r.network('nsbox0');
  assert.deepEqual([net.driver, net.bridge, net.subnets], ['bridge', 'nsbox0', [{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }]]);
  assert.deepEqual(ipAddrs(undefined, 'nsbox0').filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), ['10.88.0.1/16']);
  await assertRunLeftNothing(r, before);
});

test('run whose command kills itself with SIGTERM dies of SIGTERM, after cleaning up', async (t) => {
  assertNoDefaultBridge();
  const r = rootForTest(t);
  const before = hostLinkNames();
  const res = await r.run('run', '--', 'sh', '-c', 'kill -TERM $$');
  assert.equal(res.signal, 'SIGTERM', `exit ${res.code}: ${res.stderr}`);
  assert.equal(res.code, null);
  await assertRunLeftNothing(r, before);
});

test('SIGTERM to a running `nsbox run` is forwarded to the command; cleanup still happens', async (t) => {
  assertNoDefaultBridge();
  const r = rootForTest(t);
  const before = hostLinkNames();
  const name = randomName();
  const child = r.start(['run', '--name', name, '--', 'sh', '-c', 'echo $$; exec sleep 30']);
  const done = finished(child);
  const pid = Number(await firstLine(child));
  assert.ok(Number.isInteger(pid) && pid > 1, `the command's pid, not ${pid}`);
  // While it runs: recorded, leased, wired.
  const rec = await r.sandbox(name);
  assert.equal(rec.state, 'ready');
  assert.deepEqual((await r.network('nsbox0')).leases.map((l) => l.sandbox), [name]);
  assert.equal(links().filter((l) => l.master === 'nsbox0').length, 1, 'a veth end on the bridge');
  assert.deepEqual(r.netnsSymlinks(), [name]);
  child.kill('SIGTERM');
  const res = await done;
  assert.equal(res.signal, 'SIGTERM', `exit ${res.code}: ${res.stderr}`);
  // nsbox ends only once the command has: had it not forwarded the signal, sleep would still run.
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'sleep got the signal and is dead (and reaped)');
  assert.equal(res.stderr, '');
  await assertRunLeftNothing(r, before);
});

test('run --keep --name --network A --network B --ip: two interfaces, the static address, kept until rm', async (t) => {
  const r = rootForTest(t);
  const nets = [networkName(), networkName()];
  const subnets = [uniqueSubnet(), uniqueSubnet()];
  for (const [i, net] of nets.entries()) await r.json('network', 'create', net, '--subnet', subnets[i]!.cidr);
  const name = randomName();
  const staticIp = `${subnets[0]!.base}77`;
  const res = await r.run('run', '--keep', '--name', name, '--network', nets[0]!, '--network', nets[1]!, '--ip', staticIp, '--', 'true');
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, new RegExp(`kept sandbox ${name}`));
  const inside = links(name).filter((l) => l.ifname !== 'lo');
  assert.deepEqual(inside.map((l) => [l.ifname, l.linkinfo?.info_kind]), [['eth0', 'veth'], ['eth1', 'veth']]);
  const v4 = (dev: string): string[] => ipAddrs(name, dev).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
  assert.deepEqual(v4('eth0'), [`${staticIp}/24`], '--ip on the first network');
  assert.deepEqual(v4('eth1'), [`${subnets[1]!.base}2/24`], 'the next free address on the second');
  assert.deepEqual(ipRoutes(name, 'main', 4).filter((x) => x.dst === 'default').map((x) => [x.gateway, x.dev]), [[`${subnets[0]!.base}1`, 'eth0']],
    'the first network gives the default route');
  for (const [i, net] of nets.entries()) {
    assert.deepEqual((await r.network(net)).leases, [{ address: i === 0 ? staticIp : `${subnets[1]!.base}2`, sandbox: name, ifname: `eth${i}` }]);
  }
  const rec = await r.sandbox(name);
  assert.deepEqual(rec.interfaces.map((i) => [i.dstName, i.network, i.state]), [['eth0', nets[0], 'ready'], ['eth1', nets[1], 'ready']]);
  assert.deepEqual(r.netnsSymlinks(), [name]);
  await r.ok('rm', name);
  for (const net of nets) assert.deepEqual((await r.network(net)).leases, []);
  assert.deepEqual(r.taggedHostLinks().filter((l) => !l.startsWith('nsbr-')), [], 'host veth ends gone with the sandbox');
});

test('run --network with an unknown network fails with exit 3 before creating anything', async (t) => {
  const r = rootForTest(t);
  const err = await r.fails(3, 'run', '--network', 'nope', '--', 'true');
  assert.equal(err.code, 'NSBOX_ERR_NOT_FOUND');
  assert.match(err.error, /no network named "nope"/);
  assert.deepEqual(await r.json('ls'), []);
  assert.deepEqual(await r.json('network', 'ls'), [], 'nsbox0 was not made either');
});

for (const on of ['a veth', 'lo'] as const) {
  test(`when a host route on ${on} already covers 10.88.0.0/16, nsbox0 gets 10.89.0.0/16`, async (t) => {
    assertNoDefaultBridge();
    const r = rootForTest(t);
    let dev = 'lo';
    if (on === 'a veth') {
      dev = hostVethUp(t, 'nsbtR', 'p');
    } else {
      t.after(() => { ipTry(undefined, 'route', 'del', '10.88.0.0/16', 'dev', 'lo'); });
    }
    ip(undefined, 'route', 'add', '10.88.0.0/16', 'dev', dev);
    const res = await r.run('run', '--', 'sh', '-c', 'ip -4 -o addr show dev eth0');
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /inet 10\.89\.0\.2\/16 /);
    const net = await r.network('nsbox0');
    assert.deepEqual(net.subnets, [{ subnet: '10.89.0.0/16', gateway: '10.89.0.1' }]);
    const [route] = JSON.parse(ip(undefined, '-j', 'route', 'get', '10.88.1.1')) as { dev: string }[];
    assert.equal(route?.dev, dev, 'the host route is untouched');
    const [toSandbox] = JSON.parse(ip(undefined, '-j', 'route', 'get', '10.89.0.2')) as { dev: string }[];
    assert.equal(toSandbox?.dev, 'nsbox0', 'and the host reaches nsbox0 through the bridge');
  });
}
