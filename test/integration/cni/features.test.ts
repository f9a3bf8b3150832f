/**
 * Integration (root, throwaway host): what nsbox-cni honours besides addresses, each with the
 * kernel as the oracle: `portMappings` (a published port answers from the host through
 * nsbox's nf_tables table, and goes with DEL; a host port already published fails ADD with
 * nothing left), a MAC asked for (runtimeConfig, CNI_ARGS), `ipam.routes` (through the gateway
 * or a next hop of their own, in the result, checked by CHECK), `hairpinMode` (the host veth's
 * bridge-port flag, both ways) and `prevResult` (passed through, this plugin's additions after it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rootForTest, waitForOutput, type NsboxRoot, type SandboxJson } from '../../helpers/cli.js';
import { cniFails, cniOk, ipJson, runtimeNetns } from '../../helpers/cni-plugin.js';
import { links } from '../../helpers/host-links.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { clientArgv, serverArgv } from '../../helpers/probe-servers.js';

function conf(network: string, subnet: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { cniVersion: '1.0.0', name: network, type: 'nsbox-cni', bridge: `br${network}`.slice(0, 15), isGateway: true, isDefaultGateway: true, ipMasq: true, ipam: { type: 'nsbox', subnet }, ...extra };
}

interface PortJson { sandbox: string; hostPort: number; port: number; protocol: string; state: string }
interface Result { interfaces: { name: string; mac?: string; sandbox?: string }[]; ips: { address: string; gateway?: string; interface?: number }[]; routes?: { dst: string; gw?: string }[] }

const cniRecords = async (root: NsboxRoot): Promise<SandboxJson[]> => (await root.json<SandboxJson[]>('ls')).filter((s) => s.name.startsWith('cni-'));
const probe = (host: string, port: number): { ok: boolean; out: string } => {
  const [node, ...args] = clientArgv('tcp', host, port);
  const res = spawnSync(node!, args, { encoding: 'utf8' });
  return { ok: res.status === 0, out: res.stdout.trim() };
};
let nextPort = 21000 + Math.floor(Math.random() * 20000);

test('portMappings: the published port answers from the host, shows in nsbox port ls, and goes with DEL; a taken host port fails ADD and leaves nothing', async (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const { cidr, base } = uniqueSubnet();
  const a = runtimeNetns(t);
  const hostPort = nextPort++;
  const config = conf(net, cidr, { capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort, containerPort: 80, protocol: 'tcp' }] } });
  cniOk(root, { command: 'ADD', containerId: 'web', netns: a.path, config });
  const [node, ...args] = serverArgv('web', 80);
  const server = spawn('ip', ['netns', 'exec', a.name, node!, ...args]);
  t.after(() => { server.kill(); });
  await waitForOutput(server, 'stdout', 'ready');

  const ports = (await root.json<PortJson[]>('port', 'ls')).filter((p) => p.hostPort === hostPort);
  assert.deepEqual(ports.map((p) => `${p.hostPort}->${p.port}/${p.protocol} ${p.state}`), [`${hostPort}->80/tcp active`]);
  for (const host of ['127.0.0.1', `${base}1`]) {
    const res = probe(host, hostPort);
    assert.ok(res.ok && res.out.startsWith('web peer='), `${host}:${hostPort}: ${res.out}`);
  }

  // The same host port for a second container: refused (100), nothing of it left.
  const b = runtimeNetns(t);
  const before = links().length;
  const refused = cniFails(root, { command: 'ADD', containerId: 'web2', netns: b.path, config }, 100);
  assert.match(String(refused.details), new RegExp(`${hostPort}/tcp is already published`));
  assert.equal(links().length, before);
  assert.deepEqual(ipJson<{ ifname: string }[]>(b.name, 'link', 'show').map((l) => l.ifname), ['lo']);
  assert.equal((await cniRecords(root)).length, 1);
  assert.equal((await root.network(net)).leases.length, 1);

  cniOk(root, { command: 'DEL', containerId: 'web', netns: a.path, config });
  assert.deepEqual((await root.json<PortJson[]>('port', 'ls')).filter((p) => p.hostPort === hostPort), []);
  assert.equal(probe('127.0.0.1', hostPort).ok, false, 'nothing answers once DEL ran');
  cniOk(root, { command: 'DEL', containerId: 'web2', netns: b.path, config });
});

test('a MAC asked for (runtimeConfig.mac, CNI_ARGS MAC), ipam.routes in the container and the result, CHECK of them', async (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const { cidr, base } = uniqueSubnet();
  const a = runtimeNetns(t);
  const b = runtimeNetns(t);
  const routes = [{ dst: '192.0.2.0/24' }, { dst: '198.51.100.0/24', gw: `${base}254` }, { dst: '0.0.0.0/0' }];
  const config = conf(net, cidr, { ipam: { type: 'nsbox', subnet: cidr, routes }, capabilities: { mac: true }, runtimeConfig: { mac: '02:aa:bb:cc:dd:01' } });
  const ra = cniOk(root, { command: 'ADD', containerId: 'ma', netns: a.path, config }) as unknown as Result;
  const inside = ipJson<{ ifname: string; address: string }[]>(a.name, 'link', 'show').find((l) => l.ifname === 'eth0');
  assert.equal(inside?.address, '02:aa:bb:cc:dd:01');
  assert.equal(ra.interfaces[ra.ips[0]!.interface!]!.mac, '02:aa:bb:cc:dd:01');
  const kernel = ipJson<{ dst: string; gateway?: string }[]>(a.name, 'route', 'show').map((r) => `${r.dst} via ${r.gateway ?? '-'}`).sort();
  assert.deepEqual(kernel, [`${base}0/24 via -`, `192.0.2.0/24 via ${base}1`, `198.51.100.0/24 via ${base}254`, `default via ${base}1`].sort());
  assert.deepEqual(ra.routes, [{ dst: '0.0.0.0/0', gw: `${base}1` }, { dst: '192.0.2.0/24', gw: `${base}1` }, { dst: '198.51.100.0/24', gw: `${base}254` }]);
  cniOk(root, { command: 'CHECK', containerId: 'ma', netns: a.path, config: { ...config, prevResult: ra } });
  spawnSync('ip', ['-n', a.name, 'route', 'del', '192.0.2.0/24']);
  const broken = cniFails(root, { command: 'CHECK', containerId: 'ma', netns: a.path, config: { ...config, prevResult: ra } }, 101);
  assert.match(String(broken.details), /192\.0\.2\.0\/24/);

  // CNI_ARGS MAC, on a config without runtimeConfig.
  const plain = conf(net, cidr, { ipam: { type: 'nsbox', subnet: cidr, routes } });
  cniOk(root, { command: 'ADD', containerId: 'mb', netns: b.path, config: plain, args: 'IgnoreUnknown=1;MAC=02:aa:bb:cc:dd:02' });
  assert.equal(ipJson<{ ifname: string; address: string }[]>(b.name, 'link', 'show').find((l) => l.ifname === 'eth0')?.address, '02:aa:bb:cc:dd:02');
  // A MAC that is not one: code 4 (CNI_ARGS is an environment variable) before anything is done.
  const c = runtimeNetns(t);
  cniFails(root, { command: 'ADD', containerId: 'mc', netns: c.path, config: plain, args: 'MAC=nope' }, 4);
  for (const [id, ns] of [['ma', a], ['mb', b]] as const) cniOk(root, { command: 'DEL', containerId: id, netns: ns.path, config });
  assert.deepEqual(await cniRecords(root), []);
});

test('hairpinMode sets the host veth\'s hairpin flag, and its absence (the reference default, false) leaves it off', async (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const { cidr } = uniqueSubnet();
  const flags: Record<string, boolean> = {};
  for (const hairpinMode of [true, false, undefined]) {
    const ns = runtimeNetns(t);
    const id = `hp-${String(hairpinMode)}`;
    const r = cniOk(root, { command: 'ADD', containerId: id, netns: ns.path, config: conf(net, cidr, hairpinMode === undefined ? {} : { hairpinMode }) }) as unknown as Result;
    const hostIf = r.interfaces.find((i) => i.sandbox === undefined && i.name !== `br${net}`.slice(0, 15))!.name;
    const link = JSON.parse(spawnSync('ip', ['-d', '-j', 'link', 'show', 'dev', hostIf], { encoding: 'utf8' }).stdout) as { linkinfo: { info_slave_data: { hairpin: boolean } } }[];
    flags[String(hairpinMode)] = link[0]!.linkinfo.info_slave_data.hairpin;
    cniOk(root, { command: 'DEL', containerId: id, netns: ns.path, config: conf(net, cidr) });
  }
  assert.deepEqual(flags, { true: true, false: false, undefined: false });
});

test('prevResult is passed through: its interfaces, addresses and routes first, this plugin\'s after, with indexes shifted', async (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const { cidr, base } = uniqueSubnet();
  const a = runtimeNetns(t);
  const prevResult = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'dummy-host', mac: '02:00:00:00:00:09' }, { name: 'net9', sandbox: a.path }],
    ips: [{ address: '192.0.2.9/24', interface: 1 }],
    routes: [{ dst: '203.0.113.0/24', gw: '192.0.2.1' }],
    dns: { nameservers: ['192.0.2.53'] },
  };
  const r = cniOk(root, { command: 'ADD', containerId: 'pr', netns: a.path, config: conf(net, cidr, { prevResult }) }) as unknown as Result & { dns?: unknown };
  assert.deepEqual(r.interfaces.slice(0, 2), prevResult.interfaces);
  assert.equal(r.interfaces.length, 5); // + bridge, host veth, eth0
  assert.deepEqual(r.ips[0], prevResult.ips[0]);
  assert.equal(r.ips[1]!.interface, 4);
  assert.equal(r.interfaces[4]!.name, 'eth0');
  assert.match(r.ips[1]!.address, new RegExp(`^${base.replaceAll('.', '\\.')}\\d+/24$`));
  assert.deepEqual(r.routes, [prevResult.routes[0], { dst: '0.0.0.0/0', gw: `${base}1` }]);
  assert.deepEqual(r.dns, prevResult.dns, 'no DNS of its own: the previous one stays');
  cniOk(root, { command: 'DEL', containerId: 'pr', netns: a.path, config: conf(net, cidr) });
});

test('two networks with isDefaultGateway in one container: the second default route goes beside the first (as the reference does), and each DEL takes its own', async (t) => {
  const root = rootForTest(t);
  const [n1, n2] = [networkName(), networkName()];
  const [s1, s2] = [uniqueSubnet(), uniqueSubnet()];
  const a = runtimeNetns(t);
  const c1 = conf(n1, s1.cidr);
  const c2 = conf(n2, s2.cidr);
  cniOk(root, { command: 'ADD', containerId: 'dg', netns: a.path, ifname: 'eth0', config: c1 });
  const r2 = cniOk(root, { command: 'ADD', containerId: 'dg', netns: a.path, ifname: 'eth1', config: c2 }) as unknown as Result;
  assert.deepEqual(r2.routes, [{ dst: '0.0.0.0/0', gw: `${s2.base}1` }]);
  const defaults = (): string[] => ipJson<{ dst: string; gateway?: string; dev: string }[]>(a.name, 'route', 'show', 'default').map((r) => `${r.gateway} ${r.dev}`).sort();
  assert.deepEqual(defaults(), [`${s1.base}1 eth0`, `${s2.base}1 eth1`].sort());
  cniOk(root, { command: 'CHECK', containerId: 'dg', netns: a.path, ifname: 'eth1', config: { ...c2, prevResult: r2 } });
  cniOk(root, { command: 'DEL', containerId: 'dg', netns: a.path, ifname: 'eth1', config: c2 });
  assert.deepEqual(defaults(), [`${s1.base}1 eth0`]);
  cniOk(root, { command: 'DEL', containerId: 'dg', netns: a.path, ifname: 'eth0', config: c1 });
  assert.deepEqual(defaults(), []);
});

test('bandwidth: a tbf on each end of the veth (ingressRate on the host end, egressRate on the container\'s), gone with DEL; a rate without a burst is 7 with nothing made', async (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const { cidr } = uniqueSubnet();
  const a = runtimeNetns(t);
  const bandwidth = { ingressRate: 1_000_000, ingressBurst: 80_000, egressRate: 2_000_000, egressBurst: 160_000 };
  const config = conf(net, cidr, { capabilities: { bandwidth: true }, runtimeConfig: { bandwidth } });
  const r = cniOk(root, { command: 'ADD', containerId: 'bw', netns: a.path, config }) as unknown as Result;
  const hostIf = r.interfaces.find((i) => i.sandbox === undefined && i.name !== `br${net}`.slice(0, 15))!.name;
  interface TcJson { kind: string; options?: { rate?: number; burst?: number } }
  const tbf = (ns: string[], dev: string): TcJson | undefined =>
    (JSON.parse(spawnSync('tc', [...ns, '-j', 'qdisc', 'show', 'dev', dev], { encoding: 'utf8' }).stdout) as TcJson[]).find((q) => q.kind === 'tbf');
  const into = tbf([], hostIf);
  const out = tbf(['-n', a.name], 'eth0');
  assert.equal(into?.options?.rate, 1_000_000 / 8, JSON.stringify(into)); // tc -j gives bytes per second
  assert.equal(out?.options?.rate, 2_000_000 / 8, JSON.stringify(out));
  cniOk(root, { command: 'DEL', containerId: 'bw', netns: a.path, config });
  assert.equal(links().some((l) => l.ifname === hostIf), false);

  const b = runtimeNetns(t);
  const bad = conf(net, cidr, { capabilities: { bandwidth: true }, runtimeConfig: { bandwidth: { egressRate: 1_000_000 } } });
  cniFails(root, { command: 'ADD', containerId: 'bw2', netns: b.path, config: bad }, 7);
  assert.deepEqual(ipJson<{ ifname: string }[]>(b.name, 'link', 'show').map((l) => l.ifname), ['lo']);
  assert.deepEqual(await cniRecords(root), []);
});
