/**
 * Integration (root, throwaway host; Debian's podman 4.3.1, crun, conmon, busybox-static): a real
 * runtime on nsbox-cni. podman with `--network-backend cni`, no image (a busybox rootfs), all
 * its state on tmpfs (test/helpers/podman.ts), a private containers.conf whose CNI config
 * directory holds nsbox-cni networks and whose plugin directory has nsbox-cni linked in. Two
 * containers get their addresses and ping each other, and show in `nsbox ls` while they run; a
 * published port (`-p`, libcni's runtimeConfig.portMappings) answers from the host; `podman rm
 * -f` and `run --rm` (whose DEL runs in conmon's cleanup process with a reduced environment)
 * leave nothing: no attachment record, lease, host veth, published port, nf_tables element,
 * podman netns file or libcni cache entry. A container on two networks gets eth0 and eth1.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { NsboxRoot, type NetworkJson } from '../../helpers/cli.js';
import { links } from '../../helpers/host-links.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { randomName } from '../../helpers/names.js';
import { nftMissing } from '../../helpers/nft.js';
import { PodmanWorld, podmanMissing } from '../../helpers/podman.js';
import { skipIfMissing } from '../../helpers/privileges.js';

const missing = podmanMissing();
let world: PodmanWorld;
let root: NsboxRoot;

interface Net {
  name: string;
  bridge: string;
  subnet: string;
  base: string;
  gateway: string;
}

function net(): Net {
  const name = networkName();
  const { cidr, base } = uniqueSubnet();
  return { name, bridge: `cp${name}`.slice(0, 15), subnet: cidr, base, gateway: `${base}1` };
}

const A = net();
const B = net();

before(() => {
  if (missing !== undefined) return;
  world = new PodmanWorld();
  world.addNetwork(A.name, A.subnet, A.bridge);
  world.addNetwork(B.name, B.subnet, B.bridge, { isDefaultGateway: false });
  root = new NsboxRoot(world.nsboxRoot);
});

after(async () => {
  if (missing !== undefined) return;
  try {
    world.removeContainers();
    await root.teardown();
  } finally {
    world.close();
  }
});

interface Attachment {
  name: string;
  labels: { [key: string]: string };
  interfaces: { dstName: string; options: { ipv4?: string } }[];
}

const attachments = async (): Promise<Attachment[]> => (await root.json<Attachment[]>('ls')).filter((s) => s.name.startsWith('cni-'));

/** The libcni results cache entries of a network (podman's cache dir, /var/lib/cni, a tmpfs here). */
function cacheEntries(network: string): string[] {
  const dir = '/var/lib/cni/results';
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(`${network}-`)) : [];
}

/**
 * What is left of podman's containers on the networks `nets`: attachment records, leases, host
 * veths on their bridges, published ports, podman's netns files, libcni's cache entries.
 */
async function leftovers(...nets: Net[]): Promise<string[]> {
  const out: string[] = [];
  const names = new Set(nets.map((n) => n.name));
  out.push(...(await attachments()).filter((r) => names.has(r.labels['nsbox.cni/network'] ?? '')).map((r) => `record ${r.name}`));
  const known = new Set((await root.json<{ name: string }[]>('network', 'ls')).map((x) => x.name));
  for (const n of nets) {
    if (known.has(n.name)) out.push(...(await root.json<NetworkJson>('network', 'inspect', n.name)).leases.map((l) => `lease ${l.address} on ${n.name}`));
    out.push(...links().filter((l) => l.master === n.bridge).map((l) => `host veth ${l.ifname} on ${n.bridge}`));
    out.push(...cacheEntries(n.name).map((f) => `libcni cache ${f}`));
  }
  out.push(...(await root.json<{ sandbox: string; hostPort: number }[]>('port', 'ls')).map((p) => `published port ${p.hostPort} of ${p.sandbox}`));
  out.push(...PodmanWorld.netnsFiles().map((f) => `podman netns ${f}`));
  return out;
}

/** nf_tables elements naming nsbox-cni's attachments (`sandbox=cni-…` comments), from nft. */
function nftAttachmentElements(): string[] {
  return execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('sandbox=cni-')).map((l) => l.trim());
}

function httpGet(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/index.html', timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve(body)).on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy()).on('error', () => resolve(undefined)).end();
  });
}

/** The body httpd serves at host:port, once it listens (httpd starts after `run -d` returns). */
async function served(host: string, port: number): Promise<string | undefined> {
  for (let i = 0; i < 50; i++) {
    const body = await httpGet(host, port);
    if (body !== undefined) return body;
    await sleep(100);
  }
  return undefined;
}

test('two podman containers on an nsbox-cni network: their addresses, pings both ways, `nsbox ls` shows them; `podman rm -f` leaves nothing', async (t) => {
  if (skipIfMissing(t, 'podman', missing)) return;
  const [c1, c2] = [randomName('c1-'), randomName('c2-')];
  for (const c of [c1, c2]) {
    const res = world.run(['-d', '--name', c, '--network', A.name], '/bin/sleep', '600');
    assert.equal(res.status, 0, `podman run ${c}: ${res.stderr}${res.stdout}`);
  }
  const addr1 = world.address(c1, A.name);
  const addr2 = world.address(c2, A.name);
  assert.ok(addr1.startsWith(A.base) && addr2.startsWith(A.base) && addr1 !== addr2, `${addr1} ${addr2} in ${A.subnet}`);
  assert.match(world.ok('exec', c1, 'ip', '-4', '-o', 'addr', 'show', 'eth0'), new RegExp(`inet ${addr1.replaceAll('.', '\\.')}/24`));
  assert.match(world.ok('exec', c1, 'ip', 'route'), new RegExp(`default via ${A.gateway.replaceAll('.', '\\.')} dev eth0`));

  const ping = (from: string, to: string): void => {
    const res = world.podman('exec', from, 'ping', '-c', '1', '-W', '2', to);
    assert.equal(res.status, 0, `${from} pings ${to}: ${res.stdout}${res.stderr}`);
  };
  ping(c1, addr2);
  ping(c2, addr1);
  ping(c1, A.gateway);

  // While they run: one nsbox attachment each, labelled with podman's container id and netns.
  const records = await attachments();
  const ids = [c1, c2].map((c) => world.ok('inspect', c, '--format', '{{.Id}}').trim());
  assert.deepEqual(records.map((r) => r.labels['nsbox.cni/container']).sort(), [...ids].sort());
  for (const r of records) {
    assert.equal(r.labels['nsbox.cni/network'], A.name);
    assert.equal(r.labels['nsbox.cni/ifname'], 'eth0');
    assert.match(r.labels['nsbox.external-netns'] ?? '', /^\/run\/netns\/netns-/);
  }
  assert.deepEqual(records.map((r) => r.interfaces[0]?.options.ipv4).sort(), [`${addr1}/24`, `${addr2}/24`].sort());
  assert.equal(links().filter((l) => l.master === A.bridge).length, 2, 'two host veths on the bridge');
  assert.equal(cacheEntries(A.name).length, 2, 'podman\'s libcni cached both results');

  world.ok('rm', '-f', '-t', '0', c1, c2);
  assert.deepEqual(await leftovers(A), []);
});

test('a published port (-p HOSTPORT:8080) answers from the host on 127.0.0.1 and the gateway address; `podman rm -f` unpublishes it', async (t) => {
  if (skipIfMissing(t, 'podman', missing)) return;
  if (skipIfMissing(t, 'nft', nftMissing())) return;
  const c = randomName('web-');
  const hostPort = 20_000 + Math.floor(Math.random() * 20_000);
  const res = world.run(['-d', '--name', c, '--network', A.name, '-p', `${hostPort}:8080`], '/bin/httpd', '-f', '-p', '8080', '-h', '/www');
  assert.equal(res.status, 0, `podman run -p ${hostPort}:8080: ${res.stderr}${res.stdout}`);
  const ports = await root.json<{ sandbox: string; hostPort: number }[]>('port', 'ls');
  assert.deepEqual(ports.map((p) => p.hostPort), [hostPort], JSON.stringify(ports));
  assert.ok(nftAttachmentElements().some((l) => l.includes(`port=${hostPort}/tcp`)), nftAttachmentElements().join('\n'));
  assert.equal((await served('127.0.0.1', hostPort))?.trim(), world.token, `127.0.0.1:${hostPort}`);
  assert.equal((await served(A.gateway, hostPort))?.trim(), world.token, `${A.gateway}:${hostPort}`);

  world.ok('rm', '-f', '-t', '0', c);
  assert.deepEqual(await leftovers(A), []);
  assert.deepEqual(nftAttachmentElements(), []);
  assert.equal(await httpGet('127.0.0.1', hostPort), undefined, 'nothing answers on the port any more');
});

test('`podman run --rm` on two networks: eth0 and eth1 with an address of each; the DEL from conmon\'s cleanup process leaves nothing', async (t) => {
  if (skipIfMissing(t, 'podman', missing)) return;
  const res = world.run(['--rm', '--network', `${A.name},${B.name}`], '/bin/ip', '-4', '-o', 'addr', 'show');
  assert.equal(res.status, 0, `${res.stderr}${res.stdout}`);
  const byIf = new Map(res.stdout.split('\n').map((l) => /^\d+: (\S+)\s+inet (\S+)/.exec(l)).filter((m) => m !== null).map((m) => [m[1]!, m[2]!]));
  const inA = [...byIf].find(([, a]) => a.startsWith(A.base));
  const inB = [...byIf].find(([, a]) => a.startsWith(B.base));
  assert.ok(inA !== undefined && inB !== undefined, res.stdout);
  assert.deepEqual([inA[0], inB[0]].sort(), ['eth0', 'eth1']);
  // The cleanup process may still be finishing when `run --rm` returns.
  let left: string[] = [];
  for (let i = 0; i < 50; i++) {
    left = await leftovers(A, B);
    if (left.length === 0) break;
    await sleep(100);
  }
  assert.deepEqual(left, []);
});
