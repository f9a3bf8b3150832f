/**
 * Test helper (overlay data plane): simulated hosts = network namespaces with eth0 on an
 * underlay bridge (ul0, in a namespace of its own), 192.0.2.i/24, MTU 1500; sandboxes = namespaces
 * with a veth whose host end is a port of a host's overlay bridge. Everything made is undone by
 * the world's dispose. iproute2, nft and ping run in a namespace through nsenter (the mount
 * namespace stays the test's). Shared by dataplane*.test.ts and bench/overlay-dp.bench.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { makeNetns, type TestNetns } from '../../helpers/netns.js';
import { openRtnl, type TestRtnl } from '../../helpers/rtnl.js';

export const UNDERLAY_MTU = 1500;

export interface SimHost {
  i: number;
  ns: TestNetns;
  underlay: string;
}

export interface SimSandbox {
  ns: TestNetns;
  ip: string;
  mac: string;
}

export function inNs(ns: { path: string }, argv: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('nsenter', [`--net=${ns.path}`, ...argv], { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function ping(from: { path: string }, to: string, size: number, options: { df?: boolean; waitS?: number } = {}): { ok: boolean; text: string } {
  const r = inNs(from, ['ping', '-c', '1', '-W', String(options.waitS ?? 2), '-s', String(size), ...(options.df === false ? [] : ['-M', 'do']), to]);
  return { ok: r.status === 0, text: r.stdout + r.stderr };
}

export class World implements Disposable {
  readonly underlay: TestNetns;
  readonly ul: TestRtnl;
  readonly hosts: SimHost[] = [];
  readonly #cleanups: (() => void)[] = [];
  #ulBridge = 0;

  private constructor() {
    this.underlay = makeNetns();
    this.ul = openRtnl(this.underlay);
  }

  static async make(hosts: number[]): Promise<World> {
    const w = new World();
    try {
      await w.ul.link.add({ name: 'ul0', kind: 'bridge', up: true });
      w.#ulBridge = (await w.ul.link.get({ name: 'ul0' })).index;
      for (const i of hosts) await w.addHost(i);
    } catch (err) {
      w[Symbol.dispose]();
      throw err;
    }
    return w;
  }

  /** A host namespace with eth0 = 192.0.2.i/24 on the underlay. */
  async addHost(i: number): Promise<SimHost> {
    const ns = makeNetns();
    this.#cleanups.push(() => ns[Symbol.dispose]());
    using rtnl = openRtnl(ns);
    await this.ul.link.add({ name: `u${i}`, kind: 'veth', master: this.#ulBridge, up: true, mtu: UNDERLAY_MTU, peer: { name: 'eth0', netnsFd: ns.fd, mtu: UNDERLAY_MTU } });
    await rtnl.link.set({ name: 'lo' }, { up: true });
    const eth0 = (await rtnl.link.get({ name: 'eth0' })).index;
    await rtnl.addr.add({ index: eth0, address: `192.0.2.${i}/24` });
    await rtnl.link.set({ index: eth0 }, { up: true });
    const h = { i, ns, underlay: `192.0.2.${i}` };
    this.hosts.push(h);
    return h;
  }

  /** A sandbox on `host`'s bridge: eth0 = ip/prefix with `mac`, MTU `mtu`, default via `gateway`. */
  async addSandbox(host: SimHost, bridge: string, o: { ip: string; prefix: number; mac: string; mtu: number; gateway?: string; veth: string }): Promise<SimSandbox> {
    const ns = makeNetns();
    this.#cleanups.push(() => ns[Symbol.dispose]());
    using rtnl = openRtnl(host.ns);
    const br = (await rtnl.link.get({ name: bridge })).index;
    await rtnl.link.add({ name: o.veth, kind: 'veth', master: br, up: true, mtu: o.mtu, peer: { name: 'eth0', netnsFd: ns.fd, mtu: o.mtu, address: o.mac } });
    using s = openRtnl(ns);
    await s.link.set({ name: 'lo' }, { up: true });
    const eth0 = (await s.link.get({ name: 'eth0' })).index;
    await s.addr.add({ index: eth0, address: `${o.ip}/${o.prefix}`, nodad: true });
    await s.link.set({ index: eth0 }, { up: true });
    if (o.gateway !== undefined) await s.route.add({ dst: 'default', gateway: o.gateway });
    return { ns, ip: o.ip, mac: o.mac };
  }

  /** Remove a sandbox made by addSandbox (its namespace; the veth goes with it). */
  removeSandbox(s: SimSandbox): void {
    s.ns[Symbol.dispose]();
  }

  [Symbol.dispose](): void {
    for (const c of this.#cleanups.reverse()) {
      try {
        c();
      } catch {
        // every namespace is tried
      }
    }
    this.ul.close();
    this.underlay[Symbol.dispose]();
  }
}

/** A probe server (test/helpers/probe-servers.ts) in a namespace; resolves once it listens. */
export async function startServer(ns: { path: string }, argv: string[]): Promise<{ proc: ChildProcess; lines: string[]; stop(): Promise<void> }> {
  const proc = spawn('nsenter', [`--net=${ns.path}`, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
  const closed = new Promise((resolve) => proc.on('close', resolve));
  const lines: string[] = [];
  const rl = createInterface({ input: proc.stdout! });
  await new Promise<void>((resolve, reject) => {
    rl.on('line', (l) => {
      lines.push(l);
      if (l === 'ready') resolve();
    });
    proc.on('close', () => reject(new Error(`server ${argv.join(' ')} exited before ready`)));
  });
  return { proc, lines, stop: async () => { proc.kill('SIGKILL'); await closed; } };
}
