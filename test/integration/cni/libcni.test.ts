/**
 * Integration (root, throwaway host; Debian's golang-go and golang-github-appc-cni-dev): nsbox-cni
 * driven by libcni itself, the library runtimes call (podman, CRI-O, containerd's go-cni),
 * through the tests' own driver (test/fixtures/libcni-driver, built here once, offline, against
 * the packaged libcni 1.1.2). libcni 1.1.2 has no GC or STATUS (they came with libcni 1.2 and
 * spec 1.1.0); what it has is run: VERSION (GetVersionInfo, ValidateNetworkList), ADD, CHECK,
 * DEL, the cached result, and a 1.1.0 conflist, whose results libcni 1.1.2 cannot read.
 * Checked against the kernel (the address in the namespace, the host veth on the bridge, both
 * gone after DEL) and against libcni's own cache (the result written under CacheDir/results on
 * ADD, read back as CHECK's and DEL's prevResult, removed by DEL).
 */
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootForTest, type NetworkJson, type NsboxRoot, type SandboxJson } from '../../helpers/cli.js';
import { cniPluginDir } from '../../helpers/cni-plugin-dir.js';
import { addressesIn, runtimeNetns } from '../../helpers/cni-plugin.js';
import { links } from '../../helpers/host-links.js';
import { buildLibcniDriver, libcniMissing, runDriver, type DriverCall, type DriverOutcome } from '../../helpers/libcni-driver.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { randomName } from '../../helpers/names.js';
import { skipIfMissing } from '../../helpers/privileges.js';

const missing = libcniMissing();
let work = '';
let driver = '';
let pluginDir = '';

before(() => {
  if (missing !== undefined) return;
  work = mkdtempSync('/run/nsbt-libcni-');
  driver = buildLibcniDriver(work);
  pluginDir = cniPluginDir(join(work, 'bin'));
});

after(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

interface Net {
  root: NsboxRoot;
  name: string;
  bridge: string;
  gateway: string;
  conflist: string;
  cacheDir: string;
}

/** A network of its own: a conflist file for nsbox-cni with nsbox's IPAM, a state root, a libcni cache dir. */
function network(t: TestContext, extra: Record<string, unknown> = {}, cniVersion = '1.0.0'): Net {
  const root = rootForTest(t);
  const name = networkName();
  const { cidr, base } = uniqueSubnet();
  const bridge = `cb${name}`.slice(0, 15);
  const conflist = join(work, `${name}.conflist`);
  writeFileSync(conflist, JSON.stringify({
    cniVersion, name, plugins: [{
      type: 'nsbox-cni', bridge, isGateway: true, isDefaultGateway: true,
      ipam: { type: 'nsbox', ranges: [[{ subnet: cidr }]] }, ...extra,
    }],
  }));
  const cacheDir = join(work, `cache-${name}`);
  return { root, name, bridge, gateway: `${base}1`, conflist, cacheDir };
}

function call(net: Net, command: DriverCall['command'], more: Partial<DriverCall> = {}): DriverOutcome {
  return runDriver(driver, {
    command, conflist: net.conflist, path: pluginDir, cacheDir: net.cacheDir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NSBOX_ROOT: net.root.root }, ...more,
  });
}

function ok(net: Net, command: DriverCall['command'], more: Partial<DriverCall> = {}): unknown {
  const res = call(net, command, more);
  assert.equal(res.status, 0, `libcni ${command}: ${JSON.stringify(res.json)} ${res.stderr}`);
  return res.json.result;
}

interface Result {
  cniVersion: string;
  interfaces: { name: string; mac?: string; sandbox?: string }[];
  ips: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
}

const cacheFile = (net: Net, id: string, ifname = 'eth0'): string => join(net.cacheDir, 'results', `${net.name}-${id}-${ifname}`);
const cniRecords = async (root: NsboxRoot): Promise<SandboxJson[]> => (await root.json<SandboxJson[]>('ls')).filter((s) => s.name.startsWith('cni-'));

test('VERSION through libcni: GetVersionInfo lists 1.0.0 and 1.1.0; ValidateNetworkList accepts the conflist and reports its capabilities', (t) => {
  if (skipIfMissing(t, 'libcni', missing)) return;
  const net = network(t, { capabilities: { portMappings: true } });
  const versions = ok(net, 'version') as string[];
  for (const v of ['0.3.1', '0.4.0', '1.0.0', '1.1.0']) assert.ok(versions.includes(v), `${v} in ${JSON.stringify(versions)}`);
  assert.deepEqual(ok(net, 'validate'), ['portMappings']);
});

test('ADD, CHECK, DEL through libcni: the kernel, the result and libcni\'s cache agree; DEL leaves nothing, twice', async (t) => {
  if (skipIfMissing(t, 'libcni', missing)) return;
  const net = network(t);
  const ns = runtimeNetns(t);
  const id = `ctr${randomName('')}`;
  const at = { netns: ns.path, containerId: id, ifname: 'eth0' };

  const result = ok(net, 'add', at) as Result;
  assert.equal(result.cniVersion, '1.0.0');
  assert.equal(result.ips.length, 1);
  const ip = result.ips[0]!;
  assert.equal(ip.gateway, net.gateway);
  const iface = result.interfaces[ip.interface!]!;
  assert.equal(iface.name, 'eth0');
  assert.equal(iface.sandbox, ns.path);
  assert.deepEqual(result.routes, [{ dst: '0.0.0.0/0', gw: net.gateway }]);
  // The kernel: the address in the namespace, the host veth (the result's other interface) on the bridge.
  assert.deepEqual(addressesIn(ns.name, 'eth0'), [ip.address]);
  const hostVeth = result.interfaces.find((i) => i.sandbox === undefined && i.name !== net.bridge);
  assert.ok(hostVeth !== undefined, JSON.stringify(result.interfaces));
  assert.equal(links().find((l) => l.ifname === hostVeth.name)?.master, net.bridge);
  assert.ok(result.interfaces.some((i) => i.name === net.bridge));
  // nsbox's view: one attachment, labelled with libcni's container id.
  const records = await cniRecords(net.root);
  assert.equal(records.length, 1);
  assert.equal((await net.root.json<{ labels: Record<string, string> }>('inspect', records[0]!.name)).labels['nsbox.cni/container'], id);

  // libcni's cache: ADD wrote the result there; GetNetworkListCachedResult reads it back.
  const cached = JSON.parse(readFileSync(cacheFile(net, id), 'utf8')) as { kind: string; containerId: string; ifName: string; networkName: string; result: Result };
  assert.equal(cached.kind, 'cniCacheV1');
  assert.deepEqual([cached.containerId, cached.ifName, cached.networkName], [id, 'eth0', net.name]);
  assert.deepEqual(cached.result.ips, result.ips);
  assert.deepEqual(ok(net, 'cached', at), result);

  // CHECK passes; it reads prevResult from the cache: an address the cache claims but the
  // kernel lacks makes the plugin fail it (101), and the true cache makes it pass again.
  ok(net, 'check', at);
  const wrong = structuredClone(cached);
  const other = ip.address.replace(/\.(\d+)\//, (_m, n: string) => `.${Number(n) + 100}/`);
  wrong.result.ips = [{ ...ip, address: other }];
  writeFileSync(cacheFile(net, id), JSON.stringify(wrong));
  const bad = call(net, 'check', at);
  assert.equal(bad.status, 1, JSON.stringify(bad.json));
  assert.equal(bad.json.code, 101, JSON.stringify(bad.json));
  assert.match(bad.json.details ?? '', new RegExp(other.split('/')[0]!.replaceAll('.', '\\.')));
  writeFileSync(cacheFile(net, id), JSON.stringify(cached));
  ok(net, 'check', at);
  // The interface down: CHECK through libcni fails with the plugin's code.
  execFileSync('ip', ['-n', ns.name, 'link', 'set', 'eth0', 'down']);
  const down = call(net, 'check', at);
  assert.equal(down.json.code, 101, JSON.stringify(down.json));

  // DEL: libcni removes its cache entry; the kernel and nsbox hold nothing of the attachment.
  ok(net, 'del', at);
  assert.equal(existsSync(cacheFile(net, id)), false, 'libcni removed its cache entry');
  assert.deepEqual(addressesIn(ns.name, 'eth0'), []);
  assert.ok(!links(ns.name).some((l) => l.ifname === 'eth0'), 'the container interface is gone');
  assert.ok(!links().some((l) => l.ifname === hostVeth.name), 'the host veth is gone');
  assert.deepEqual(await cniRecords(net.root), []);
  assert.deepEqual((await net.root.json<NetworkJson>('network', 'inspect', net.name)).leases, []);
  ok(net, 'del', at);
  // After DEL there is no cached result: libcni sends CHECK without prevResult, which the plugin refuses.
  const gone = call(net, 'check', at);
  assert.equal(gone.json.code, 7, JSON.stringify(gone.json));
});

test('two containers through libcni ping each other; a failed ADD writes no cache entry and leaves nothing', async (t) => {
  if (skipIfMissing(t, 'libcni', missing)) return;
  const net = network(t);
  const a = runtimeNetns(t);
  const b = runtimeNetns(t);
  const ra = ok(net, 'add', { netns: a.path, containerId: 'ctr-a' }) as Result;
  const rb = ok(net, 'add', { netns: b.path, containerId: 'ctr-b' }) as Result;
  const addrB = rb.ips[0]!.address.split('/')[0]!;
  assert.equal(spawnSync('ip', ['netns', 'exec', a.name, 'ping', '-c', '1', '-W', '2', addrB]).status, 0, `a (${ra.ips[0]!.address}) pings b (${addrB})`);

  // ADD into a namespace that already has eth0 fails in the plugin (100): no cache entry, no record.
  const again = call(net, 'add', { netns: a.path, containerId: 'ctr-c' });
  assert.equal(again.status, 1, JSON.stringify(again.json));
  assert.equal(again.json.code, 100, JSON.stringify(again.json));
  assert.equal(existsSync(cacheFile(net, 'ctr-c')), false);
  ok(net, 'del', { netns: a.path, containerId: 'ctr-c' }); // as a runtime does after a failed ADD
  assert.deepEqual(addressesIn(a.name, 'eth0'), [ra.ips[0]!.address], 'the failed ADD and its DEL left ctr-a alone');
  assert.equal((await cniRecords(net.root)).length, 2);

  ok(net, 'del', { netns: a.path, containerId: 'ctr-a' });
  ok(net, 'del', { netns: b.path, containerId: 'ctr-b' });
  assert.deepEqual(readdirSync(join(net.cacheDir, 'results')), []);
  assert.deepEqual(await cniRecords(net.root), []);
});

test('portMappings through libcni: CapabilityArgs become runtimeConfig, the port is published while attached and gone after DEL', async (t) => {
  if (skipIfMissing(t, 'libcni', missing)) return;
  const net = network(t, { capabilities: { portMappings: true } });
  const ns = runtimeNetns(t);
  const hostPort = 20_000 + Math.floor(Math.random() * 20_000);
  const at = { netns: ns.path, containerId: 'ctr-p', portMappings: [{ hostPort, containerPort: 80, protocol: 'tcp' }] };
  ok(net, 'add', at);
  const ports = await net.root.json<{ sandbox: string; hostPort: number }[]>('port', 'ls');
  assert.deepEqual(ports.map((p) => p.hostPort), [hostPort], JSON.stringify(ports));
  ok(net, 'check', at);
  ok(net, 'del', at);
  assert.deepEqual(await net.root.json<unknown[]>('port', 'ls'), []);
  assert.deepEqual(await cniRecords(net.root), []);
});

test('a 1.1.0 conflist under libcni 1.1.2: VERSION passes, the ADD is made but libcni cannot read its result; the runtime\'s DEL cleans up', async (t) => {
  if (skipIfMissing(t, 'libcni', missing)) return;
  const net = network(t, {}, '1.1.0');
  const ns = runtimeNetns(t);
  const at = { netns: ns.path, containerId: 'ctr-v' };
  assert.deepEqual(ok(net, 'validate'), []);
  const add = call(net, 'add', at);
  assert.equal(add.status, 3, JSON.stringify(add.json));
  assert.match(add.json.error ?? '', /unsupported CNI result version "1\.1\.0"/);
  assert.equal(existsSync(cacheFile(net, 'ctr-v')), false);
  assert.equal((await cniRecords(net.root)).length, 1, 'the plugin made the attachment');
  ok(net, 'del', at);
  assert.deepEqual(await cniRecords(net.root), []);
  assert.deepEqual(addressesIn(ns.name, 'eth0'), []);
});
