/**
 * Integration (root, throwaway host): names. Sandboxes sharing a network resolve each other
 * with `getent hosts` (NAME and NAME.NETWORK) through their /etc/netns/NAME/hosts, and
 * `ip netns exec` sees what `nsbox exec` sees; a process that keeps running sees sandboxes
 * join and leave (the file is rewritten in place); concurrent connects leave every file
 * complete. resolv.conf: with the host on systemd-resolved's stub (a file of ours bound over
 * /etc/resolv.conf, a tmpfs on /run/systemd/resolve: this mount namespace is the throwaway
 * host's), the upstream server — a DNS responder in a namespace playing the outside world,
 * with no route back — answers `getent hosts example.test` through masquerade; `--dns`; no
 * server at all said once, with what to do. Lifetime: /etc/netns/NAME made with the sandbox
 * and removed with it, a directory nsbox did not make refused and left alone, gc removing only
 * nsbox's orphans, SIGKILL at create:names and connect:kernel repaired by gc, a read-only
 * /etc/netns tolerated. Bad --dns values: exit 2, nothing created.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ETC_NETNS_DIR, etcNetnsMarkers, finished, rootForTest, waitForOutput, waitForStderr, type NsboxRoot } from '../../helpers/cli.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { randomName } from '../../helpers/names.js';
import { dnsResponderArgv } from '../../helpers/dns-responder.js';
import { HOST_ADDRESS, WORLD_ADDRESS, makeWorld, type World } from '../../helpers/world.js';

const EXAMPLE = 'example.test';
const EXAMPLE_ADDRESS = '192.0.2.80';

let world: World;
let dns: ChildProcessWithoutNullStreams;
let dnsLog = '';

before(async () => {
  world = makeWorld();
  dns = await world.serve(dnsResponderArgv(EXAMPLE, EXAMPLE_ADDRESS));
  dns.stdout.setEncoding('utf8').on('data', (d: string) => { dnsLog += d; });
});

after(() => world.dispose());

function mount(...args: string[]): void {
  execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Make the host look as if it used systemd-resolved, until the test ends: `stub` bound over
 * /etc/resolv.conf, a tmpfs on /run/systemd/resolve holding `upstream` as its resolv.conf (none
 * when undefined).
 */
function hostResolver(t: TestContext, stub: string, upstream: string | undefined): void {
  const dir = mkdtempSync('/run/nsbt-resolv-');
  writeFileSync(join(dir, 'stub'), stub);
  mkdirSync('/run/systemd/resolve', { recursive: true });
  mount('-t', 'tmpfs', 'nsbt-resolved', '/run/systemd/resolve');
  t.after(() => execFileSync('umount', ['/run/systemd/resolve']));
  if (upstream !== undefined) writeFileSync('/run/systemd/resolve/resolv.conf', upstream);
  // /etc/resolv.conf may be a symlink into /run/systemd/resolve (the real host's stub): what it
  // names must exist in the tmpfs for the bind to land where readers look.
  const target = statTarget('/etc/resolv.conf');
  if (target.startsWith('/run/systemd/resolve/') && !existsSync(target)) writeFileSync(target, '');
  mount('--bind', join(dir, 'stub'), '/etc/resolv.conf');
  t.after(() => {
    execFileSync('umount', ['/etc/resolv.conf']);
    rmSync(dir, { recursive: true, force: true });
  });
}

function statTarget(path: string): string {
  try {
    const link = readlinkSync(path);
    return link.startsWith('/') ? link : join('/etc', link);
  } catch {
    return path;
  }
}

const STUB = 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp.test\n';
/**
 * A host whose resolver is the world's DNS server: names that are not in a sandbox's hosts file
 * get a quick NXDOMAIN (with the throwaway host's own resolv.conf, whose server is unreachable
 * from here, each such lookup would wait for a timeout).
 */
const PLAIN = `nameserver ${WORLD_ADDRESS}\n`;
const UPSTREAM = `nameserver ${WORLD_ADDRESS}\nsearch corp.test\n`;

async function network(r: NsboxRoot): Promise<string> {
  const name = networkName();
  await r.ok('network', 'create', name, '--subnet', uniqueSubnet().cidr);
  return name;
}

/** A sandbox's IPv4 address on a network. */
async function addressOn(r: NsboxRoot, name: string, net: string): Promise<string> {
  const iface = (await r.sandbox(name)).interfaces.find((i) => i.network === net);
  assert.ok(iface?.options.ipv4, `${name} has an address on ${net}`);
  return iface.options.ipv4.split('/')[0]!;
}

/** `getent hosts WHAT` inside sandbox `name`: the address it found, or null (getent exit 2). */
async function lookup(r: NsboxRoot, name: string, what: string): Promise<string | null> {
  const res = await r.run('exec', name, '--', 'getent', 'hosts', what);
  if (res.code === 2) return null;
  assert.equal(res.code, 0, `getent hosts ${what} in ${name}: ${res.stderr}`);
  return res.stdout.trim().split(/\s+/)[0]!;
}

/** The same, through `ip netns exec NAME`: its whole output. */
function lookupViaIp(name: string, what: string): string {
  return spawnSync('ip', ['netns', 'exec', name, 'getent', 'hosts', what], { encoding: 'utf8' }).stdout;
}

const hostsOf = (name: string): string => readFileSync(join(ETC_NETNS_DIR, name, 'hosts'), 'utf8');

test('sandboxes sharing a network resolve each other by NAME and NAME.NETWORK, each network apart; ip netns exec sees the same', async (t) => {
  const r = rootForTest(t);
  hostResolver(t, PLAIN, undefined);
  const [net1, net2] = [await network(r), await network(r)];
  const [a, b, c] = [randomName(), randomName(), randomName()];
  for (const n of [a, b, c]) await r.json('create', n);
  await r.json('connect', net1, a);
  await r.json('connect', net1, b);
  await r.json('connect', net2, c);
  await r.json('connect', net2, a);
  const [a1, a2, b1, c2] = [await addressOn(r, a, net1), await addressOn(r, a, net2), await addressOn(r, b, net1), await addressOn(r, c, net2)];

  assert.equal(await lookup(r, a, b), b1);
  assert.equal(await lookup(r, a, `${b}.${net1}`), b1);
  assert.equal(await lookup(r, a, c), c2);
  assert.equal(await lookup(r, a, `${c}.${net2}`), c2);
  assert.equal(await lookup(r, a, a), a1, 'its own name: the address on its first network');
  assert.equal(await lookup(r, a, `${a}.${net2}`), a2);
  assert.equal(await lookup(r, b, a), a1, 'by its address on the network they share');
  assert.equal(await lookup(r, c, a), a2);
  assert.equal(await lookup(r, b, c), null, 'b and c share no network');
  assert.equal(await lookup(r, b, `${a}.${net2}`), null);
  assert.equal(await lookup(r, a, 'localhost'), '::1', 'localhost lines (getent hosts asks for IPv6 first)');

  const viaNsbox = await r.run('exec', a, '--', 'getent', 'hosts', b);
  assert.equal(lookupViaIp(a, b), viaNsbox.stdout, 'ip netns exec a getent hosts b');
  assert.equal(lookupViaIp(b, `${a}.${net1}`), (await r.run('exec', b, '--', 'getent', 'hosts', `${a}.${net1}`)).stdout);

  // A run sandbox is one of them while it runs, and gone after.
  const run = await r.run('run', '--name', 'nsbt-runner', '--network', net1, '--', 'sh', '-c', `getent hosts ${a}; grep -c nsbt-runner /etc/netns/${a}/hosts`);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`^${a1.replaceAll('.', '\\.')}\\s+${a} ${a}\\.${net1}\\n1\\n$`));
  assert.ok(!hostsOf(a).includes('nsbt-runner'), 'gone from a\'s hosts with its sandbox');
});

test('a process that keeps running in a sandbox sees another join and leave: connect, disconnect, connect, rm (the file is rewritten in place)', async (t) => {
  const r = rootForTest(t);
  hostResolver(t, PLAIN, undefined);
  const net = await network(r);
  const [a, b] = [randomName(), randomName()];
  await r.json('create', a);
  await r.json('connect', net, a);
  const inode = statSync(join(ETC_NETNS_DIR, a, 'hosts')).ino;
  const script = `for i in 1 2; do until getent hosts ${b} >/dev/null; do sleep 0.05; done; echo seen$i $(getent hosts ${b}); `
    + `while getent hosts ${b} >/dev/null; do sleep 0.05; done; echo gone$i; done`;
  const watcher = r.start(['exec', a, '--', 'sh', '-c', script]);
  const done = finished(watcher);
  t.after(() => watcher.kill());
  /** Do `step`, then wait for the watcher to say `what` (listening from before the step). */
  const expect = async (what: string, step: () => Promise<unknown>): Promise<void> => {
    const said = waitForOutput(watcher, 'stdout', what);
    await step();
    await said;
  };

  await r.json('create', b);
  await expect('seen1', () => r.json('connect', net, b));
  const first = await addressOn(r, b, net);
  await expect('gone1', () => r.json('disconnect', net, b));
  await expect('seen2', () => r.json('connect', net, b));
  const second = await addressOn(r, b, net);
  await r.ok('rm', b);
  const res = await done;
  assert.deepEqual([res.code, res.stderr], [0, '']);
  const line = (address: string): string => `${address.replaceAll('.', '\\.')}\\s+${b} ${b}\\.${net}`;
  assert.match(res.stdout, new RegExp(`^seen1 ${line(first)}\\ngone1\\nseen2 ${line(second)}\\ngone2\\n$`));
  assert.equal(statSync(join(ETC_NETNS_DIR, a, 'hosts')).ino, inode, 'the same file throughout');
});

test('concurrent connects and removals: every hosts file ends up listing exactly the sandboxes on the network', async (t) => {
  const r = rootForTest(t);
  const net = await network(r);
  const names = Array.from({ length: 8 }, () => randomName());
  await Promise.all(names.map((n) => r.json('create', n)));
  await Promise.all(names.map((n) => r.json('connect', net, n)));
  const addresses = new Map(await Promise.all(names.map(async (n) => [n, await addressOn(r, n, net)] as const)));
  const listed = (n: string): string[] => hostsOf(n).split('\n').filter((l) => l.endsWith(`.${net}`)).map((l) => l.split(/\s+/)[1]!).sort();
  for (const n of names) {
    assert.deepEqual(listed(n), [...names].sort(), `${n}'s hosts`);
    for (const other of names) assert.ok(hostsOf(n).includes(`${addresses.get(other)}\t${other} ${other}.${net}\n`));
  }
  const [gone, kept] = [names.slice(0, 4), names.slice(4)];
  await Promise.all(gone.map((n) => r.ok('rm', n)));
  for (const n of kept) assert.deepEqual(listed(n), [...kept].sort(), `${n}'s hosts after the removals`);
});

test('a host on systemd-resolved\'s stub: sandboxes get its upstream servers, and a name resolves through masquerade; ip netns exec sees the same', async (t) => {
  const r = rootForTest(t);
  hostResolver(t, STUB, UPSTREAM);
  const net = await network(r);
  dnsLog = '';
  const res = await r.run('run', '--network', net, '--', 'getent', 'hosts', EXAMPLE);
  assert.deepEqual([res.code, res.stderr], [0, ''], res.stderr);
  assert.match(res.stdout, new RegExp(`^${EXAMPLE_ADDRESS.replaceAll('.', '\\.')}\\s+${EXAMPLE}\\n$`));
  assert.match(dnsLog, new RegExp(`^query A ${EXAMPLE} from ${HOST_ADDRESS.replaceAll('.', '\\.')}$`, 'm'), 'the server saw the host\'s address: masquerade');
  const missing = await r.run('run', '--network', net, '--', 'getent', 'hosts', 'nothere.test');
  assert.equal(missing.code, 2, 'an unknown name is not found (NXDOMAIN), not an error');

  const s = randomName();
  await r.json('create', s);
  await r.json('connect', net, s);
  const resolv = readFileSync(join(ETC_NETNS_DIR, s, 'resolv.conf'), 'utf8');
  assert.deepEqual(resolv.split('\n').filter((l) => l && !l.startsWith('#')), [`nameserver ${WORLD_ADDRESS}`, 'search corp.test']);
  const viaNsbox = await r.run('exec', s, '--', 'cat', '/etc/resolv.conf');
  assert.equal(viaNsbox.stdout, resolv);
  assert.equal(execFileSync('ip', ['netns', 'exec', s, 'cat', '/etc/resolv.conf'], { encoding: 'utf8' }), resolv, 'ip netns exec s');
  assert.equal(lookupViaIp(s, EXAMPLE), (await r.run('exec', s, '--', 'getent', 'hosts', EXAMPLE)).stdout);
});

test('no server a sandbox can reach: none written, said once on stderr with what to do; --dns gives one, kept in the record through restore', async (t) => {
  const r = rootForTest(t);
  hostResolver(t, STUB, undefined);
  const [net1, net2] = [await network(r), await network(r)];
  const name = randomName();
  const res = await r.run('run', '--name', name, '--network', net1, '--network', net2, '--', 'getent', 'hosts', EXAMPLE);
  assert.equal(res.code, 2);
  assert.equal(res.stderr, `nsbox: sandbox ${name} has no DNS server: the host's /etc/resolv.conf names only 127.0.0.53, which a sandbox cannot reach `
    + '(the host\'s own resolver), and there is no /run/systemd/resolve/resolv.conf to take the upstream servers from; give one with --dns IP (nsbox create, nsbox run)\n',
  'once for two networks');

  const ok = await r.run('run', '--dns', WORLD_ADDRESS, '--network', net1, '--', 'sh', '-c', `getent hosts ${EXAMPLE}; grep -v '^#' /etc/resolv.conf`);
  assert.deepEqual([ok.code, ok.stderr], [0, '']);
  assert.match(ok.stdout, new RegExp(`^${EXAMPLE_ADDRESS.replaceAll('.', '\\.')}\\s+${EXAMPLE}\\nnameserver ${WORLD_ADDRESS.replaceAll('.', '\\.')}\\noptions edns0\\nsearch corp.test\\n$`),
    'the stub\'s search and options lines, less trust-ad');

  const kept = randomName();
  const created = await r.json<{ dns: string[] }>('create', kept, '--dns', WORLD_ADDRESS, '--dns', '2001:db8::53', '--dns', WORLD_ADDRESS);
  assert.deepEqual(created.dns, [WORLD_ADDRESS, '2001:db8::53']);
  assert.match(await r.ok('inspect', kept), new RegExp(`^DNS:\\s+${WORLD_ADDRESS.replaceAll('.', '\\.')} 2001:db8::53$`, 'm'));
  const resolvPath = join(ETC_NETNS_DIR, kept, 'resolv.conf');
  const written = readFileSync(resolvPath, 'utf8');
  const connected = await r.run('connect', net1, kept);
  assert.deepEqual([connected.code, connected.stderr], [0, ''], 'no warning: it has servers');
  assert.equal(await lookup(r, kept, EXAMPLE), EXAMPLE_ADDRESS);
  writeFileSync(resolvPath, 'nameserver 192.0.2.9\n');
  await r.json('restore');
  assert.equal(readFileSync(resolvPath, 'utf8'), written, 'restore wrote it again from the record');
});

test('bad --dns values are exit 2 with a clear message, and nothing is created', async (t) => {
  const r = rootForTest(t);
  const name = randomName();
  for (const [args, bad] of [[['create', name], 'nope'], [['create', name], '10.0.0.1/24'], [['run', '--name', name, '--network', 'nsbox0'], '192.0.2.1%eth0']] as const) {
    const err = await r.fails(2, ...args, '--dns', '192.0.2.53', '--dns', bad, ...(args[0] === 'run' ? ['--', 'true'] : []));
    assert.deepEqual(err, { error: `invalid --dns ${JSON.stringify(bad)}: not an IPv4 or IPv6 address`, code: 'NSBOX_ERR_USAGE', exitCode: 2 });
  }
  assert.deepEqual(await r.json('ls'), []);
  assert.deepEqual(await r.json('network', 'ls'), [], 'not even nsbox0 was made');
  assert.equal(existsSync(join(ETC_NETNS_DIR, name)), false);
  assert.equal(existsSync(`/run/netns/${name}`), false);
  assert.deepEqual(etcNetnsMarkers(r.root), []);
});

test('/etc/netns/NAME lives and dies with the sandbox; a directory nsbox did not make is refused and left alone; files of others in nsbox\'s stay', async (t) => {
  const r = rootForTest(t);
  const name = randomName();
  await r.json('create', name);
  const dir = join(ETC_NETNS_DIR, name);
  assert.deepEqual(readdirSync(dir).sort(), ['hosts', 'resolv.conf']);
  assert.equal(statSync(dir).mode & 0o777, 0o755);
  for (const f of ['hosts', 'resolv.conf']) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o644, f);
  assert.match(hostsOf(name), /^127\.0\.0\.1\tlocalhost$/m);
  await r.ok('rm', name);
  assert.equal(existsSync(dir), false);

  // Someone's own directory for `ip netns exec`: create refuses the name and changes nothing.
  const theirs = randomName();
  const theirDir = join(ETC_NETNS_DIR, theirs);
  mkdirSync(theirDir);
  writeFileSync(join(theirDir, 'hosts'), '192.0.2.7 mine\n');
  t.after(() => rmSync(theirDir, { recursive: true, force: true }));
  const err = await r.fails(4, 'create', theirs);
  assert.deepEqual(err, { error: `${theirDir} already exists and was not made by nsbox; choose another name, or remove it`, code: 'NSBOX_ERR_CONFLICT', exitCode: 4 });
  assert.deepEqual(await r.json('ls'), []);
  assert.equal(existsSync(`/run/netns/${theirs}`), false);
  assert.deepEqual(readdirSync(theirDir), ['hosts']);
  assert.equal(readFileSync(join(theirDir, 'hosts'), 'utf8'), '192.0.2.7 mine\n');
  assert.deepEqual((await r.json<{ removed: unknown[] }>('gc')).removed, [], 'gc leaves it too');
  assert.ok(existsSync(join(theirDir, 'hosts')));

  // A file someone added to nsbox's directory stays, and the directory with it.
  const shared = randomName();
  await r.json('create', shared);
  const sharedDir = join(ETC_NETNS_DIR, shared);
  writeFileSync(join(sharedDir, 'gai.conf'), 'precedence ::ffff:0:0/96 100\n');
  t.after(() => rmSync(sharedDir, { recursive: true, force: true }));
  await r.ok('rm', shared);
  assert.deepEqual(readdirSync(sharedDir), ['gai.conf']);
  assert.deepEqual(etcNetnsMarkers(r.root), [], 'no longer nsbox\'s');
});

test('gc removes the /etc/netns directories of sandboxes that lost their record, and only its own root\'s', async (t) => {
  const r = rootForTest(t);
  const other = rootForTest(t);
  const [lost, elsewhere] = [randomName(), randomName()];
  await r.json('create', lost);
  await other.json('create', elsewhere);
  // The record vanishes (as if the database had been restored from before it).
  const db = new Database(join(r.root, 'nsbox.db'));
  db.prepare('DELETE FROM sandboxes WHERE name = ?').run(lost);
  db.close();
  const planned = await r.json<{ removed: { kind: string; name: string; reason: string }[] }>('gc', '--dry-run');
  assert.deepEqual(planned.removed.filter((a) => a.kind === 'names'), [{ kind: 'names', name: join(ETC_NETNS_DIR, lost), reason: 'no record' }]);
  assert.ok(existsSync(join(ETC_NETNS_DIR, lost)), '--dry-run changed nothing');
  await r.json('gc');
  assert.equal(existsSync(join(ETC_NETNS_DIR, lost)), false);
  assert.deepEqual(etcNetnsMarkers(r.root), []);
  assert.ok(existsSync(join(ETC_NETNS_DIR, elsewhere, 'hosts')), 'another root\'s sandbox keeps its directory');
});

/** Start `nsbox ARGS…` paused at `point`; resolves once it says so, with a SIGKILL for it. */
async function pausedAt(r: NsboxRoot, point: string, ...args: string[]): Promise<() => Promise<void>> {
  const child = r.start(args, { NSBOX_TEST_PAUSE: point });
  const done = finished(child);
  await waitForStderr(child, `nsbox: paused at ${point}\n`);
  return async () => {
    child.kill('SIGKILL');
    assert.equal((await done).signal, 'SIGKILL');
  };
}

test('killed at create:names or connect:kernel: gc leaves no directory behind and every hosts file right', async (t) => {
  const r = rootForTest(t);
  const net = await network(r);
  const early = randomName();
  const kill = await pausedAt(r, 'create:names', 'create', early);
  assert.deepEqual(readdirSync(join(ETC_NETNS_DIR, early)).sort(), ['hosts', 'resolv.conf']);
  await kill();
  const gc = await r.json<{ removed: { kind: string; name: string }[] }>('gc');
  assert.deepEqual(gc.removed.map((a) => [a.kind, a.name]), [['sandbox', early]]);
  assert.equal(existsSync(join(ETC_NETNS_DIR, early)), false);
  assert.deepEqual(etcNetnsMarkers(r.root), []);

  // b's connect dies after its lease was taken and before any hosts file was written; c's
  // connect then lists b (its lease is there) in a's file. gc undoes b's connect and a forgets it.
  const [a, b, c] = [randomName(), randomName(), randomName()];
  for (const n of [a, b, c]) await r.json('create', n);
  await r.json('connect', net, a);
  const killConnect = await pausedAt(r, 'connect:kernel', 'connect', net, b);
  await killConnect();
  await r.json('connect', net, c);
  assert.match(hostsOf(a), new RegExp(`\\t${b} ${b}\\.${net}\\n`), 'b listed while its lease stands');
  await r.json('gc');
  assert.doesNotMatch(hostsOf(a), new RegExp(`\\t${b} `), 'gone once gc undid the connect');
  assert.match(hostsOf(a), new RegExp(`\\t${c} ${c}\\.${net}\\n`));
  assert.doesNotMatch(hostsOf(b), new RegExp(`\\t${a} `), 'b has no network any more');
});

test('a read-only /etc/netns: create says so and goes on; the sandbox sees the host\'s files', async (t) => {
  const r = rootForTest(t);
  mount('-o', 'remount,ro', ETC_NETNS_DIR);
  t.after(() => mount('-o', 'remount,rw', ETC_NETNS_DIR));
  const name = randomName();
  const res = await r.run('create', name);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, new RegExp(`^nsbox: cannot make ${ETC_NETNS_DIR}/${name} \\(EROFS: read-only file system, mkdir '${ETC_NETNS_DIR}/${name}'\\): sandbox ${name} sees the host's /etc/resolv.conf and /etc/hosts\\n$`));
  const cat = await r.run('exec', name, '--', 'cat', '/etc/hosts');
  assert.deepEqual([cat.code, cat.stdout, cat.stderr], [0, readFileSync('/etc/hosts', 'utf8'), '']);
  assert.deepEqual(etcNetnsMarkers(r.root), []);
  await r.ok('rm', name);
});
