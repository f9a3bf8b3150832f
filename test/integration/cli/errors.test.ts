/**
 * Integration (root, throwaway host): bad input to the CLI gets one clear line on stderr (a
 * JSON object `{ error, code, exitCode }` with --json), the documented exit code, and changes
 * nothing — checked with iproute2 (host and sandbox links, addresses, routes, neighbours) and
 * `nsbox --json ls` before and after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  netnsMounts, netnsSymlinks, nsbox, nsboxJson, nsboxOk, registerCliLeakCheck, rootForFile, type CliResult,
} from '../../helpers/cli.js';
import { hostLinkNames, hostVeth } from '../../helpers/host-links.js';
import { randomName } from '../../helpers/names.js';
import { ipJson } from '../../helpers/iproute.js';

registerCliLeakCheck();

/** Everything a failed command could have changed. */
async function snapshot(root: string, names: readonly string[]): Promise<unknown> {
  return {
    records: await nsboxJson(root, 'ls'),
    mounts: netnsMounts(root),
    symlinks: netnsSymlinks(root),
    host: hostLinkNames().filter((n) => n.startsWith('nsbt')).sort(),
    inside: names.map((n) => ({
      addrs: ipJson(n, 'addr', 'show'),
      routes: ipJson(n, 'route', 'show', 'table', 'all'),
      neigh: ipJson(n, 'neigh', 'show'),
    })),
  };
}

/** Exit code, nothing on stdout, exactly one `nsbox: …` line on stderr matching `message`. */
function assertFails(res: CliResult, exitCode: number, message: RegExp, what: string): void {
  assert.equal(res.code, exitCode, `${what}: exit ${res.code ?? res.signal}, stderr ${res.stderr}`);
  assert.equal(res.stdout, '', `${what}: stdout`);
  const lines = res.stderr.split('\n');
  assert.equal(lines.length, 2, `${what}: one line on stderr, got ${JSON.stringify(res.stderr)}`);
  assert.match(lines[0]!, /^nsbox: /, what);
  assert.match(lines[0]!, message, what);
}

/** With --json: the error is one JSON object on stderr. */
function assertJsonFails(res: CliResult, exitCode: number, code: string, message: RegExp, what: string): void {
  assert.equal(res.code, exitCode, `${what}: exit ${res.code ?? res.signal}, stderr ${res.stderr}`);
  assert.equal(res.stdout, '', `${what}: stdout`);
  assert.ok(res.stderr.endsWith('\n') && res.stderr.indexOf('\n') === res.stderr.length - 1, `${what}: one line`);
  const err = JSON.parse(res.stderr) as Record<string, unknown>;
  assert.deepEqual(Object.keys(err), ['error', 'code', 'exitCode'], what);
  assert.equal(err.code, code, what);
  assert.equal(err.exitCode, exitCode, what);
  assert.match(String(err.error), message, what);
}

test('an unknown sandbox is exit 3 (NSBOX_ERR_NOT_FOUND) for every command that names one', async () => {
  const root = rootForFile();
  const other = await nsboxJson<{ name: string }>(root, 'create', randomName());
  const [src] = hostVeth();
  const before = await snapshot(root, [other.name]);
  const missing = randomName();
  const commands = [
    ['inspect', missing], ['exec', missing, '--', 'true'], ['iface', 'add', missing, '--src', src], ['iface', 'rm', missing, 'eth0'],
    ['route', 'add', missing, '--dst', '10.0.0.0/8', '--via', '10.1.1.1'], ['route', 'rm', missing, '--dst', '10.0.0.0/8', '--via', '10.1.1.1'],
    ['gw', 'set', missing, '10.1.1.1'], ['gw', 'unset', missing], ['neigh', 'add', missing, '10.1.1.1', '02:00:00:00:00:01'],
    ['neigh', 'rm', missing, '10.1.1.1', '02:00:00:00:00:01'],
  ];
  for (const cmd of commands) {
    assertFails(await nsbox(root, ...cmd), 3, new RegExp(`no sandbox named "${missing}" \\(see \`nsbox ls\`\\)$`), cmd.join(' '));
    assertJsonFails(await nsbox(root, '--json', ...cmd), 3, 'NSBOX_ERR_NOT_FOUND', /no sandbox named/, `--json ${cmd.join(' ')}`);
  }
  assert.deepEqual(await snapshot(root, [other.name]), before);
  assert.ok(hostLinkNames().includes(src));
  await nsboxOk(root, 'rm', other.name);
});

test('invalid addresses, MACs and interface names are exit 2 and touch nothing', async () => {
  const root = rootForFile();
  const sbx = await nsboxJson<{ name: string }>(root, 'create', randomName());
  const [src, peer] = hostVeth();
  const [ok] = hostVeth();
  await nsboxOk(root, 'iface', 'add', sbx.name, '--src', ok, '--ip', '10.81.0.2/24');
  const before = await snapshot(root, [sbx.name]);
  const n = sbx.name;
  const cases: [string[], RegExp][] = [
    [['iface', 'add', n, '--src', src, '--ip', '10.81.1.300/24'], /invalid .*"10\.81\.1\.300\/24"/],
    [['iface', 'add', n, '--src', src, '--ip', '10.81.1.2/33'], /prefix length must be 0 to 32/],
    [['iface', 'add', n, '--src', src, '--ip', 'fd81::2/64'], /IPv4/],
    [['iface', 'add', n, '--src', src, '--ip6', 'fd81::zz/64'], /invalid .*"fd81::zz\/64"/],
    [['iface', 'add', n, '--src', src, '--ip', '10.81.1.2/24', '--route', '10.82.0.0/99'], /10\.82\.0\.0\/99/],
    [['iface', 'add', n, '--src', src, '--mac', '02:00:00:00:00'], /invalid MAC/i],
    [['iface', 'add', n, '--src', src, '--mac', 'zz:00:00:00:00:01'], /invalid MAC/i],
    [['iface', 'add', n, '--src', src, '--sysctl', 'net.ipv4.forwarding'], /sysctl/],
    [['iface', 'add', n, '--src', 'nsbt0123456789ab'], /invalid --src interface name "nsbt0123456789ab": 1 to 15 bytes/],
    [['iface', 'add', n, '--src', 'nsbt/x'], /invalid --src interface name "nsbt\/x"/],
    [['iface', 'add', n, '--src', 'nsbt x'], /invalid --src interface name "nsbt x"/],
    [['iface', 'add', n, '--src', src, '--name', 'abcdefghijklmnop'], /invalid destination interface name "abcdefghijklmnop"/],
    [['iface', 'add', n, '--src', src, '--name', 'a/b'], /invalid destination interface name "a\/b"/],
    [['iface', 'add', n, '--src', src, '--name', 'a b'], /invalid destination interface name "a b"/],
    [['iface', 'add', n, '--src', src, '--prefix', 'abcdefghijklmnop'], /invalid interface prefix "abcdefghijklmnop": 1 to 14 bytes/],
    [['iface', 'add', n, '--src', src, '--name', 'x', '--prefix', 'y'], /cannot be used with|not both/],
    [['route', 'add', n, '--dst', '10.83.0.0/40', '--via', '10.81.0.1'], /prefix length must be 0 to 32/],
    [['route', 'add', n, '--dst', 'nonsense', '--via', '10.81.0.1'], /invalid --dst "nonsense"/],
    [['route', 'add', n, '--dst', '10.83.1.7/16', '--via', '10.81.0.1'], /host bits are set \(the network is 10\.83\.0\.0\/16\)/],
    [['route', 'add', n, '--dst', '10.83.0.0/16', '--via', '10.81.0'], /invalid --via address "10\.81\.0"/],
    [['route', 'add', n, '--dst', '10.83.0.0/16', '--via', 'fd81::1'], /not in the address family/],
    [['gw', 'set', n, '10.81.0.256'], /invalid gateway "10\.81\.0\.256"/],
    [['neigh', 'add', n, '10.81.0.9', '02:00:00:00:00:0g'], /invalid MAC address "02:00:00:00:00:0g"/],
    [['neigh', 'add', n, '10.81.0.999', '02:00:00:00:00:01'], /invalid neighbour address/],
    [['create', 'bad/name'], /invalid sandbox name "bad\/name"/],
    [['create', 'x', '--label', 'novalue'], /invalid label "novalue"/],
    [['rm'], /nothing to remove/],
    [['rm', n, '--all'], /not both/],
  ];
  for (const [cmd, message] of cases) {
    const res = await nsbox(root, ...cmd);
    if (res.stderr.startsWith('error:')) {
      // commander's own usage errors: its message and a hint to --help, exit 2
      assert.equal(res.code, 2, `${cmd.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, message, cmd.join(' '));
    } else {
      assertFails(res, 2, message, cmd.join(' '));
    }
    assertJsonFails(await nsbox(root, '--json', ...cmd), 2, 'NSBOX_ERR_USAGE', message, `--json ${cmd.join(' ')}`);
  }
  assert.deepEqual(await snapshot(root, [sbx.name]), before, 'nothing changed');
  assert.ok(hostLinkNames().includes(src) && hostLinkNames().includes(peer), 'the host link stayed in the host');
  await nsboxOk(root, 'rm', sbx.name);
});

test('commander usage errors (unknown command or option, missing argument) are exit 2, a JSON object with --json', async () => {
  const root = rootForFile();
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command 'frobnicate'/], [['create'], /missing required argument 'names'/],
    [['ls', '--bogus'], /unknown option '--bogus'/], [['iface', 'add', 'x'], /required option '--src <hostif>' not specified/],
    [['route', 'add', 'x', '--dst', '10.0.0.0/8'], /required option '--via <ip>' not specified/], [['exec', 'x'], /missing required argument 'command'/],
  ];
  for (const [cmd, message] of cases) {
    const res = await nsbox(root, ...cmd);
    assert.equal(res.code, 2, `${cmd.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr, /^error: /, cmd.join(' '));
    assert.match(res.stderr, message, cmd.join(' '));
    assert.equal(res.stdout, '');
    assertJsonFails(await nsbox(root, ...cmd, '--json'), 2, 'NSBOX_ERR_USAGE', message, `${cmd.join(' ')} --json`);
  }
  // --json after `--` belongs to the command exec runs, not to nsbox.
  const res = await nsbox(root, 'exec', 'x', '--', 'true', '--json');
  assertFails(res, 3, /no sandbox named "x"/, 'exec x -- true --json');
  assert.deepEqual(await nsboxJson(root, 'ls'), []);
});

test('a duplicate sandbox name is exit 4 and leaves the existing sandbox as it was', async () => {
  const root = rootForFile();
  const name = randomName();
  const first = await nsboxJson(root, 'create', name, '--label', 'v=1');
  const before = await snapshot(root, [name]);
  assertFails(await nsbox(root, 'create', name, '--label', 'v=2'), 4, new RegExp(`a sandbox named ${name} already exists`), 'create');
  assertJsonFails(await nsbox(root, '--json', 'create', name), 4, 'NSBOX_ERR_EXISTS', /already exists/, '--json create');
  assert.deepEqual(await snapshot(root, [name]), before);
  assert.deepEqual(await nsboxJson(root, 'ls'), [first]);

  // A /run/netns name nsbox did not make is not taken over either.
  const other = rootForFile();
  assertFails(await nsbox(other, 'create', name), 4, /already exists and was not made by nsbox/, 'create in another root');
  assert.deepEqual(await nsboxJson(other, 'ls'), []);
  assert.deepEqual(netnsMounts(other), []);
  assert.deepEqual(await snapshot(root, [name]), before);
  await nsboxOk(root, 'rm', name);
});

test('a missing host link is exit 3; an interface taken twice is exit 4; neither changes anything', async () => {
  const root = rootForFile();
  const sbx = await nsboxJson<{ name: string }>(root, 'create', randomName());
  const [src] = hostVeth();
  await nsboxOk(root, 'iface', 'add', sbx.name, '--src', src, '--name', 'up0', '--ip', '10.84.0.2/24');
  const [other] = hostVeth();
  const before = await snapshot(root, [sbx.name]);
  const gone = `${src.slice(0, -1)}q`;
  assertFails(await nsbox(root, 'iface', 'add', sbx.name, '--src', gone), 3, new RegExp(`no link named ${gone} in the host`), 'missing link');
  assertJsonFails(await nsbox(root, '--json', 'iface', 'add', sbx.name, '--src', gone), 3, 'NSBOX_ERR_NOT_FOUND', /no link named/, '--json missing link');
  assertFails(await nsbox(root, 'iface', 'add', sbx.name, '--src', src), 4, /already has an interface from/, 'same source twice');
  assertFails(await nsbox(root, 'iface', 'add', sbx.name, '--src', other, '--name', 'up0'), 4, /already has an interface named up0/, 'same name twice');
  assertFails(await nsbox(root, 'iface', 'rm', sbx.name, 'nope0'), 3, /has no interface nope0/, 'iface rm of nothing');
  assertFails(await nsbox(root, 'route', 'rm', sbx.name, '--dst', '10.85.0.0/16', '--via', '10.84.0.1'), 3, /has no route/, 'route rm of nothing');
  assertFails(await nsbox(root, 'neigh', 'add', sbx.name, '10.84.0.9', '02:00:00:00:00:09', '--dev', 'nope0'), 3, /has no interface nope0/, 'neigh on no link');
  await nsboxOk(root, 'route', 'add', sbx.name, '--dst', '10.85.0.0/16', '--via', '10.84.0.1');
  const withRoute = await snapshot(root, [sbx.name]);
  assertFails(await nsbox(root, 'route', 'add', sbx.name, '--dst', '10.85.0.0/16', '--via', '10.84.0.1'), 4, /already has a route/, 'route twice');
  assert.deepEqual(await snapshot(root, [sbx.name]), withRoute);
  await nsboxOk(root, 'route', 'rm', sbx.name, '--dst', '10.85.0.0/16', '--via', '10.84.0.1');
  assert.deepEqual(await snapshot(root, [sbx.name]), before);
  assert.ok(hostLinkNames().includes(other));
  await nsboxOk(root, 'rm', sbx.name);
  assert.ok(hostLinkNames().includes(src));
});
