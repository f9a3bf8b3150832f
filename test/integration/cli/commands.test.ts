/**
 * Integration (root, throwaway host): every `nsbox` command end to end, as a child process
 * of bin/nsbox.js, with its --json output. The results are checked against the kernel with
 * iproute2 (`ip -n NAME -j …`, through the /run/netns symlink nsbox makes), /proc and
 * /proc/self/mountinfo, and against the state with `nsbox --json ls/inspect`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  finished, firstLine, netnsFiles, netnsMounts, netnsSymlinks, nsbox, nsboxJson, nsboxOk, nsboxWith, registerCliLeakCheck, rootForFile, startNsbox,
} from '../../helpers/cli.js';
import { hostLinkNames, hostVeth } from '../../helpers/host-links.js';
import { randomName } from '../../helpers/names.js';
import { ip, ipAddrs, ipJson, ipLink, ipNeighs, ipRoutes, type IpLink } from '../../helpers/iproute.js';

registerCliLeakCheck();

interface InterfaceJson {
  srcName: string;
  dstPrefix: string;
  dstName: string;
  state: string;
  link?: { kind: string; peer?: string; peerMaster?: string; mtu?: number };
  options: { ipv4?: string; ipv6?: string; mac?: string; master?: string; isBridge?: boolean; routes?: string[]; sysctls?: string[] };
}

interface SandboxJson {
  name: string;
  netns: string;
  state: string;
  createdAt: string;
  labels: Record<string, string>;
  interfaces: InterfaceJson[];
  routes: { destination: string; nextHop: string }[];
  gateway: string | null;
  gatewayIPv6: string | null;
  neighbors: { ip: string; mac: string; linkName?: string }[];
  dns: string[];
  kernel?: {
    links: { index: number; name: string; kind: string | null; mtu: number; address: string | null; up: boolean }[];
    addresses: { index: number; address: string }[];
    routes: { destination: string; gateway: string | null; oif: number | null }[];
  };
}

const SANDBOX_KEYS = ['name', 'netns', 'state', 'createdAt', 'labels', 'interfaces', 'routes', 'gateway', 'gatewayIPv6', 'neighbors', 'dns'];

async function create(root: string, ...args: string[]): Promise<SandboxJson> {
  return nsboxJson<SandboxJson>(root, 'create', randomName(), ...args);
}

function sysctlIn(name: string, path: string): string {
  return execFileSync('ip', ['netns', 'exec', name, 'cat', `/proc/sys/${path}`], { encoding: 'utf8' }).trim();
}

test('create (with labels), ls, inspect, rm: JSON fields, the kernel and the state agree', async () => {
  const root = rootForFile();
  const name = randomName();
  const before = new Date().toISOString();
  const created = await nsboxJson<SandboxJson>(root, 'create', name, '--label', 'team=net', '--label', 'empty=', '--label', 'eq=a=b');
  const after = new Date().toISOString();
  assert.deepEqual(Object.keys(created), SANDBOX_KEYS);
  const key = join(root, 'run', 'netns', name);
  assert.deepEqual({ ...created, createdAt: '' }, {
    name, netns: key, state: 'ready', createdAt: '', labels: { team: 'net', empty: '', eq: 'a=b' },
    interfaces: [], routes: [], gateway: null, gatewayIPv6: null, neighbors: [], dns: [],
  });
  // An ISO 8601 UTC time taken while the command ran (ISO strings of one format sort as times).
  assert.equal(new Date(created.createdAt).toISOString(), created.createdAt);
  assert.ok(before <= created.createdAt && created.createdAt <= after, `createdAt ${created.createdAt} not in [${before}, ${after}]`);

  // The kernel: a mounted netns file, nsbox's symlink for iproute2, a namespace with lo up.
  assert.deepEqual(netnsMounts(root), [key]);
  assert.ok(lstatSync(`/run/netns/${name}`).isSymbolicLink());
  assert.equal(readlinkSync(`/run/netns/${name}`), key);
  const links = ipJson<IpLink[]>(name, 'link', 'show');
  assert.deepEqual(links.map((l) => l.ifname), ['lo']);
  assert.ok(links[0]!.flags.includes('UP'), 'lo is up');
  assert.deepEqual(ipAddrs(name, 'lo').map((a) => `${a.local}/${a.prefixlen}`), ['127.0.0.1/8', '::1/128']);

  // The state: ls and inspect show the same record.
  const listed = await nsboxJson<SandboxJson[]>(root, 'ls');
  assert.deepEqual(listed, [created]);
  const inspected = await nsboxJson<SandboxJson>(root, 'inspect', name);
  const { kernel, ...record } = inspected;
  assert.deepEqual(record, created);
  assert.deepEqual(kernel, {
    links: [{ index: 1, name: 'lo', kind: null, mtu: 65536, address: '00:00:00:00:00:00', up: true }],
    addresses: [{ index: 1, address: '127.0.0.1/8' }, { index: 1, address: '::1/128' }],
    routes: [],
  });

  // Text output: create prints the name, ls a table, inspect a summary.
  const second = randomName();
  assert.equal(await nsboxOk(root, 'create', second), `${second}\n`);
  const table = (await nsboxOk(root, 'ls')).split('\n');
  assert.match(table[0]!, /^NAME\s+STATE\s+INTERFACES\s+ADDRESSES\s+CREATED$/);
  assert.match(table[1]!, new RegExp(`^${name}\\s+ready\\s+-\\s+-\\s+\\d{4}-`));
  assert.match(table[2]!, new RegExp(`^${second}\\s+ready\\s+`));
  const text = await nsboxOk(root, 'inspect', name);
  assert.match(text, new RegExp(`^Name:\\s+${name}$`, 'm'));
  assert.match(text, /^Labels:\s+team=net empty= eq=a=b$/m);
  assert.match(text, /^ {2}link lo UP 00:00:00:00:00:00$/m);

  // rm: everything goes, and removing again is fine.
  assert.deepEqual(await nsboxJson(root, 'rm', name, second), [
    { name, removed: true, errors: [] }, { name: second, removed: true, errors: [] },
  ]);
  assert.deepEqual(netnsMounts(root), []);
  assert.deepEqual(netnsFiles(root), []);
  assert.deepEqual(netnsSymlinks(root), []);
  assert.deepEqual(await nsboxJson(root, 'ls'), []);
  assert.deepEqual(await nsboxJson(root, 'rm', name), [{ name, removed: false, errors: [] }]);
  assert.equal(await nsboxOk(root, 'rm', name), `${name}: already gone\n`);
});

test('the state database is private (0600) and iproute2 sees the sandboxes by name', async () => {
  const root = rootForFile();
  const a = await create(root);
  const b = await create(root);
  assert.equal(statSync(join(root, 'nsbox.db')).mode & 0o777, 0o600);
  assert.equal(statSync(root).mode & 0o077, 0, 'the state directory is not open to others');
  const listed = ip(undefined, 'netns', 'list').split('\n').map((l) => l.split(' ')[0]);
  assert.ok(listed.includes(a.name) && listed.includes(b.name), `ip netns list: ${listed.join(',')}`);
  const inside = JSON.parse(execFileSync('ip', ['netns', 'exec', a.name, 'ip', '-j', 'link'], { encoding: 'utf8' })) as IpLink[];
  assert.deepEqual(inside.map((l) => l.ifname), ['lo']);
  assert.equal(
    execFileSync('ip', ['netns', 'exec', b.name, 'readlink', '/proc/self/ns/net'], { encoding: 'utf8' }).trim(),
    `net:[${statSync(b.netns).ino}]`,
  );
  await nsboxOk(root, 'rm', '--all');
  assert.deepEqual(await nsboxJson(root, 'ls'), []);
  assert.deepEqual(netnsMounts(root), []);
  assert.deepEqual(netnsSymlinks(root), []);
});

test('iface add moves a host veth in with name, addresses, MAC, routes and sysctls; iface rm gives it back', async () => {
  const root = rootForFile();
  const sbx = await create(root);
  const [src, peer] = hostVeth();
  const added = await nsboxJson<InterfaceJson>(root, 'iface', 'add', sbx.name, '--src', src, '--name', 'uplink',
    '--ip', '10.71.0.2/24', '--ip6', 'fd71::2/64', '--mac', '02:71:00:00:00:02', '--route', '10.72.0.0/16', '--route', '10.73.1.0/24',
    '--sysctl', 'net.ipv4.conf.uplink.forwarding=1', '--sysctl', 'net.ipv4.conf.uplink.rp_filter=2');
  assert.deepEqual(added, {
    srcName: src, dstPrefix: 'eth', dstName: 'uplink', state: 'ready',
    link: { kind: 'veth', mtu: 1500, peer },
    options: {
      ipv4: '10.71.0.2/24', ipv6: 'fd71::2/64', mac: '02:71:00:00:00:02', routes: ['10.72.0.0/16', '10.73.1.0/24'],
      sysctls: ['net.ipv4.conf.uplink.forwarding=1', 'net.ipv4.conf.uplink.rp_filter=2'],
    },
  });

  assert.ok(!hostLinkNames().includes(src), 'the link left the host');
  const link = ipLink(sbx.name, 'uplink');
  assert.ok(link, 'uplink is in the sandbox');
  assert.equal(link.address, '02:71:00:00:00:02');
  assert.ok(link.flags.includes('UP'));
  assert.deepEqual(ipAddrs(sbx.name, 'uplink').filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`),
    ['10.71.0.2/24', 'fd71::2/64']);
  const routes = ipRoutes(sbx.name, 'main', 4).map((r) => `${r.dst} ${r.dev ?? ''} ${r.scope ?? ''}`);
  assert.ok(routes.includes('10.72.0.0/16 uplink link') && routes.includes('10.73.1.0/24 uplink link'), routes.join('; '));
  assert.equal(sysctlIn(sbx.name, 'net/ipv4/conf/uplink/forwarding'), '1');
  assert.equal(sysctlIn(sbx.name, 'net/ipv4/conf/uplink/rp_filter'), '2');
  assert.equal(sysctlIn(sbx.name, 'net/ipv6/conf/uplink/disable_ipv6'), '0');

  // The record and the kernel section of inspect say the same.
  const inspected = await nsboxJson<SandboxJson>(root, 'inspect', sbx.name);
  assert.deepEqual(inspected.interfaces, [added]);
  const k = inspected.kernel!;
  const kLink = k.links.find((l) => l.name === 'uplink');
  assert.deepEqual(kLink, { index: link.ifindex, name: 'uplink', kind: 'veth', mtu: 1500, address: '02:71:00:00:00:02', up: true });
  assert.deepEqual(k.addresses.filter((a) => a.index === link.ifindex).map((a) => a.address).filter((a) => !a.startsWith('fe80')),
    ['10.71.0.2/24', 'fd71::2/64']);
  assert.deepEqual(k.routes.filter((r) => r.destination.startsWith('10.')).map((r) => [r.destination, r.oif]),
    [['10.71.0.0/24', link.ifindex], ['10.72.0.0/16', link.ifindex], ['10.73.1.0/24', link.ifindex]]);
  const lsRow = (await nsboxOk(root, 'ls')).split('\n')[1]!;
  assert.match(lsRow, /\suplink\s+10\.71\.0\.2\/24,fd71::2\/64\s/);

  // iface rm by the name inside: back in the host under its source name, out of the record.
  assert.deepEqual(await nsboxJson(root, 'iface', 'rm', sbx.name, 'uplink'), { sandbox: sbx.name, removed: 'uplink', returnedTo: src });
  assert.ok(hostLinkNames().includes(src), 'back in the host');
  assert.equal(ipLink(sbx.name, 'uplink'), undefined);
  assert.deepEqual(ipJson<IpLink[]>(sbx.name, 'link', 'show').map((l) => l.ifname), ['lo']);
  assert.deepEqual((await nsboxJson<SandboxJson>(root, 'inspect', sbx.name)).interfaces, []);
  await nsboxOk(root, 'rm', sbx.name);
});

test('iface add names links by --prefix (lowest free index) and disables IPv6 without --ip6; iface rm by source name', async () => {
  const root = rootForFile();
  const sbx = await create(root);
  const [a] = hostVeth();
  const [b] = hostVeth();
  const [c] = hostVeth();
  assert.equal(await nsboxOk(root, 'iface', 'add', sbx.name, '--src', a), 'eth0\n');
  assert.equal((await nsboxJson<InterfaceJson>(root, 'iface', 'add', sbx.name, '--src', b, '--prefix', 'net')).dstName, 'net0');
  assert.equal((await nsboxJson<InterfaceJson>(root, 'iface', 'add', sbx.name, '--src', c, '--prefix', 'net')).dstName, 'net1');
  assert.deepEqual(ipJson<IpLink[]>(sbx.name, 'link', 'show').map((l) => l.ifname).sort(), ['eth0', 'lo', 'net0', 'net1']);
  assert.equal(sysctlIn(sbx.name, 'net/ipv6/conf/eth0/disable_ipv6'), '1', 'no --ip6: IPv6 off on the link');
  assert.deepEqual(ipAddrs(sbx.name, 'eth0'), []);
  assert.equal(await nsboxOk(root, 'iface', 'rm', sbx.name, b), 'net0\n');
  assert.ok(hostLinkNames().includes(b));
  assert.deepEqual((await nsboxJson<SandboxJson>(root, 'inspect', sbx.name)).interfaces.map((i) => i.dstName), ['eth0', 'net1']);
  // rm puts every remaining interface back in the host.
  await nsboxOk(root, 'rm', sbx.name);
  const host = hostLinkNames();
  assert.ok(host.includes(a) && host.includes(c), 'rm returned the interfaces');
});

test('iface add --bridge makes a bridge inside; --master enslaves a moved link to it; iface rm deletes the bridge', async () => {
  const root = rootForFile();
  const sbx = await create(root);
  const [src] = hostVeth();
  const bridge = `${src.slice(0, -1)}x`; // --src of a bridge names nothing in the host
  const br = await nsboxJson<InterfaceJson>(root, 'iface', 'add', sbx.name, '--src', bridge, '--bridge', '--name', 'br0', '--ip', '10.74.0.1/24');
  assert.deepEqual(br, { srcName: bridge, dstPrefix: 'eth', dstName: 'br0', state: 'ready', options: { ipv4: '10.74.0.1/24', isBridge: true } });
  const port = await nsboxJson<InterfaceJson>(root, 'iface', 'add', sbx.name, '--src', src, '--master', bridge);
  assert.equal(port.dstName, 'eth0');
  assert.equal(port.options.master, bridge);

  const brLink = ipJson<IpLink[]>(sbx.name, '-d', 'link', 'show', 'br0')[0]!;
  assert.equal(brLink.linkinfo?.info_kind, 'bridge');
  assert.deepEqual(ipAddrs(sbx.name, 'br0').filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), ['10.74.0.1/24']);
  const eth0 = ipJson<IpLink[]>(sbx.name, '-d', 'link', 'show', 'eth0')[0]!;
  assert.equal(eth0.master, 'br0');
  assert.equal(eth0.linkinfo?.info_slave_kind, 'bridge');
  assert.ok(!hostLinkNames().includes(bridge), 'the bridge exists only inside');

  assert.deepEqual(await nsboxJson(root, 'iface', 'rm', sbx.name, 'eth0'), { sandbox: sbx.name, removed: 'eth0', returnedTo: src });
  assert.equal(ipJson<IpLink[]>(undefined, '-d', 'link', 'show', src)[0]?.master, undefined, 'no master in the host');
  assert.deepEqual(await nsboxJson(root, 'iface', 'rm', sbx.name, 'br0'), { sandbox: sbx.name, removed: 'br0', returnedTo: null });
  assert.equal(ipLink(sbx.name, 'br0'), undefined, 'the bridge is deleted');
  assert.ok(!hostLinkNames().includes(bridge), 'and not moved to the host');
  await nsboxOk(root, 'rm', sbx.name);
});

test('route add|rm, gw set|unset, neigh add|rm: JSON, the kernel and the record', async () => {
  const root = rootForFile();
  const sbx = await create(root);
  const [src] = hostVeth();
  await nsboxOk(root, 'iface', 'add', sbx.name, '--src', src, '--ip', '10.75.0.2/24', '--ip6', 'fd75::2/64');

  assert.deepEqual(await nsboxJson(root, 'route', 'add', sbx.name, '--dst', '10.76.0.0/16', '--via', '10.75.0.1'),
    { sandbox: sbx.name, action: 'add', route: { destination: '10.76.0.0/16', nextHop: '10.75.0.1' } });
  assert.deepEqual(await nsboxJson(root, 'route', 'add', sbx.name, '--dst', '10.77.1.0/24', '--via', '10.75.0.9'),
    { sandbox: sbx.name, action: 'add', route: { destination: '10.77.1.0/24', nextHop: '10.75.0.9' } });
  assert.deepEqual(await nsboxJson(root, 'route', 'add', sbx.name, '--dst', 'fd77:0:0:0::/48', '--via', 'fd75::9'),
    { sandbox: sbx.name, action: 'add', route: { destination: 'fd77::/48', nextHop: 'fd75::9' } }, 'the destination is canonical');
  assert.deepEqual(await nsboxJson(root, 'gw', 'set', sbx.name, '10.75.0.1'), { sandbox: sbx.name, gateway: '10.75.0.1', gatewayIPv6: null });
  assert.deepEqual(await nsboxJson(root, 'gw', 'set', sbx.name, 'fd75::1'), { sandbox: sbx.name, gateway: '10.75.0.1', gatewayIPv6: 'fd75::1' });
  assert.deepEqual(await nsboxJson(root, 'gw', 'set', sbx.name, '10.75.0.254'), { sandbox: sbx.name, gateway: '10.75.0.254', gatewayIPv6: 'fd75::1' }, 'set replaces');
  assert.deepEqual(await nsboxJson(root, 'neigh', 'add', sbx.name, '10.75.0.50', '02:75:00:00:00:50'),
    { sandbox: sbx.name, action: 'add', neighbor: { ip: '10.75.0.50', mac: '02:75:00:00:00:50', dev: src } });
  assert.deepEqual(await nsboxJson(root, 'neigh', 'add', sbx.name, 'fd75::50', '02:75:00:00:00:51', '--dev', 'eth0'),
    { sandbox: sbx.name, action: 'add', neighbor: { ip: 'fd75::50', mac: '02:75:00:00:00:51', dev: src } });

  const v4 = ipRoutes(sbx.name, 'main', 4);
  assert.deepEqual(v4.filter((r) => r.gateway !== undefined).map((r) => [r.dst, r.gateway, r.dev]).sort(), [
    ['10.76.0.0/16', '10.75.0.1', 'eth0'], ['10.77.1.0/24', '10.75.0.9', 'eth0'], ['default', '10.75.0.254', 'eth0'],
  ]);
  assert.deepEqual(ipRoutes(sbx.name, 'main', 6).filter((r) => r.gateway !== undefined).map((r) => [r.dst, r.gateway]).sort(),
    [['default', 'fd75::1'], ['fd77::/48', 'fd75::9']]);
  const neighs = ipNeighs(sbx.name).filter((n) => n.state?.includes('PERMANENT')).map((n) => [n.dst, n.lladdr, n.dev]).sort();
  assert.deepEqual(neighs, [['10.75.0.50', '02:75:00:00:00:50', 'eth0'], ['fd75::50', '02:75:00:00:00:51', 'eth0']]);
  const rec = await nsboxJson<SandboxJson>(root, 'inspect', sbx.name);
  assert.deepEqual(rec.routes, [
    { destination: '10.76.0.0/16', nextHop: '10.75.0.1' }, { destination: '10.77.1.0/24', nextHop: '10.75.0.9' },
    { destination: 'fd77::/48', nextHop: 'fd75::9' },
  ]);
  assert.equal(rec.gateway, '10.75.0.254');
  assert.equal(rec.gatewayIPv6, 'fd75::1');
  assert.deepEqual(rec.neighbors, [{ ip: '10.75.0.50', mac: '02:75:00:00:00:50', linkName: src }, { ip: 'fd75::50', mac: '02:75:00:00:00:51', linkName: src }]);
  assert.deepEqual(rec.kernel!.routes.filter((r) => r.gateway !== null).map((r) => [r.destination, r.gateway]).sort(), [
    ['10.76.0.0/16', '10.75.0.1'], ['10.77.1.0/24', '10.75.0.9'], ['default', '10.75.0.254'], ['default', 'fd75::1'], ['fd77::/48', 'fd75::9'],
  ]);

  // And back out again.
  assert.deepEqual(await nsboxJson(root, 'route', 'rm', sbx.name, '--dst', '10.76.0.0/16', '--via', '10.75.0.1'),
    { sandbox: sbx.name, action: 'rm', route: { destination: '10.76.0.0/16', nextHop: '10.75.0.1' } });
  assert.equal(await nsboxOk(root, 'route', 'rm', sbx.name, '--dst', '10.77.1.0/24', '--via', '10.75.0.9'), '', 'no output without --json');
  await nsboxOk(root, 'route', 'rm', sbx.name, '--dst', 'fd77::/48', '--via', 'fd75::9');
  assert.deepEqual(await nsboxJson(root, 'gw', 'unset', sbx.name, '10.75.0.254'), { sandbox: sbx.name, gateway: null, gatewayIPv6: 'fd75::1' });
  assert.deepEqual(await nsboxJson(root, 'gw', 'unset', sbx.name), { sandbox: sbx.name, gateway: null, gatewayIPv6: null });
  assert.deepEqual(await nsboxJson(root, 'neigh', 'rm', sbx.name, '10.75.0.50', '02:75:00:00:00:50'),
    { sandbox: sbx.name, action: 'rm', neighbor: { ip: '10.75.0.50', mac: '02:75:00:00:00:50', dev: src } });
  await nsboxOk(root, 'neigh', 'rm', sbx.name, 'fd75::50', '02:75:00:00:00:51');

  assert.deepEqual(ipRoutes(sbx.name, 'main', 4).filter((r) => r.gateway !== undefined), []);
  assert.deepEqual(ipRoutes(sbx.name, 'main', 6).filter((r) => r.gateway !== undefined), []);
  assert.deepEqual(ipNeighs(sbx.name).filter((n) => n.state?.includes('PERMANENT')), []);
  const after = await nsboxJson<SandboxJson>(root, 'inspect', sbx.name);
  assert.deepEqual([after.routes, after.gateway, after.gatewayIPv6, after.neighbors], [[], null, null, []]);
  await nsboxOk(root, 'rm', sbx.name);
});

test('exec: runs inside the namespace, stdio and the exit status pass through, a missing command is 127', async () => {
  const root = rootForFile();
  const sbx = await create(root);
  const ns = await nsbox(root, 'exec', sbx.name, '--', 'readlink', '/proc/self/ns/net');
  assert.equal(ns.code, 0, ns.stderr);
  assert.equal(ns.stdout.trim(), `net:[${statSync(sbx.netns).ino}]`);
  assert.notEqual(ns.stdout.trim(), readlinkSync('/proc/self/ns/net'), 'not the host namespace');

  const links = await nsbox(root, 'exec', sbx.name, '--', 'ip', '-j', 'link');
  assert.deepEqual((JSON.parse(links.stdout) as IpLink[]).map((l) => l.ifname), ['lo'], 'the child sees only the sandbox');

  const io = await nsboxWith(root, { input: 'hello from stdin\n' }, 'exec', sbx.name, '--', 'sh', '-c', 'cat; echo to-stderr >&2; exit 7');
  assert.deepEqual([io.code, io.stdout, io.stderr], [7, 'hello from stdin\n', 'to-stderr\n']);

  const dashArgs = await nsbox(root, 'exec', sbx.name, '--', 'sh', '-c', 'echo "$@"', 'sh', '--json', '-x', '--help');
  assert.deepEqual([dashArgs.code, dashArgs.stdout], [0, '--json -x --help\n'], 'arguments after -- reach the command');

  const missing = await nsbox(root, 'exec', sbx.name, '--', 'nsbt-no-such-command');
  assert.equal(missing.code, 127);
  assert.equal(missing.stderr, 'nsbox: cannot run nsbt-no-such-command: command not found\n');

  const unknown = await nsbox(root, 'exec', 'nsbt-nope', '--', 'true');
  assert.equal(unknown.code, 3);
  await nsboxOk(root, 'rm', sbx.name);
});

test('exec forwards SIGTERM to the command, even one sent the moment it starts, and dies of the same signal', async () => {
  const root = rootForFile();
  const sbx = await create(root);
  // The signal goes out as soon as the command has printed its pid: nsbox must already be
  // forwarding then (it used to install its handlers only after the spawn, and a signal in
  // between killed nsbox and left the command running). Several rounds to hit the window.
  for (let round = 0; round < 5; round++) {
    const child = startNsbox(root, ['exec', sbx.name, '--', 'sh', '-c', 'echo $$; exec sleep 30']);
    const pid = Number(await firstLine(child));
    child.kill('SIGTERM');
    const res = await finished(child);
    assert.equal(res.signal, 'SIGTERM', `nsbox ended with ${res.code ?? res.signal}: ${res.stderr}`);
    assert.equal(res.code, null);
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the command is dead (and reaped)');
  }
  const child = startNsbox(root, ['exec', sbx.name, '--', 'sh', '-c', 'echo $$; exec sleep 30']);
  const pid = Number(await firstLine(child));
  assert.equal(readlinkSync(`/proc/${pid}/ns/net`), `net:[${statSync(sbx.netns).ino}]`, 'sleep runs inside');
  child.kill('SIGINT');
  const res = await finished(child);
  assert.equal(res.signal, 'SIGINT', 'other signals are forwarded too');
  await nsboxOk(root, 'rm', sbx.name);
});

test('gc and restore on a healthy root: nothing to collect, every sandbox adopted', async () => {
  const root = rootForFile();
  const empty = { dryRun: true, removed: [], inUse: [], errors: [] };
  assert.deepEqual(await nsboxJson(root, 'gc', '--dry-run'), empty);
  assert.deepEqual(await nsboxJson(root, 'restore'), []);
  assert.equal(await nsboxOk(root, 'restore'), 'no sandboxes\n');
  const sbx = await create(root);
  const [src] = hostVeth();
  await nsboxOk(root, 'iface', 'add', sbx.name, '--src', src, '--ip', '10.78.0.2/24');
  assert.deepEqual(await nsboxJson(root, 'gc'), { ...empty, dryRun: false });
  assert.equal(await nsboxOk(root, 'gc'), 'nothing to collect\n');
  assert.deepEqual(await nsboxJson(root, 'restore'), [{ name: sbx.name, status: 'adopted', detail: '1 interface(s)' }]);
  assert.deepEqual(await nsboxJson(root, 'restore', '--recreate'), [{ name: sbx.name, status: 'adopted', detail: '1 interface(s)' }]);
  assert.deepEqual(ipAddrs(sbx.name, 'eth0').map((a) => `${a.local}/${a.prefixlen}`), ['10.78.0.2/24'], 'restore changed nothing');
  assert.deepEqual(await nsboxJson(root, 'rm', '--all'), [{ name: sbx.name, removed: true, errors: [] }]);
  assert.ok(hostLinkNames().includes(src));
  assert.deepEqual(await nsboxJson(root, 'rm', '--all'), []);
});

test('version, --version, -V and --help of every command exit 0', async () => {
  const root = rootForFile();
  const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(await nsboxOk(root, '--version'), `${pkg.version}\n`);
  assert.equal(await nsboxOk(root, '-V'), `${pkg.version}\n`);
  assert.equal(await nsboxOk(root, 'version'), `nsbox ${pkg.version}\n`);
  assert.deepEqual(await nsboxJson(root, 'version'), { version: pkg.version, node: process.version });
  const commands = [
    [], ['create'], ['ls'], ['inspect'], ['exec'], ['rm'], ['iface'], ['iface', 'add'], ['iface', 'rm'], ['route'], ['route', 'add'],
    ['route', 'rm'], ['gw'], ['gw', 'set'], ['gw', 'unset'], ['neigh'], ['neigh', 'add'], ['neigh', 'rm'], ['gc'], ['restore'], ['version'],
  ];
  for (const cmd of commands) {
    const res = await nsbox(root, ...cmd, '--help');
    assert.equal(res.code, 0, `${cmd.join(' ')} --help: ${res.stderr}`);
    assert.match(res.stdout, new RegExp(`^Usage: nsbox${cmd.map((c) => ` ${c}`).join('')}(\\|\\w+)? `), `${cmd.join(' ')} --help`);
    assert.equal(res.stderr, '');
  }
  const top = await nsboxOk(root, '--help');
  for (const c of ['create', 'ls', 'inspect', 'exec', 'rm', 'iface', 'route', 'gw', 'neigh', 'gc', 'restore', 'version']) {
    assert.match(top, new RegExp(`^ {2}${c}\\b`, 'm'), `--help lists ${c}`);
  }
  assert.deepEqual(netnsFiles(root), []);
});

test('a reader that goes away (`nsbox rm a b c | head -0`) does not stop the work or crash nsbox: every sandbox is removed, exit 0, no stack trace', async () => {
  const root = rootForFile();
  const names = [randomName(), randomName(), randomName()];
  for (const n of names) await nsboxOk(root, 'create', n);
  const child = startNsbox(root, ['rm', ...names]);
  child.stdout.destroy(); // the reader is gone before nsbox writes a line
  const res = await finished(child);
  assert.equal(res.code, 0, res.stderr);
  assert.doesNotMatch(res.stderr, /EPIPE|at .*\.js:\d+/, 'no stack trace');
  assert.deepEqual((await nsboxJson<{ name: string }[]>(root, 'ls')).filter((s) => names.includes(s.name)), [], 'all three removed');
});
