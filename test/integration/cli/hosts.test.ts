/**
 * End-to-end (root, throwaway host): a state root is a host (docs/overlay.md, "Roots as hosts").
 * `nsenter --net=/run/netns/H nsbox --root DIR --host NAME …` works on H as its host: two such
 * hosts and one plain root each create sandbox `web` on a network with the SAME subnet, connect,
 * exec and rm, independently; their names in /run/netns and /etc/netns are web@h1, web@h2 and
 * web; each network's bridge is in its own host namespace. A root keeps its host name (another
 * one is refused; a root with sandboxes cannot get one). And never a silent loss:
 * `ip netns exec H nsbox create` (and `unshare -m nsbox create`) is refused before anything is
 * made, with what to run instead (NSBOX_ERR_MOUNT_NAMESPACE), while the nsenter form keeps its
 * sandbox across commands. iproute2, /proc/self/mountinfo and the file system are the oracles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { NSBOX_BIN, jsonError } from '../../helpers/cli.js';
import { makeNetns, type TestNetns } from '../../helpers/netns.js';
import { ipJson } from '../../helpers/iproute.js';
import { mountsUnder } from '../../helpers/leaks.js';
import { randomName } from '../../helpers/names.js';

interface Res { code: number | null; stdout: string; stderr: string }

/** Run nsbox with `prefix` (e.g. nsenter --net=…) in front; NSBOX_ROOT/NSBOX_HOST cleared so only the flags count. */
function nsboxVia(prefix: string[], root: string, ...args: string[]): Res {
  const env = { ...process.env };
  delete env.NSBOX_ROOT;
  delete env.NSBOX_HOST;
  const argv = [...prefix, process.execPath, NSBOX_BIN, '--root', root, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Res, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r.stdout;
}

const onHost = (h: TestNetns | undefined): string[] => (h === undefined ? [] : ['nsenter', `--net=${h.path}`]);

test('two roots as two hosts and a plain root each run sandbox web on a network of the same subnet, independently', async (t) => {
  using h1 = makeNetns();
  using h2 = makeNetns();
  const hosts = [
    { label: 'h1', ns: h1 as TestNetns | undefined, host: 'h1', root: `/run/${randomName('nsbt-host-')}` },
    { label: 'h2', ns: h2 as TestNetns | undefined, host: 'h2', root: `/run/${randomName('nsbt-host-')}` },
    { label: 'plain', ns: undefined, host: undefined, root: `/run/${randomName('nsbt-host-')}` },
  ];
  const net = randomName('nsbt-');
  t.after(() => {
    for (const h of hosts) {
      nsboxVia(onHost(h.ns), h.root, 'rm', '--all');
      nsboxVia(onHost(h.ns), h.root, 'network', 'rm', net);
      rmSync(h.root, { recursive: true, force: true });
    }
  });
  const shared = (h: (typeof hosts)[number]): string => (h.host === undefined ? 'web' : `web@${h.host}`);
  for (const h of hosts) {
    const flags = h.host === undefined ? [] : ['--host', h.host];
    ok(nsboxVia(onHost(h.ns), h.root, ...flags, 'create', 'web'), `${h.label}: create`);
    // later commands need no --host: the root keeps it
    ok(nsboxVia(onHost(h.ns), h.root, 'network', 'create', net, '--subnet', '10.61.0.0/24'), `${h.label}: network create`);
    ok(nsboxVia(onHost(h.ns), h.root, 'connect', net, 'web'), `${h.label}: connect`);
  }
  for (const h of hosts) {
    assert.ok(existsSync(`/run/netns/${shared(h)}`), `${h.label}: /run/netns/${shared(h)}`);
    assert.ok(existsSync(`/etc/netns/${shared(h)}/hosts`), `${h.label}: /etc/netns/${shared(h)}`);
    // exec in it: the sandbox's own address on the network, and its names file
    const out = ok(nsboxVia(onHost(h.ns), h.root, 'exec', 'web', '--', 'sh', '-c', 'ip -j -4 addr show dev eth0; echo; grep -c web /etc/hosts'), `${h.label}: exec`);
    const [addrs, count] = out.split('\n\n');
    const addr = (JSON.parse(addrs ?? '[]') as { addr_info: { local: string }[] }[])[0]?.addr_info[0]?.local;
    assert.equal(addr, '10.61.0.2', `${h.label}: each host leases from its own copy of the subnet`);
    assert.ok(Number(count) >= 1);
    // iproute2 reaches the sandbox by its shared name
    assert.equal(ipJson<{ ifname: string }[]>(shared(h), 'link', 'show', 'eth0')[0]?.ifname, 'eth0');
  }
  // each network's bridge is in its host's namespace, nowhere else
  const bridges = (ns: string | undefined): string[] => ipJson<{ ifname: string }[]>(ns, 'link', 'show', 'type', 'bridge').map((l) => l.ifname);
  const plainBridges = bridges(undefined);
  for (const h of [h1, h2]) {
    const own = bridges(h.name);
    assert.equal(own.length, 1, `one bridge in ${h.name}`);
    assert.ok(plainBridges.includes(own[0]!), 'the plain root has a bridge of the same name, in its own namespace');
  }
  for (const h of hosts) {
    ok(nsboxVia(onHost(h.ns), h.root, 'rm', 'web'), `${h.label}: rm`);
    ok(nsboxVia(onHost(h.ns), h.root, 'network', 'rm', net), `${h.label}: network rm`);
    assert.equal(existsSync(`/run/netns/${shared(h)}`), false);
    assert.equal(existsSync(`/etc/netns/${shared(h)}`), false);
    assert.deepEqual(mountsUnder(h.root), [], `${h.label}: no mount left`);
  }
  assert.equal(readFileSync(`${hosts[0]!.root}/host`, 'utf8'), 'h1\n');
});

test('a root keeps its host name: another one is refused, and a root with sandboxes cannot get one', async (t) => {
  const named = `/run/${randomName('nsbt-host-')}`;
  const plain = `/run/${randomName('nsbt-host-')}`;
  t.after(() => {
    nsboxVia([], plain, 'rm', '--all');
    rmSync(named, { recursive: true, force: true });
    rmSync(plain, { recursive: true, force: true });
  });
  ok(nsboxVia([], named, '--host', 'h7', 'ls'), 'first use');
  const other = nsboxVia([], named, '--host', 'h8', 'create', 'web');
  assert.equal(other.code, 4, other.stderr);
  assert.match(other.stderr, /is host "h7", not "h8"/);
  const bad = nsboxVia([], named, '--host', 'a/b', 'ls');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid host name/);

  ok(nsboxVia([], plain, 'create', 'web'), 'create without a host');
  const late = nsboxVia([], plain, '--host', 'h9', 'create', 'web2');
  assert.equal(late.code, 4, late.stderr);
  assert.match(late.stderr, /already has sandboxes named without a host/);
  assert.equal(existsSync(`${plain}/host`), false);
  assert.equal(existsSync('/run/netns/web2@h9'), false);
});

test('ip netns exec H nsbox create (and unshare -m) is refused before anything is made; nsenter --net keeps the sandbox', async (t) => {
  using h = makeNetns();
  const root = `/run/${randomName('nsbt-host-')}`;
  t.after(() => {
    nsboxVia(onHost(h), root, 'rm', '--all');
    rmSync(root, { recursive: true, force: true });
  });
  for (const prefix of [['ip', 'netns', 'exec', h.name], ['unshare', '--mount', '--net']]) {
    for (const args of [['create', 'lost'], ['run', '--name', 'lost', '--', 'true']]) {
      const r = nsboxVia(prefix, root, ...args);
      assert.equal(r.code, 2, `${prefix.join(' ')} nsbox ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /mount namespace of its own/);
      assert.match(r.stderr, /nsenter --net=\/run\/netns\/H nsbox/);
      const json = nsboxVia(prefix, root, '--json', ...args);
      assert.equal(jsonError({ ...json, signal: null }).code, 'NSBOX_ERR_MOUNT_NAMESPACE');
    }
  }
  // nothing was made: no record, no lock, no namespace file, no name
  assert.equal(ok(nsboxVia(onHost(h), root, 'ls'), 'ls').includes('lost'), false);
  assert.equal(existsSync(`${root}/locks/lost.lock`), false);
  assert.equal(existsSync(`${root}/run/lost`) || existsSync(`${root}/run/netns/lost`), false);
  assert.equal(readdirSync('/run/netns').includes('lost'), false);
  assert.equal(existsSync('/etc/netns/lost'), false);

  // the nsenter form: the sandbox outlives the command that made it
  ok(nsboxVia(onHost(h), root, 'create', 'kept'), 'create');
  assert.equal(ok(nsboxVia(onHost(h), root, 'exec', 'kept', '--', 'ip', '-j', 'link', 'show', 'lo'), 'exec').includes('"lo"'), true);
  // commands that make no namespace file still work under ip netns exec (a read, an exec)
  assert.ok(ok(nsboxVia(['ip', 'netns', 'exec', h.name], root, 'ls'), 'ls under ip netns exec').includes('kept'));
  ok(nsboxVia(onHost(h), root, 'rm', 'kept'), 'rm');
});
