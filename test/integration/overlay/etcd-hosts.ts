/**
 * Test helper (overlay control plane, end to end): simulated hosts for the etcd overlay's tests.
 * A host is a network namespace with eth0 on the etcd fixture's bridge (10.251.N.101, .102, …)
 * and a state root of its own; every command runs as `nsenter --net=H nsbox --root DIR --host H …`
 * (the namespace is the host, DIR its state), and `startAgent` runs `nsbox agent` the same way
 * with the host's lease TTL and grace. Sandboxes are reached through their /run/netns name
 * NAME@HOST. `makeHosts` returns the hosts and a dispose that kills their agents, removes their
 * sandboxes, roots and namespaces. Shared by hosts-overlay, failures and etcd-cluster tests.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { NSBOX_BIN } from '../../helpers/cli.js';
import type { TestContext } from 'node:test';
import { startEtcd, type EtcdFixture } from '../../helpers/etcd.js';
import { Etcd } from '../../../src/overlay/etcd.js';
import { makeNetns, type TestNetns } from '../../helpers/netns.js';
import { randomName } from '../../helpers/names.js';
import { clientArgv, serverArgv } from '../../helpers/probe-servers.js';
import { waitUntil } from '../../helpers/wait.js';

export interface Res { code: number | null; stdout: string; stderr: string }

export interface SimHost {
  name: string;
  ns: TestNetns;
  root: string;
  ip: string;
  agent: ChildProcess | undefined;
  log: string;
  /** The agent's lease TTL and grace, seconds. */
  ttl: number;
  grace: number;
  /** The agent's period of full reconciles, seconds (5 unless makeHosts is given one). */
  resync: number;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('NSBOX_')) delete env[k];
  return env;
}

/**
 * A one-member etcd, `count` hosts on its bridge and a client of it, all undone when the test
 * ends (the hosts first).
 */
export async function overlayWorld(t: TestContext, count: number, o: { ttl: number; grace: number; resync?: number }): Promise<{ etcd: EtcdFixture; hosts: SimHost[]; client: Etcd }> {
  const etcd = await startEtcd();
  const { hosts, dispose } = makeHosts(etcd, count, o);
  const client = Etcd.connect({ endpoints: etcd.endpoints });
  t.after(async () => {
    await dispose();
    client.close();
    await etcd.stop();
  });
  return { etcd, hosts, client };
}

/**
 * `count` hosts on the fixture's bridge (addresses .101 on, or `first` on), each with its own
 * root; `dispose` undoes everything (agents, sandboxes, roots, namespaces).
 */
export function makeHosts(etcd: EtcdFixture, count: number, o: { ttl: number; grace: number; resync?: number; first?: number }): { hosts: SimHost[]; dispose(): Promise<void> } {
  const tag = randomName('').slice(-4);
  const first = o.first ?? 1;
  const hosts: SimHost[] = [];
  const dispose = async (): Promise<void> => {
    for (const h of hosts) await killAgent(h);
    for (const h of hosts) {
      nsboxOn(h, 'rm', '--all');
      rmSync(h.root, { recursive: true, force: true });
      h.ns[Symbol.dispose]();
    }
  };
  try {
    for (let i = first; i < first + count; i++) {
      const h: SimHost = { name: `h${i}-${tag}`, ns: makeNetns(), root: `/run/${randomName('nsbt-ovl-')}`, ip: `${etcd.subnetPrefix}.${100 + i}`, agent: undefined, log: '', ttl: o.ttl, grace: o.grace, resync: o.resync ?? 5 };
      hosts.push(h);
      const veth = `${etcd.bridge.slice(0, 11)}h${i}`;
      for (const cmd of [
        ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns.name],
        ['link', 'set', veth, 'master', etcd.bridge, 'up'],
        ['-n', h.ns.name, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0'],
        ['-n', h.ns.name, 'link', 'set', 'eth0', 'up'],
        ['-n', h.ns.name, 'link', 'set', 'lo', 'up'],
      ]) assert.equal(spawnSync('ip', cmd).status, 0, `ip ${cmd.join(' ')}`);
    }
  } catch (err) {
    void dispose();
    throw err;
  }
  return { hosts, dispose };
}

export function nsboxOn(h: SimHost, ...args: string[]): Res {
  const r = spawnSync('nsenter', [`--net=${h.ns.path}`, process.execPath, NSBOX_BIN, '--root', h.root, '--host', h.name, ...args], { encoding: 'utf8', env: cleanEnv() });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function ok(r: Res, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout;
}

/** Run argv inside a sandbox of host h (its /run/netns name is NAME@HOST). */
export function inSandbox(h: SimHost, sandbox: string, argv: string[]): Res {
  const r = spawnSync('nsenter', [`--net=/run/netns/${sandbox}@${h.name}`, ...argv], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run argv in host h's namespace (nft, ip: oracles and faults). */
export function onHost(h: SimHost, argv: string[], input?: string): Res {
  const r = spawnSync('nsenter', [`--net=${h.ns.path}`, ...argv], { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Load an nft script in host h's namespace. */
export function nftOn(h: SimHost, script: string): void {
  const r = onHost(h, ['nft', '-f', '-'], script);
  assert.equal(r.code, 0, `nft on ${h.name}: ${script}: ${r.stderr}`);
}

export function ping(h: SimHost, sandbox: string, to: string, size = 56): Res {
  return inSandbox(h, sandbox, ['ping', '-c', '1', '-W', '1', '-M', 'do', '-s', String(size), to]);
}

/** A ping every 100 ms for as long as it runs; stop() says how many were sent and answered. */
export function pingLoop(h: SimHost, sandbox: string, to: string): { stop(): Promise<{ sent: number; received: number; text: string }> } {
  const child = spawn('nsenter', [`--net=/run/netns/${sandbox}@${h.name}`, 'ping', '-i', '0.1', '-W', '1', to], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d: Buffer) => { text += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { text += d.toString(); });
  return {
    async stop() {
      await sleep(1200); // the last probe's answer, or its loss, is in
      const done = new Promise((r) => child.once('close', r));
      child.kill('SIGINT');
      await done;
      const m = /(\d+) packets transmitted, (\d+) received/.exec(text);
      return { sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0), text };
    },
  };
}

/** Start h's agent (its TTL and grace; `extra` more agent flags) and wait until it holds its lease. */
export async function startAgent(h: SimHost, ...extra: string[]): Promise<void> {
  const child = spawn('nsenter', [`--net=${h.ns.path}`, process.execPath, NSBOX_BIN, '--root', h.root, '--host', h.name, 'agent',
    '--lease-ttl', String(h.ttl), '--grace', String(h.grace), '--resync', String(h.resync), ...extra], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  h.agent = child;
  const before = h.log.length;
  child.stderr!.on('data', (d: Buffer) => { h.log += d.toString(); });
  await waitUntil(`${h.name}'s agent took its lease`, () => h.log.slice(before).includes('overlay: host '), 20_000);
}

export async function killAgent(h: SimHost, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const child = h.agent;
  h.agent = undefined;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('close', r));
  child.kill(signal);
  await gone;
}

export const leaseOf = (h: SimHost): string => (JSON.parse(readFileSync(`${h.root}/overlay/agent.json`, 'utf8')) as { leaseId: string }).leaseId;

/** Addresses of a sandbox's interface. */
export function addrOf(h: SimHost, sandbox: string, ifname: string): string {
  const out = inSandbox(h, sandbox, ['ip', '-j', '-4', 'addr', 'show', 'dev', ifname]);
  const a = (JSON.parse(out.stdout) as { addr_info: { local: string; prefixlen: number }[] }[])[0]!.addr_info[0]!;
  return `${a.local}/${a.prefixlen}`;
}

/** A TCP probe from a sandbox on `from` to a probe server in a sandbox on `to`: the answer names the server and the source it saw. */
export async function tcpProbe(from: SimHost, fromSandbox: string, to: SimHost, toSandbox: string, ip: string, port: number): Promise<string> {
  const server = spawn('nsenter', [`--net=/run/netns/${toSandbox}@${to.name}`, ...serverArgv(toSandbox, port)], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    let out = '';
    server.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    await waitUntil('the probe server is ready', () => out.includes('ready'));
    const r = inSandbox(from, fromSandbox, clientArgv('tcp', ip, port, { ms: 3000 }));
    return r.stdout.trim();
  } finally {
    const done = new Promise((r) => server.once('close', r));
    server.kill('SIGKILL');
    await done;
  }
}
