/**
 * Test helper: real etcd (Debian's etcd-server, scripts/setup.sh) for the overlay's tests. Each
 * member runs in a network namespace of its own, with eth0 on a bridge in the test's namespace
 * (10.251.N.0/24: the test's side .1, members .11, .12, …), its data dir in a temp dir, and
 * `--pre-vote` (research B2.2: without it an isolated member forces re-elections on rejoin).
 * `startEtcd()` is one member, `startEtcdCluster(3)` three; both wait until every member
 * answers `etcdctl endpoint health`, and `stop()` SIGKILLs what is left (a leader whose peers
 * are gone ignores SIGTERM) and removes everything. `etcdAvailable()` says why tests must skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeNetns, type TestNetns } from './netns.js';
import { randomName } from './names.js';

/** Why etcd tests cannot run here (no etcd or etcdctl), or undefined. */
export function etcdAvailable(): string | undefined {
  for (const [bin, arg] of [['etcd', '--version'], ['etcdctl', 'version']] as const) {
    if (spawnSync(bin, [arg]).status !== 0) return `${bin} is not installed (apt-get install etcd-server etcd-client; scripts/setup.sh does)`;
  }
  return undefined;
}

export interface EtcdMember {
  name: string;
  ip: string;
  clientUrl: string;
  ns: TestNetns;
  dataDir: string;
  process: ChildProcess | undefined;
}

export interface EtcdFixture {
  members: EtcdMember[];
  /** The bridge in the test's namespace the members hang off (10.251.N.0/24; .1 is the test's side). */
  bridge: string;
  /** 10.251.N: addresses .100 and up are free for simulated hosts on the same bridge. */
  subnetPrefix: string;
  /** Client URLs of every member. */
  endpoints: string[];
  /** The member that is the leader now (etcdctl endpoint status). */
  leader(): EtcdMember;
  /** SIGKILL one member (default the first) and wait until it is gone. */
  kill(member?: EtcdMember): Promise<void>;
  /** Start a killed member again on its data dir; wait until it is healthy. */
  restart(member?: EtcdMember): Promise<void>;
  /** `etcdctl ARGS…` against every member; stdout. */
  etcdctl(...args: string[]): string;
  stop(): Promise<void>;
}

const sh = (cmd: string, ...args: string[]): string => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

function startProcess(m: EtcdMember, cluster: string, token: string, state: 'new' | 'existing', logFile: string): ChildProcess {
  const log = openSync(logFile, 'a');
  const child = spawn('nsenter', [`--net=${m.ns.path}`, 'etcd', '--name', m.name, '--data-dir', m.dataDir,
    '--listen-client-urls', m.clientUrl, '--advertise-client-urls', m.clientUrl,
    '--listen-peer-urls', `http://${m.ip}:2380`, '--initial-advertise-peer-urls', `http://${m.ip}:2380`,
    '--initial-cluster', cluster, '--initial-cluster-state', state, '--initial-cluster-token', token,
    '--heartbeat-interval', '100', '--election-timeout', '1000', '--pre-vote'], { stdio: ['ignore', log, log] });
  closeSync(log);
  return child;
}

function healthy(url: string): boolean {
  return spawnSync('etcdctl', ['--endpoints', url, '--command-timeout', '1s', 'endpoint', 'health'], { encoding: 'utf8' }).status === 0;
}

async function waitHealthy(members: EtcdMember[], logDir: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!members.every((m) => healthy(m.clientUrl))) {
    if (Date.now() > deadline) throw new Error(`etcd did not become healthy in 30 s (logs in ${logDir})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function killed(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

/** Start an etcd cluster of `size` members (each in its own namespace); see the header. */
export async function startEtcdCluster(size = 3): Promise<EtcdFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-etcd-'));
  const net = 1 + Math.floor(Math.random() * 250);
  const bridge = randomName('nsbt-e').slice(0, 15);
  sh('ip', 'link', 'add', bridge, 'type', 'bridge');
  sh('ip', 'addr', 'add', `10.251.${net}.1/24`, 'dev', bridge);
  sh('ip', 'link', 'set', bridge, 'up');
  const members: EtcdMember[] = [];
  for (let i = 1; i <= size; i++) {
    const ns = makeNetns();
    const ip = `10.251.${net}.${10 + i}`;
    const veth = `${bridge.slice(0, 12)}v${i}`;
    sh('ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name);
    sh('ip', 'link', 'set', veth, 'master', bridge, 'up');
    sh('ip', '-n', ns.name, 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
    sh('ip', '-n', ns.name, 'link', 'set', 'eth0', 'up');
    sh('ip', '-n', ns.name, 'link', 'set', 'lo', 'up');
    members.push({ name: `e${i}`, ip, clientUrl: `http://${ip}:2379`, ns, dataDir: join(dir, `e${i}`), process: undefined });
  }
  const cluster = members.map((m) => `${m.name}=http://${m.ip}:2380`).join(',');
  const logOf = (m: EtcdMember): string => join(dir, `${m.name}.log`);
  const fixture: EtcdFixture = {
    members,
    bridge,
    subnetPrefix: `10.251.${net}`,
    endpoints: members.map((m) => m.clientUrl),
    leader() {
      const live = members.filter((m) => m.process !== undefined).map((m) => m.clientUrl);
      const status = JSON.parse(sh('etcdctl', '--endpoints', live.join(','), 'endpoint', 'status', '-w', 'json')) as
        { Endpoint: string; Status: { header: { member_id: number | string }; leader: number | string } }[];
      const ep = status.find((s) => String(s.Status.header.member_id) === String(s.Status.leader))?.Endpoint;
      const m = members.find((x) => x.clientUrl === ep);
      if (m === undefined) throw new Error(`etcd: no member is the leader (${JSON.stringify(status.map((s) => s.Endpoint))})`);
      return m;
    },
    async kill(m = members[0]!) {
      await killed(m.process);
      m.process = undefined;
    },
    async restart(m = members[0]!) {
      m.process = startProcess(m, cluster, bridge, 'existing', logOf(m));
      await waitHealthy([m], dir);
    },
    etcdctl(...args) {
      return sh('etcdctl', '--endpoints', fixture.endpoints.join(','), ...args);
    },
    async stop() {
      for (const m of members) await killed(m.process);
      for (const m of members) m.ns[Symbol.dispose]();
      spawnSync('ip', ['link', 'del', bridge]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const m of members) m.process = startProcess(m, cluster, bridge, 'new', logOf(m));
    await waitHealthy(members, dir);
  } catch (err) {
    await fixture.stop();
    throw err;
  }
  return fixture;
}

/** One etcd member in its own namespace. */
export function startEtcd(): Promise<EtcdFixture> {
  return startEtcdCluster(1);
}
