/**
 * Test helper for end-to-end tests of networks and `nsbox run`: runs `bin/nsbox.js` (the
 * compiled dist/) as a child process with its own state root (NSBOX_ROOT=/run/nsbt-net-<hex>,
 * a tmpfs of the throwaway host), random names, subnets that no other test of the process
 * uses, and a per-test teardown that removes everything the root holds and then requires
 * that nothing of it is left in the kernel: no netns mount, no /run/netns symlink, no host
 * link tagged for the root.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ip, ipJson, ipTry, type IpLink } from './iproute.js';
import { finished, startNsbox, type CliResult as NsboxResult } from './cli.js';
import { NETNS_DIR, mountsUnder } from './netns.js';

export { NSBOX_BIN, finished, hostLinkNames, waitForOutput, type CliResult as NsboxResult } from './cli.js';

/** A random name `<prefix><8 hex>` (sandboxes: also their /run/netns name). */
export function randomName(prefix = 'nsbt-'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/**
 * A host veth pair `<prefix><hex>` / `<that><peerSuffix>` (names ≤ 15 bytes) with the first end
 * up, deleted (both ends) when the test ends. Returns the first end's name.
 */
export function hostVethUp(t: TestContext, prefix: string, peerSuffix: string): string {
  const name = randomName(prefix).slice(0, 13);
  ip(undefined, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}${peerSuffix}`);
  t.after(() => { ipTry(undefined, 'link', 'del', name); });
  ip(undefined, 'link', 'set', name, 'up');
  return name;
}

/** A network name whose bridge (nsbr-<name>) fits in 15 bytes. */
export function networkName(): string {
  return `nt${randomBytes(3).toString('hex')}`;
}

const usedSubnets = new Set<string>();

/** A /24 in 172.16.0.0/12 that no other test of this process got: `{ cidr, base }` (base: 'a.b.c.'). */
export function uniqueSubnet(): { cidr: string; base: string } {
  for (;;) {
    const base = `172.${randomInt(16, 32)}.${randomInt(0, 256)}.`;
    if (usedSubnets.has(base)) continue;
    usedSubnets.add(base);
    return { cidr: `${base}0/24`, base };
  }
}

/** `ip -j -d link show` of the host or of the namespace `ns`. */
export function links(ns?: string): IpLink[] {
  return ipJson<IpLink[]>(ns, '-d', 'link', 'show');
}

/** Poll `cond` every 20 ms until it holds (throws after `ms`). */
export async function waitUntil(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** `ping -c 1 -W 2 ADDRESS` from the throwaway host. */
export function hostPing(address: string): { ok: boolean; out: string } {
  const res = spawnSync('ping', ['-c', '1', '-W', '2', address], { encoding: 'utf8' });
  return { ok: res.status === 0, out: `${res.stdout}${res.stderr}` };
}

/** Run `fn` on every item, at most `limit` at a time; results in item order. */
export async function inPool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The JSON error object nsbox prints on stderr with --json. */
export function jsonError(res: NsboxResult): { error: string; code: string; exitCode: number } {
  const line = res.stderr.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as { error: string; code: string; exitCode: number };
  } catch {
    throw new Error(`expected a JSON error on stderr, got ${JSON.stringify(res.stderr)} (exit ${res.code ?? res.signal})`);
  }
}

/** A state root of its own: nsbox run with NSBOX_ROOT set to it. */
export class NsboxRoot {
  readonly root: string;

  constructor(root = `/run/nsbt-net-${randomBytes(4).toString('hex')}`) {
    this.root = root;
  }

  /** Start `nsbox ARGS…`; stdio are pipes (stdin closed). */
  start(args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcessWithoutNullStreams {
    return startNsbox(this.root, args, { env });
  }

  /** Run `nsbox ARGS…` to the end. */
  run(...args: string[]): Promise<NsboxResult> {
    return finished(this.start(args));
  }

  /** Run `nsbox ARGS…`, require exit 0; returns stdout. */
  async ok(...args: string[]): Promise<string> {
    const res = await this.run(...args);
    assert.equal(res.code, 0, `nsbox ${args.join(' ')} exited ${res.code ?? res.signal}: ${res.stderr}`);
    return res.stdout;
  }

  /** Run `nsbox --json ARGS…`, require exit 0 and a quiet stderr, parse stdout. */
  async json<T = Record<string, unknown>>(...args: string[]): Promise<T> {
    const res = await this.run('--json', ...args);
    assert.equal(res.code, 0, `nsbox --json ${args.join(' ')} exited ${res.code ?? res.signal}: ${res.stderr}`);
    assert.equal(res.stderr, '', `nsbox --json ${args.join(' ')} printed on stderr`);
    return JSON.parse(res.stdout) as T;
  }

  /** Run `nsbox --json ARGS…` that must fail with `exit`; returns the error object. */
  async fails(exit: number, ...args: string[]): Promise<{ error: string; code: string; exitCode: number }> {
    const res = await this.run('--json', ...args);
    assert.equal(res.code, exit, `nsbox --json ${args.join(' ')}: expected exit ${exit}, got ${res.code ?? res.signal}: ${res.stderr}${res.stdout}`);
    const err = jsonError(res);
    assert.equal(err.exitCode, exit);
    return err;
  }

  /** `nsbox --json network inspect NET`. */
  network(name: string): Promise<NetworkJson> {
    return this.json<NetworkJson>('network', 'inspect', name);
  }

  /** `nsbox --json inspect NAME`. */
  sandbox(name: string): Promise<SandboxJson> {
    return this.json<SandboxJson>('inspect', name);
  }

  /** Where this root's namespace files live. */
  get netnsDir(): string {
    return join(this.root, 'run', 'netns');
  }

  /** Mount points under `<root>/run/netns`. */
  netnsMounts(): string[] {
    return mountsUnder(this.netnsDir).sort();
  }

  /** Names in /run/netns that are symlinks into this root. */
  netnsSymlinks(): string[] {
    if (!existsSync(NETNS_DIR)) return [];
    return readdirSync(NETNS_DIR).filter((n) => {
      try {
        const p = join(NETNS_DIR, n);
        return lstatSync(p).isSymbolicLink() && readlinkSync(p).startsWith(`${this.netnsDir}/`);
      } catch {
        return false;
      }
    }).sort();
  }

  /** Host links nsbox tagged for this root (veth ends of its sandboxes, bridges of its networks). */
  taggedHostLinks(): string[] {
    return links().filter((l) => l.ifalias !== undefined && (l.ifalias.startsWith(`nsbox:${this.netnsDir}/`) || l.ifalias.startsWith(`nsbox-net:${this.netnsDir}/`)))
      .map((l) => l.ifname);
  }

  /**
   * Remove every sandbox and network of the root, then require that nothing of it is left:
   * no record, network, mount, namespace file, /run/netns symlink or tagged host link.
   */
  async teardown(): Promise<void> {
    if (!existsSync(this.root)) return;
    const problems: string[] = [];
    const rm = await this.run('rm', '--all');
    if (rm.code !== 0) problems.push(`rm --all: ${rm.stderr.trim()}`);
    const nets = await this.json<{ name: string }[]>('network', 'ls');
    if (nets.length > 0) {
      const res = await this.run('network', 'rm', ...nets.map((n) => n.name));
      if (res.code !== 0) problems.push(`network rm: ${res.stderr.trim()}`);
    }
    problems.push(...(await this.json<{ name: string }[]>('ls')).map((r) => `record ${r.name}`));
    problems.push(...(await this.json<{ name: string }[]>('network', 'ls')).map((r) => `network ${r.name}`));
    problems.push(...this.netnsMounts().map((m) => `mount ${m}`), ...this.netnsSymlinks().map((s) => `symlink /run/netns/${s}`));
    if (existsSync(this.netnsDir)) problems.push(...readdirSync(this.netnsDir).map((f) => `netns file ${f}`));
    problems.push(...this.taggedHostLinks().map((l) => `host link ${l}`));
    rmSync(this.root, { recursive: true, force: true });
    assert.deepEqual(problems, [], `left behind in ${this.root}`);
  }
}

/** A fresh root whose teardown runs (and is checked) after the test. */
export function freshRoot(t: TestContext): NsboxRoot {
  const r = new NsboxRoot();
  t.after(() => r.teardown());
  return r;
}

export interface NetworkJson {
  name: string;
  driver: 'bridge' | 'macvlan';
  subnets: { subnet: string; gateway: string }[];
  mtu: number;
  internal: boolean;
  bridge: string | null;
  parent: string | null;
  macvlanMode: string | null;
  leases: { address: string; sandbox: string; ifname: string }[];
}

export interface SandboxJson {
  name: string;
  netns: string;
  state: string;
  gateway: string | null;
  interfaces: { srcName: string; dstName: string; state: string; network?: string; options: { ipv4?: string; ipv6?: string; mac?: string } }[];
}
