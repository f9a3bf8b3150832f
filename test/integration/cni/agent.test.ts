/**
 * Integration (root, throwaway host): the native nsbox-cni shim (build/Release/nsbox-cni) run
 * as a runtime runs a plugin, with the nsbox agent (`nsbox agent`) serving it and without.
 * Through the agent: ADD, CHECK, DEL, one log line per call and no stdin in the log, the
 * socket 0600; 30 parallel ADDs get distinct addresses and all DEL cleanly (no record, lease
 * or host link left). Without an agent (no socket, a stale one of an agent killed with
 * SIGKILL): the shim runs the in-process plugin, also installed by `nsbox cni install` as a
 * copy and as a symlink. A second agent on a socket is refused; a stale socket is replaced. A
 * call waiting for a sandbox lock another process holds does not stop the agent serving
 * others; an agent killed in the middle of an ADD answers it with 11, and DEL then cleans up;
 * SIGTERM lets a call in flight finish, and removes the socket.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { finished, rootForTest, waitForOutput, type NsboxRoot, type SandboxJson } from '../../helpers/cli.js';
import { links } from '../../helpers/host-links.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { randomName } from '../../helpers/names.js';

const SHIM = fileURLToPath(new URL('../../../../build/Release/nsbox-cni', import.meta.url));

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
}

interface Call {
  command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION';
  containerId?: string;
  netns?: string;
  ifname?: string;
  config: Record<string, unknown>;
}

function envOf(root: NsboxRoot, call: Call): Record<string, string> {
  const attachment: Record<string, string> = call.containerId === undefined ? {} : { CNI_CONTAINERID: call.containerId, CNI_NETNS: call.netns ?? '', CNI_IFNAME: call.ifname ?? 'eth0' };
  return { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', NSBOX_ROOT: root.root, CNI_COMMAND: call.command, CNI_PATH: '/opt/cni/bin', ...attachment };
}

/** Run the plugin binary `bin` as libcni does; resolves when it exits. */
function cni(root: NsboxRoot, call: Call, bin = SHIM): Promise<Outcome> {
  const child = spawn(bin, [], { env: envOf(root, call) });
  child.stdin.end(JSON.stringify(call.config));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve) => child.on('close', (status) => {
    resolve({ status, stdout, stderr, json: stdout.trim() === '' ? undefined : JSON.parse(stdout) as Record<string, unknown> });
  }));
}

async function ok(root: NsboxRoot, call: Call, bin = SHIM): Promise<Record<string, unknown> | undefined> {
  const res = await cni(root, call, bin);
  assert.equal(res.status, 0, `${call.command}: ${res.stdout}${res.stderr}`);
  return res.json;
}

function runtimeNetns(t: TestContext): { name: string; path: string } {
  const name = randomName();
  execFileSync('ip', ['netns', 'add', name]);
  t.after(() => { spawnSync('ip', ['netns', 'del', name]); });
  return { name, path: `/run/netns/${name}` };
}

function conf(network: string, subnet: string): Record<string, unknown> {
  return { cniVersion: '1.0.0', name: network, type: 'nsbox-cni', bridge: `br${network}`.slice(0, 15), isGateway: true, isDefaultGateway: true, ipMasq: false, ipam: { type: 'nsbox', subnet } };
}

const addressOf = (result: Record<string, unknown> | undefined): string => (result as { ips: { address: string }[] }).ips[0]!.address;
const cniRecords = async (root: NsboxRoot): Promise<SandboxJson[]> => (await root.json<SandboxJson[]>('ls')).filter((s) => s.name.startsWith('cni-'));
const hostVeths = (): string[] => links().filter((l) => l.ifname.startsWith('vnsb')).map((l) => l.ifname);
const socketOf = (root: NsboxRoot): string => `${root.root}/agent.sock`;

/** What the agent printed so far, collected from its stderr. */
interface RunningAgent {
  child: ChildProcessWithoutNullStreams;
  log: () => string;
}

/** `nsbox agent` on the root, once it listens. */
async function startAgent(root: NsboxRoot, ...args: string[]): Promise<RunningAgent> {
  const child = root.start(['agent', ...args]);
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { log += d; });
  await waitForOutput(child, 'stderr', 'listening on');
  return { child, log: () => log };
}

async function stopAgent(agent: RunningAgent): Promise<void> {
  const exited = once(agent.child, 'exit');
  agent.child.kill('SIGTERM');
  const [code] = await exited as [number | null];
  assert.equal(code, 0, agent.log());
}

/** The lock file of an attachment's sandbox record (cni/managed-backend.ts attachmentName). */
function attachmentLock(root: NsboxRoot, network: string, containerId: string, ifname = 'eth0'): string {
  return `${root.root}/locks/cni-${createHash('sha256').update(`${network}\0${containerId}\0${ifname}`).digest('hex').slice(0, 16)}.lock`;
}

/** Another process holding `file`'s flock until killed. */
async function holdLock(t: TestContext, file: string): Promise<ChildProcess> {
  mkdirSync(dirname(file), { recursive: true });
  // One process (sh becomes sleep) holds the lock: killing it releases it.
  const child = spawn('sh', ['-c', 'exec 9>>"$1" && flock 9 && echo held && exec sleep 600', 'sh', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { child.kill('SIGKILL'); });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return child;
}

/** Until process `pid` has `file` open (the agent waiting for that lock). */
async function waitOpened(pid: number, file: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const fds = readdirSync(`/proc/${pid}/fd`);
    if (fds.some((fd) => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`) === file; } catch { return false; } })) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`process ${pid} never opened ${file}`);
}

async function leftNothing(root: NsboxRoot, net: string): Promise<void> {
  assert.deepEqual(await cniRecords(root), []);
  assert.deepEqual((await root.network(net)).leases, []);
  assert.deepEqual(hostVeths(), []);
}

test('through the agent: ADD, CHECK, DEL; one log line per call without the config; the socket is 0600 in a 0700 directory', async (t) => {
  const root = rootForTest(t);
  const agent = await startAgent(root);
  const socket = statSync(socketOf(root));
  assert.ok(socket.isSocket());
  assert.equal(socket.mode & 0o777, 0o600);
  assert.equal(statSync(root.root).mode & 0o777, 0o700);

  const net = networkName();
  const { cidr, base } = uniqueSubnet();
  const a = runtimeNetns(t);
  const config = conf(net, cidr);
  const result = await ok(root, { command: 'ADD', containerId: 'ctr-a', netns: a.path, config });
  assert.match(addressOf(result), new RegExp(`^${base.replaceAll('.', '\\.')}\\d+/24$`));
  assert.equal((await cniRecords(root)).length, 1);
  await ok(root, { command: 'CHECK', containerId: 'ctr-a', netns: a.path, config: { ...config, prevResult: result } });
  const unknown = await cni(root, { command: 'CHECK', containerId: 'ctr-zz', netns: a.path, config: { ...config, prevResult: result } });
  assert.equal(unknown.status, 1);
  assert.equal(unknown.json?.code, 3);
  const version = await ok(root, { command: 'VERSION', config: { cniVersion: '1.0.0' } });
  assert.ok((version?.supportedVersions as string[]).includes('1.1.0'));
  // Two DELs of one attachment at once: both take its lock in the agent's one process (a
  // blocking flock there would deadlock), one removes it, the other finds nothing.
  const dels = await Promise.all([0, 1].map(() => cni(root, { command: 'DEL', containerId: 'ctr-a', netns: a.path, config })));
  for (const d of dels) assert.equal(d.status, 0, `${d.stdout}${d.stderr}`);
  await leftNothing(root, net);

  await stopAgent(agent);
  const lines = agent.log().split('\n').filter((l) => / ms /.test(l));
  assert.deepEqual(lines.map((l) => l.replace(/ [\d.]+ ms /, ' _ ms ')), [
    'nsbox agent: cni ADD ctr-a eth0 _ ms exit 0',
    'nsbox agent: cni CHECK ctr-a eth0 _ ms exit 0',
    'nsbox agent: cni CHECK ctr-zz eth0 _ ms exit 1',
    'nsbox agent: cni VERSION _ ms exit 0',
    'nsbox agent: cni DEL ctr-a eth0 _ ms exit 0',
    'nsbox agent: cni DEL ctr-a eth0 _ ms exit 0',
  ]);
  assert.ok(!agent.log().includes(cidr), 'the config is never logged');
  assert.ok(!existsSync(socketOf(root)), 'SIGTERM removed the socket');
});

test('30 parallel ADDs through the agent: distinct addresses, one network; 30 parallel DELs leave nothing', async (t) => {
  const root = rootForTest(t);
  const agent = await startAgent(root);
  const net = networkName();
  const { cidr } = uniqueSubnet();
  const config = conf(net, cidr);
  const spaces = Array.from({ length: 30 }, () => runtimeNetns(t));
  const adds = await Promise.all(spaces.map((ns, i) => cni(root, { command: 'ADD', containerId: `ctr-${i}`, netns: ns.path, config })));
  for (const o of adds) assert.equal(o.status, 0, `${o.stdout}${o.stderr}`);
  assert.equal(new Set(adds.map((o) => addressOf(o.json))).size, spaces.length);
  assert.equal((await cniRecords(root)).length, spaces.length);
  assert.equal((await root.network(net)).leases.length, spaces.length);
  const dels = await Promise.all(spaces.map((ns, i) => cni(root, { command: 'DEL', containerId: `ctr-${i}`, netns: ns.path, config })));
  for (const o of dels) assert.equal(o.status, 0, `${o.stdout}${o.stderr}`);
  await leftNothing(root, net);
  await stopAgent(agent);
  assert.equal(agent.log().split('\n').filter((l) => / exit 0$/.test(l)).length, 60);
});

test('no agent: the shim runs the plugin in-process, also installed by `nsbox cni install` as a copy and as a symlink', async (t) => {
  const root = rootForTest(t);
  const binDir = `/run/${randomName('nsbt-bin-')}`;
  t.after(() => rmSync(binDir, { recursive: true, force: true }));
  const missing = await root.fails(3, 'cni', 'install', '--bin-dir', binDir);
  assert.match(missing.error, /does not exist/);
  mkdirSync(binDir);
  writeFileSync(`${binDir}/afile`, '');
  assert.match((await root.fails(2, 'cni', 'install', '--bin-dir', `${binDir}/afile`)).error, /not a directory/);

  const copy = await root.json<{ path: string; mode: string; action: string }>('cni', 'install', '--bin-dir', binDir);
  assert.deepEqual([copy.path, copy.mode, copy.action], [`${binDir}/nsbox-cni`, 'copy', 'installed']);
  assert.ok(lstatSync(copy.path).isFile());
  assert.equal(statSync(copy.path).mode & 0o777, 0o755);
  assert.equal((await root.json<{ action: string }>('cni', 'install', '--bin-dir', binDir)).action, 'unchanged');
  const link = await root.json<{ path: string; mode: string; action: string }>('cni', 'install', '--bin-dir', binDir, '--name', 'nsbox-link', '--link');
  assert.deepEqual([link.mode, link.action], ['link', 'installed']);
  assert.equal(readlinkSync(link.path), SHIM);
  assert.equal((await root.json<{ action: string }>('cni', 'install', '--bin-dir', binDir, '--name', 'nsbox-link', '--link')).action, 'unchanged');
  assert.equal((await root.json<{ action: string }>('cni', 'install', '--bin-dir', binDir, '--name', 'nsbox-link')).action, 'replaced');
  assert.ok(lstatSync(link.path).isFile());

  const net = networkName();
  const { cidr } = uniqueSubnet();
  const config = conf(net, cidr);
  const a = runtimeNetns(t);
  const b = runtimeNetns(t);
  assert.ok(!existsSync(socketOf(root)));
  const ra = await ok(root, { command: 'ADD', containerId: 'ctr-a', netns: a.path, config }, copy.path);
  const rb = await ok(root, { command: 'ADD', containerId: 'ctr-b', netns: b.path, config }, SHIM);
  assert.notEqual(addressOf(ra), addressOf(rb));
  await ok(root, { command: 'CHECK', containerId: 'ctr-a', netns: a.path, config: { ...config, prevResult: ra } }, copy.path);
  await ok(root, { command: 'DEL', containerId: 'ctr-a', netns: a.path, config }, copy.path);
  await ok(root, { command: 'DEL', containerId: 'ctr-b', netns: b.path, config }, SHIM);
  await leftNothing(root, net);
});

test('an agent killed with SIGKILL: its stale socket falls back, DEL works; a new agent replaces the socket; a second one is refused', async (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const { cidr } = uniqueSubnet();
  const config = conf(net, cidr);
  const a = runtimeNetns(t);
  const first = await startAgent(root);
  await ok(root, { command: 'ADD', containerId: 'ctr-a', netns: a.path, config });
  first.child.kill('SIGKILL');
  await once(first.child, 'exit');
  assert.ok(statSync(socketOf(root)).isSocket(), 'a SIGKILL leaves the socket file');
  await ok(root, { command: 'DEL', containerId: 'ctr-a', netns: a.path, config }); // refused: in-process
  await leftNothing(root, net);

  const second = await startAgent(root);
  const refused = await finished(root.start(['agent']));
  assert.equal(refused.code, 4, refused.stderr);
  assert.match(refused.stderr, /another nsbox agent serves .*agent\.sock/);
  await ok(root, { command: 'ADD', containerId: 'ctr-a', netns: a.path, config });
  await ok(root, { command: 'DEL', containerId: 'ctr-a', netns: a.path, config });
  await stopAgent(second);
  assert.equal(second.log().split('\n').filter((l) => / ms exit 0$/.test(l)).length, 2, second.log());
  await leftNothing(root, net);
});

test('a call waiting for a lock another process holds does not stop the agent; SIGKILL mid-ADD answers 11 and DEL cleans up; SIGTERM finishes the call in flight', async (t) => {
  const root = rootForTest(t);
  const net = networkName();
  const { cidr } = uniqueSubnet();
  const config = conf(net, cidr);
  const [a, b, c] = [runtimeNetns(t), runtimeNetns(t), runtimeNetns(t)];
  let agent = await startAgent(root);
  await ok(root, { command: 'ADD', containerId: 'ctr-b', netns: b.path, config }); // the network exists

  // ctr-a's lock held elsewhere: its ADD waits, ctr-c's is served meanwhile.
  let holder = await holdLock(t, attachmentLock(root, net, 'ctr-a'));
  let waiting = cni(root, { command: 'ADD', containerId: 'ctr-a', netns: a.path, config });
  await waitOpened(agent.child.pid!, attachmentLock(root, net, 'ctr-a'));
  await ok(root, { command: 'ADD', containerId: 'ctr-c', netns: c.path, config });
  await ok(root, { command: 'DEL', containerId: 'ctr-c', netns: c.path, config });
  agent.child.kill('SIGKILL');
  const broken = await waiting;
  assert.equal(broken.status, 1, broken.stderr);
  assert.equal(broken.json?.code, 11);
  assert.equal(broken.json?.cniVersion, '1.0.0');
  holder.kill('SIGKILL');
  await ok(root, { command: 'DEL', containerId: 'ctr-a', netns: a.path, config }); // in-process: no agent
  assert.deepEqual((await cniRecords(root)).length, 1);

  // SIGTERM with ctr-a's ADD in flight: it finishes and is answered, new calls go in-process.
  agent = await startAgent(root);
  holder = await holdLock(t, attachmentLock(root, net, 'ctr-a'));
  waiting = cni(root, { command: 'ADD', containerId: 'ctr-a', netns: a.path, config });
  await waitOpened(agent.child.pid!, attachmentLock(root, net, 'ctr-a'));
  const exited = once(agent.child, 'exit');
  agent.child.kill('SIGTERM');
  await waitForOutput(agent.child, 'stderr', 'SIGTERM');
  await ok(root, { command: 'DEL', containerId: 'ctr-b', netns: b.path, config }); // in-process meanwhile
  assert.ok(!agent.log().includes('DEL ctr-b'));
  holder.kill('SIGKILL');
  const served = await waiting;
  assert.equal(served.status, 0, `${served.stdout}${served.stderr}`);
  assert.equal(((await exited) as [number | null])[0], 0);
  assert.match(agent.log(), /cni ADD ctr-a eth0 [\d.]+ ms exit 0/);
  assert.ok(!existsSync(socketOf(root)));
  await ok(root, { command: 'DEL', containerId: 'ctr-a', netns: a.path, config });
  await leftNothing(root, net);
});
