/**
 * Integration (root, throwaway host): nsbox-cni delegating IPAM to the reference plugins of
 * Debian's containernetworking-plugins (/usr/lib/cni) as SPEC §4 has it: `host-local` (its
 * leases in its own dataDir: given on ADD, gone on DEL, also when an ADD fails after it ran),
 * `static` (two containers asking for one address: the second is refused, nothing left), and
 * `dhcp` (the plugin's daemon asking a DHCP server, busybox udhcpd, on the bridge, from inside
 * the container: the link must be there and up first). The nsbox network learns its subnet
 * from the plugin's answers, the bridge holds the gateway, containers ping each other, CHECK
 * is passed on, and DEL leaves nothing in nsbox or in the plugin's state.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootForTest, type NsboxRoot, type SandboxJson } from '../../helpers/cli.js';
import { REFERENCE_PLUGINS, addressesIn, referencePluginsMissing, cniFails, cniOk, ipJson, pingFrom, runtimeNetns } from '../../helpers/cni-plugin.js';
import { links } from '../../helpers/host-links.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { skipIfMissing } from '../../helpers/privileges.js';

interface Result { interfaces: { name: string; sandbox?: string }[]; ips: { address: string; gateway?: string; interface?: number }[]; routes?: { dst: string; gw?: string }[] }

function conf(network: string, ipam: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { cniVersion: '1.0.0', name: network, type: 'nsbox-cni', bridge: `br${network}`.slice(0, 15), isGateway: true, ipMasq: false, ipam, ...extra };
}

const cniRecords = async (root: NsboxRoot): Promise<SandboxJson[]> => (await root.json<SandboxJson[]>('ls')).filter((s) => s.name.startsWith('cni-'));
const hostVeths = (): string[] => links().filter((l) => l.ifname.startsWith('vnsb')).map((l) => l.ifname);

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-cni-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** host-local's lease files for a network: one per address, named by it. */
const hostLocalLeases = (dataDir: string, network: string): string[] =>
  (existsSync(join(dataDir, network)) ? readdirSync(join(dataDir, network)) : []).filter((f) => /^[0-9.]+$/.test(f)).sort();

test('host-local: addresses from its ranges, its routes through the gateway, the subnet learned by the network, CHECK passed on; DEL frees its leases; a failed ADD runs its DEL', async (t) => {
  if (skipIfMissing(t, 'cni-plugins', referencePluginsMissing('host-local'))) return;
  const root = rootForTest(t);
  const net = networkName();
  const { cidr, base } = uniqueSubnet();
  const dataDir = tempDir(t);
  const ipam = { type: 'host-local', dataDir, ranges: [[{ subnet: cidr, rangeStart: `${base}10`, rangeEnd: `${base}20` }]], routes: [{ dst: '0.0.0.0/0' }, { dst: '192.0.2.0/24' }] };
  const config = conf(net, ipam);
  const a = runtimeNetns(t);
  const b = runtimeNetns(t);
  const ra = cniOk(root, { command: 'ADD', containerId: 'hl-a', netns: a.path, config, cniPath: REFERENCE_PLUGINS }) as unknown as Result;
  const rb = cniOk(root, { command: 'ADD', containerId: 'hl-b', netns: b.path, config, cniPath: REFERENCE_PLUGINS }) as unknown as Result;
  assert.deepEqual([ra.ips[0]!.address, rb.ips[0]!.address], [`${base}10/24`, `${base}11/24`]);
  assert.equal(ra.ips[0]!.gateway, `${base}1`);
  assert.equal(ra.interfaces[ra.ips[0]!.interface!]!.name, 'eth0');
  assert.deepEqual(ra.routes, [{ dst: '0.0.0.0/0', gw: `${base}1` }, { dst: '192.0.2.0/24', gw: `${base}1` }]);
  assert.deepEqual(addressesIn(a.name, 'eth0'), [`${base}10/24`]);
  assert.deepEqual(ipJson<{ dst: string; gateway?: string }[]>(a.name, 'route', 'show').map((r) => `${r.dst} ${r.gateway ?? '-'}`).sort(), [`${base}0/24 -`, `192.0.2.0/24 ${base}1`, `default ${base}1`]);
  assert.deepEqual(hostLocalLeases(dataDir, net), [`${base}10`, `${base}11`]);
  const network = await root.network(net);
  assert.deepEqual(network.subnets, [{ subnet: cidr, gateway: `${base}1` }]);
  assert.ok(pingFrom(a.name, `${base}1`), 'a pings the gateway on the bridge');
  assert.ok(pingFrom(a.name, `${base}11`), 'a pings b');
  cniOk(root, { command: 'CHECK', containerId: 'hl-a', netns: a.path, config: { ...config, prevResult: ra }, cniPath: REFERENCE_PLUGINS });
  // nsbox connect refuses a network whose addresses are host-local's.
  const plain = `nsbt-p${process.pid % 1000}`;
  await root.json('create', plain);
  const refused = await root.fails(2, 'connect', net, plain);
  assert.match(refused.error, /takes its addresses from the CNI IPAM plugin host-local/);
  await root.ok('rm', plain);

  // An ADD that fails after host-local ran (its host port is taken): host-local's DEL runs too.
  const c = runtimeNetns(t);
  const port = 22000 + Math.floor(Math.random() * 20000);
  const withPort = (): Record<string, unknown> => ({ ...config, capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort: port, containerPort: 80, protocol: 'tcp' }] } });
  cniOk(root, { command: 'DEL', containerId: 'hl-b', netns: b.path, config, cniPath: REFERENCE_PLUGINS });
  cniOk(root, { command: 'ADD', containerId: 'hl-b', netns: b.path, config: withPort(), cniPath: REFERENCE_PLUGINS });
  const veths = hostVeths().length;
  cniFails(root, { command: 'ADD', containerId: 'hl-c', netns: c.path, config: withPort(), cniPath: REFERENCE_PLUGINS }, 100);
  assert.equal(hostVeths().length, veths);
  assert.deepEqual(ipJson<{ ifname: string }[]>(c.name, 'link', 'show').map((l) => l.ifname), ['lo']);
  assert.equal(hostLocalLeases(dataDir, net).length, 2, 'host-local gave c an address and took it back');

  for (const [id, ns] of [['hl-a', a], ['hl-b', b]] as const) {
    cniOk(root, { command: 'DEL', containerId: id, netns: ns.path, config, cniPath: REFERENCE_PLUGINS });
    cniOk(root, { command: 'DEL', containerId: id, netns: ns.path, config, cniPath: REFERENCE_PLUGINS }); // twice
  }
  assert.deepEqual(hostLocalLeases(dataDir, net), []);
  assert.deepEqual(await cniRecords(root), []);
  assert.deepEqual((await root.network(net)).leases, []);
});

test('static: the address it is given; a second container with the same one is refused (100) with nothing left', async (t) => {
  if (skipIfMissing(t, 'cni-plugins', referencePluginsMissing('static'))) return;
  const root = rootForTest(t);
  const net = networkName();
  const { base } = uniqueSubnet();
  const config = conf(net, { type: 'static', addresses: [{ address: `${base}5/24`, gateway: `${base}1` }] }, { isDefaultGateway: true });
  const a = runtimeNetns(t);
  const b = runtimeNetns(t);
  const r = cniOk(root, { command: 'ADD', containerId: 'st-a', netns: a.path, config, cniPath: REFERENCE_PLUGINS }) as unknown as Result;
  assert.equal(r.ips[0]!.address, `${base}5/24`);
  assert.deepEqual(r.routes, [{ dst: '0.0.0.0/0', gw: `${base}1` }]);
  assert.deepEqual(addressesIn(a.name, 'eth0'), [`${base}5/24`]);
  const refused = cniFails(root, { command: 'ADD', containerId: 'st-b', netns: b.path, config, cniPath: REFERENCE_PLUGINS }, 100);
  assert.match(String(refused.details), new RegExp(`gave ${base.replaceAll('.', '\\.')}5, which another attachment`));
  assert.deepEqual(ipJson<{ ifname: string }[]>(b.name, 'link', 'show').map((l) => l.ifname), ['lo']);
  assert.equal((await cniRecords(root)).length, 1);
  // A static address outside the subnet the network learned: refused (7), nothing left.
  const other = uniqueSubnet();
  const c = runtimeNetns(t);
  const elsewhere = conf(net, { type: 'static', addresses: [{ address: `${other.base}5/24` }] });
  const bad = cniFails(root, { command: 'ADD', containerId: 'st-c', netns: c.path, config: elsewhere, cniPath: REFERENCE_PLUGINS }, 7);
  assert.match(String(bad.msg) + String(bad.details), /one subnet per family/);
  cniOk(root, { command: 'DEL', containerId: 'st-a', netns: a.path, config, cniPath: REFERENCE_PLUGINS });
  assert.deepEqual(await cniRecords(root), []);
});

test('dhcp: the dhcp plugin\'s daemon asks udhcpd on the bridge from inside the container; DEL is passed on to it and leaves nothing of nsbox', async (t) => {
  if (skipIfMissing(t, 'cni-plugins', referencePluginsMissing('dhcp', 'busybox'))) return;
  const root = rootForTest(t);
  const net = networkName();
  const { base } = uniqueSubnet();
  const bridge = `br${net}`.slice(0, 15);
  const dir = tempDir(t);
  // The DHCP server's side: a bridge holding the router address (nsbox adopts it, and leaves it).
  execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
  t.after(() => { spawnSync('ip', ['link', 'del', bridge]); });
  execFileSync('ip', ['addr', 'add', `${base}1/24`, 'dev', bridge]);
  execFileSync('ip', ['link', 'set', bridge, 'up']);
  writeFileSync(join(dir, 'udhcpd.conf'), [
    `interface ${bridge}`, `start ${base}100`, `end ${base}120`, `option router ${base}1`, 'option subnet 255.255.255.0',
    'option lease 600', `lease_file ${join(dir, 'leases')}`, `pidfile ${join(dir, 'udhcpd.pid')}`, '',
  ].join('\n'));
  writeFileSync(join(dir, 'leases'), '');
  const server = spawn('/bin/busybox', ['udhcpd', '-f', join(dir, 'udhcpd.conf')], { stdio: 'ignore' });
  t.after(() => { server.kill(); });
  const socket = join(dir, 'dhcp.sock');
  const daemon = spawn(`${REFERENCE_PLUGINS}/dhcp`, ['daemon', '-socketpath', socket], { stdio: 'ignore' });
  t.after(() => { daemon.kill(); });
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(socket), 'the dhcp daemon listens');

  const config = conf(net, { type: 'dhcp', daemonSocketPath: socket }, { isDefaultGateway: true });
  const a = runtimeNetns(t);
  const r = cniOk(root, { command: 'ADD', containerId: 'dh-a', netns: a.path, config, cniPath: REFERENCE_PLUGINS }) as unknown as Result;
  const address = r.ips[0]!.address;
  assert.match(address, new RegExp(`^${base.replaceAll('.', '\\.')}1[0-2]\\d/24$`));
  assert.equal(r.ips[0]!.gateway, `${base}1`);
  assert.deepEqual(addressesIn(a.name, 'eth0'), [address]);
  assert.ok(pingFrom(a.name, `${base}1`), 'the container pings the router');
  assert.deepEqual((await root.network(net)).subnets, [{ subnet: `${base}0/24`, gateway: `${base}1` }]);
  cniOk(root, { command: 'DEL', containerId: 'dh-a', netns: a.path, config, cniPath: REFERENCE_PLUGINS });
  assert.deepEqual(await cniRecords(root), []);
  assert.ok(links().some((l) => l.ifname === bridge), 'an adopted bridge stays');
});
