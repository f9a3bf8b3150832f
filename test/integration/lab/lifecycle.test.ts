/**
 * Integration (root, throwaway host): a lab's life across crashes, as child processes of
 * bin/nsbox.js over a state root of each test's own. `lab up` SIGKILLed at crash points of the
 * lab applier and of the managed layer under it (NSBOX_TEST_PAUSE), and after a number of
 * milliseconds, is finished by the next `up` (traffic crosses the lab) and `down` then leaves
 * nothing; or `gc` removes it all. A killed `down` is finished by `gc`. Pruning what the file
 * no longer has, two concurrent `up`s, `plan --detailed-exitcode`, the note on a lab too big for
 * the kernel's neighbour table, `ls`, `down --all` and the drift `status` reads back.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../src/package-root.js';
import { NSBOX_BIN, finished, type NsboxRoot } from '../../helpers/cli.js';
import { labRootForTest } from '../../helpers/lab-root.js';
import { hostVethName } from '../../../src/lab/naming.js';
import { randomName } from '../../helpers/names.js';

const small = (lab: string, extra = true): string => `lab: ${lab}
networks:
  lan: { subnet: 10.51.0.0/24 }
nodes:
  a:
    interfaces: { eth0: { network: lan, address: 10.51.0.2/24 } }
    routes: [ { to: 10.61.0.0/30, via: 10.51.0.1 } ]
  r:
    forwarding: true
    interfaces: { eth0: { network: lan, address: 10.51.0.1/24 } }
  b:
    routes: [ { to: default, via: 10.61.0.1 } ]
${extra ? '  c: {}\n' : ''}links:
  - name: wan
    a: { node: r, iface: wan0, address: 10.61.0.1/30 }
    b: { node: b, iface: wan0, address: 10.61.0.2/30 }
    impair: { a->b: { rate: 10mbit } }
${extra ? `  - name: side
    a: { node: a, iface: eth1, address: 10.62.0.1/30 }
    b: { node: c, iface: eth1, address: 10.62.0.2/30 }
` : ''}`;

interface UpJson {
  lab: string;
  changed: boolean;
  steps: { key: string; action: string; detail: string }[];
}

function writeLab(t: TestContext, text: string, name = 'lab.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-lab-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const inNode = (sandbox: string, ...cmd: string[]): { ok: boolean; out: string } => {
  const r = spawnSync('nsenter', [`--net=/run/netns/${sandbox}`, ...cmd], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
};
const pings = (sandbox: string, to: string): boolean => inNode(sandbox, 'ping', '-c', '2', '-i', '0.2', '-W', '1', '-q', to).ok;
const hostLinks = (): { ifname: string; ifindex: number }[] => JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string; ifindex: number }[];
const linkIndex = (sandbox: string, ifname: string): number => (JSON.parse(inNode(sandbox, 'ip', '-j', 'link', 'show', ifname).out) as { ifindex: number }[])[0]!.ifindex;

/** Nothing of the lab left: no sandbox, network, netns file or mount, /run/netns entry, `nl…` host link, lease, lab row. */
async function assertNothingLeft(r: NsboxRoot, lab: string): Promise<void> {
  assert.deepEqual(await r.json('ls'), [], 'no sandbox');
  assert.deepEqual(await r.json('network', 'ls'), [], 'no network (nor its leases)');
  assert.deepEqual(await r.json('lab', 'ls'), [], 'no lab row');
  assert.deepEqual(r.netnsMounts(), [], 'no namespace mount');
  assert.deepEqual((existsSync(r.netnsDir) ? readdirSync(r.netnsDir) : []).filter((f) => f.startsWith(lab)), [], 'no netns file');
  assert.deepEqual(readdirSync('/run/netns').filter((f) => f.startsWith(lab)), [], 'no /run/netns entry');
  const ends = new Set(['wan', 'side'].flatMap((l) => [hostVethName(lab, l, 'a'), hostVethName(lab, l, 'b')]));
  assert.deepEqual(hostLinks().map((l) => l.ifname).filter((n) => ends.has(n)), [], 'no host end of a link');
  assert.deepEqual(r.taggedHostLinks(), [], 'no tagged host link (veth, bridge)');
  const gc = await r.json<{ removed: unknown[] }>('gc', '--dry-run');
  assert.deepEqual(gc.removed, [], 'nothing for gc: no lease, no orphan');
}

/** The lab is complete: a reaches b through r, and b reaches a. */
function assertTraffic(lab: string): void {
  assert.ok(pings(`${lab}.a`, '10.61.0.2'), 'a reaches b through r');
  assert.ok(pings(`${lab}.b`, '10.51.0.2'), 'b reaches a through r');
  assert.ok(pings(`${lab}.a`, '10.62.0.2'), 'a reaches c on their link');
}

// Crash points, in the order an `up` of the small lab meets them.
const POINTS = [
  'lab-up:recorded', // the record says applying; nothing made
  'create:netns', // a sandbox's namespace made, its record still 'creating'
  'lab-up:node:b', // some nodes made
  'connect:kernel', // an interface on the network made, its row still 'adding'
  'veth-pair:recorded', // a link's two rows recorded 'adding', no veth yet
  'veth-pair:kernel', // the pair born in both nodes, both rows still 'adding'
  'veth-pair:one-end', // one end configured and ready, the other still 'adding'
  'lab-up:link:wan', // a link made, addresses and routes to come
  'lab-up:route:a/10.61.0.0/30', // a route made, impairments to come
];

for (const point of POINTS) {
  test(`lab up SIGKILLed at ${point}: the next up finishes it, traffic crosses, down leaves nothing`, async (t) => {
    const r = labRootForTest(t);
    const lab = randomName('lab');
    const file = writeLab(t, small(lab));
    await r.killAt(point, ['lab', 'up', '-f', file]);
    assert.equal((await r.json<{ name: string; state: string }[]>('lab', 'ls')).find((l) => l.name === lab)?.state, 'applying');
    const resumed = await r.json<UpJson>('lab', 'up', '-f', file);
    assert.equal(resumed.changed, true);
    assertTraffic(lab);
    assert.equal((await r.json<UpJson>('lab', 'up', '-f', file)).changed, false, 'then a second up changes nothing');
    const st = await r.json<{ state: string; drift: unknown[] }>('lab', 'status', lab);
    assert.equal(st.state, 'up');
    assert.deepEqual(st.drift, []);
    await r.ok('lab', 'down', lab);
    await assertNothingLeft(r, lab);
  });
}

for (const point of ['lab-up:recorded', 'connect:kernel', 'veth-pair:kernel', 'veth-pair:one-end', 'lab-up:route:a/10.61.0.0/30']) {
  test(`lab up SIGKILLed at ${point}: gc brings the interrupted lab down and leaves nothing`, async (t) => {
    const r = labRootForTest(t);
    const lab = randomName('lab');
    const file = writeLab(t, small(lab));
    await r.killAt(point, ['lab', 'up', '-f', file]);
    const gc = await r.json<{ removed: { kind: string; name: string; reason: string }[] }>('gc');
    assert.deepEqual(gc.removed.filter((a) => a.kind === 'lab'), [{ kind: 'lab', name: lab, reason: '`lab up` was interrupted' }]);
    await assertNothingLeft(r, lab);
  });
}

test('lab up SIGKILLed after 200 to 1400 ms, again and again: the next up finishes it; gc leaves a lab that is up alone', async (t) => {
  const r = labRootForTest(t);
  const lab = randomName('lab');
  const file = writeLab(t, small(lab));
  for (const ms of [200, 500, 800, 1100, 1400]) {
    const child = r.start(['lab', 'up', '-f', file]);
    const done = finished(child);
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    await done;
    clearTimeout(timer);
  }
  await r.ok('lab', 'up', '-f', file);
  assertTraffic(lab);
  const gc = await r.json<{ removed: { kind: string }[] }>('gc');
  assert.deepEqual(gc.removed.filter((a) => a.kind === 'lab'), [], 'a lab that is up is not collected');
  assertTraffic(lab);
  await r.ok('lab', 'down', lab);
  await assertNothingLeft(r, lab);
});

test('examples/labs/wan.yaml SIGKILLed with one end of its WAN link ready: up makes the link again, client reaches server; gc after a killed down finishes the down', async (t) => {
  const r = labRootForTest(t);
  const lab = randomName('wan');
  const file = writeLab(t, readFileSync(join(packageRoot(), 'examples/labs/wan.yaml'), 'utf8').replace(/^lab: wan\b/m, `lab: ${lab}`));
  await r.killAt('veth-pair:one-end', ['lab', 'up', '-f', file]);
  const resumed = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.ok(resumed.steps.some((s) => s.key === 'link:wan' && s.action === 'remove' && /half-made veth/.test(s.detail)), 'the ready end of the half-made link is dropped');
  assert.ok(resumed.steps.some((s) => s.key === 'link:wan' && s.action === 'create' && /^veth /.test(s.detail)), 'and the link made again');
  assert.ok(pings(`${lab}.client`, '10.40.2.10'), 'client reaches server across the WAN');
  await r.killAt('lab-down:sandboxes', ['lab', 'down', lab]);
  assert.equal((await r.json<{ name: string; state: string }[]>('lab', 'ls'))[0]?.state, 'removing');
  const gc = await r.json<{ removed: { kind: string; name: string; reason: string }[] }>('gc');
  assert.deepEqual(gc.removed.filter((a) => a.kind === 'lab'), [{ kind: 'lab', name: lab, reason: '`lab down` was interrupted' }]);
  await assertNothingLeft(r, lab);
});

test('lab up prunes: a node and a link taken out of the file are removed (remove steps, also in a dry run); the rest is untouched', async (t) => {
  const r = labRootForTest(t);
  const lab = randomName('lab');
  const file = writeLab(t, small(lab));
  await r.ok('lab', 'up', '-f', file);
  const before = { wan: linkIndex(`${lab}.r`, 'wan0'), lan: linkIndex(`${lab}.a`, 'eth0') };
  writeFileSync(file, small(lab, false));
  const dry = await r.json<UpJson>('lab', 'plan', '-f', file);
  const steps = dry.steps.filter((s) => s.action !== 'note').map((s) => `${s.action} ${s.key}`);
  assert.deepEqual(steps, ['remove link:side', 'remove node:c']);
  assert.equal((await r.json<unknown[]>('ls')).length, 4, 'the dry run removed nothing');
  const applied = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.deepEqual(applied.steps.filter((s) => s.action !== 'note').map((s) => `${s.action} ${s.key}`), steps);
  assert.deepEqual((await r.json<{ name: string }[]>('ls')).map((s) => s.name), [`${lab}.a`, `${lab}.b`, `${lab}.r`]);
  assert.doesNotMatch(inNode(`${lab}.a`, 'ip', '-br', 'link').out, /eth1/, "a's end of the link is gone");
  assert.deepEqual(hostLinks().map((l) => l.ifname).filter((n) => n === hostVethName(lab, 'side', 'a') || n === hostVethName(lab, 'side', 'b')), [], 'and no end of it is left in the host');
  assert.deepEqual({ wan: linkIndex(`${lab}.r`, 'wan0'), lan: linkIndex(`${lab}.a`, 'eth0') }, before, 'the rest is the same links');
  assert.ok(pings(`${lab}.a`, '10.61.0.2'), 'a still reaches b through r');
  assert.equal((await r.json<UpJson>('lab', 'up', '-f', file)).changed, false);
  await r.ok('lab', 'down', lab);
  await assertNothingLeft(r, lab);
});

test('two lab ups of one lab at once serialise: both succeed, one makes it, the other finds nothing to do', async (t) => {
  const r = labRootForTest(t);
  const lab = randomName('lab');
  const file = writeLab(t, small(lab));
  const results = await Promise.all([r.run('--json', 'lab', 'up', '-f', file), r.run('--json', 'lab', 'up', '-f', file)]);
  for (const res of results) assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(results.map((res) => (JSON.parse(res.stdout) as UpJson).changed).sort(), [false, true]);
  assertTraffic(lab);
  await r.ok('lab', 'down', lab);
  await assertNothingLeft(r, lab);
});

test('lab plan of 40 nodes on one network notes that the kernel\'s neighbour table may be too small (text and JSON) and makes nothing; a small lab has no such note', async (t) => {
  const r = labRootForTest(t);
  const lab = randomName('lab');
  const nodes = Array.from({ length: 40 }, (_, i) => `  n${i}: { interfaces: { eth0: { network: lan } } }`).join('\n');
  const file = writeLab(t, `lab: ${lab}\nnetworks:\n  lan: { subnet: 10.52.0.0/16 }\nnodes:\n${nodes}\n`);
  const text = await r.run('lab', 'plan', '-f', file);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /note +host:ipv4-neighbours +IPv4 neighbour entries: this lab needs up to 1640 .*gc_thresh3=4096/);
  const dry = await r.json<UpJson>('lab', 'plan', '-f', file);
  assert.deepEqual(dry.steps.filter((s) => s.action === 'note').map((s) => s.key), ['host:ipv4-neighbours']);
  assert.deepEqual(await r.json('ls'), [], 'a plan makes nothing');
  const smallPlan = await r.json<UpJson>('lab', 'plan', '-f', writeLab(t, small(randomName('lab'))));
  assert.deepEqual(smallPlan.steps.filter((s) => s.key.startsWith('host:')), []);
});

test('lab plan --detailed-exitcode: 2 with changes, 0 with none, 1 on an error; up and plan read ./lab.yaml without -f', async (t) => {
  const r = labRootForTest(t);
  const lab = randomName('lab');
  const file = writeLab(t, small(lab, false));
  assert.equal((await r.run('lab', 'plan', '-f', file, '--detailed-exitcode')).code, 2);
  assert.equal((await r.run('lab', 'plan', '-f', file)).code, 0, 'without the flag a plan with changes exits 0');
  assert.deepEqual(await r.json('lab', 'ls'), [], 'a plan records nothing');
  const cwd = join(file, '..');
  const inDir = (...args: string[]): number | null => spawnSync(process.execPath, [NSBOX_BIN, ...args], { cwd, env: { ...process.env, NSBOX_ROOT: r.root } }).status;
  assert.equal(inDir('lab', 'up'), 0, 'up reads ./lab.yaml');
  assert.equal(inDir('lab', 'plan', '--detailed-exitcode'), 0, 'no change');
  assert.equal((await r.run('lab', 'plan', '-f', join(cwd, 'missing.yaml'), '--detailed-exitcode')).code, 1, 'a missing file is an error');
  const bad = writeLab(t, 'lab: x\nnodez: {}\n');
  const res = await r.run('lab', 'plan', '-f', bad, '--detailed-exitcode');
  assert.equal(res.code, 1, 'a bad file is an error');
  assert.match(res.stderr, /nodez: unknown key/);
  const [listed] = await r.json<{ name: string; state: string; nodes: number; file: string; createdAt: string; updatedAt: string }[]>('lab', 'ls');
  assert.deepEqual([listed?.name, listed?.state, listed?.nodes, listed?.file], [lab, 'up', 3, file]);
  assert.match(await r.ok('lab', 'ls'), new RegExp(`${lab}\\s+up\\s+3\\s+${file}`));
  await r.ok('lab', 'down', lab);
});

test('lab status: state and drift (a route and a rate taken away by hand) read back; up repairs them; down --all downs every lab', async (t) => {
  const r = labRootForTest(t);
  const lab = randomName('lab');
  const other = randomName('lab');
  const file = writeLab(t, small(lab, false));
  await r.ok('lab', 'up', '-f', file);
  inNode(`${lab}.a`, 'ip', 'route', 'del', '10.61.0.0/30');
  inNode(`${lab}.r`, 'tc', 'qdisc', 'del', 'dev', 'wan0', 'root');
  inNode(`${lab}.b`, 'ip', 'addr', 'add', '10.61.0.9/30', 'dev', 'wan0');
  const st = await r.json<{ state: string; drift: { key: string; want: string; have: string }[] }>('lab', 'status', lab);
  assert.equal(st.state, 'up');
  assert.deepEqual(st.drift, [
    { key: 'route:a/10.61.0.0/30', want: 'via 10.51.0.1', have: 'missing' },
    { key: 'address:b/wan0/10.61.0.9/30', want: 'none', have: '10.61.0.9/30' },
    { key: 'impair:wan/a->b', want: 'rate 10000000 bit/s', have: 'rate none' },
  ]);
  assert.match(await r.ok('lab', 'status', lab), /drift from the file \(3\):\n {2}route:a\/10\.61\.0\.0\/30: want via 10\.51\.0\.1, have missing\n {2}address:b\/wan0\/10\.61\.0\.9\/30: want none, have 10\.61\.0\.9\/30/);
  const repaired = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.deepEqual(repaired.steps.map((s) => `${s.action} ${s.key}`), ['change route:a/10.61.0.0/30', 'change impair:wan/a->b']);
  inNode(`${lab}.b`, 'ip', 'addr', 'del', '10.61.0.9/30', 'dev', 'wan0');
  assert.deepEqual((await r.json<{ drift: unknown[] }>('lab', 'status', lab)).drift, []);

  await r.ok('lab', 'up', '-f', writeLab(t, small(other, false).replaceAll('10.51.', '10.52.').replaceAll('10.61.', '10.63.')));
  assert.deepEqual((await r.json<{ name: string }[]>('lab', 'ls')).map((l) => l.name).sort(), [lab, other].sort());
  const all = await r.json<{ labs: { lab: string }[]; errors: unknown[] }>('lab', 'down', '--all');
  assert.deepEqual(all.labs.map((l) => l.lab).sort(), [lab, other].sort());
  assert.deepEqual(all.errors, []);
  await assertNothingLeft(r, lab);
  assert.match(await r.ok('lab', 'down', lab), /nothing to remove/, 'a lab already gone is success');
  const usage = await r.fails(2, 'lab', 'down');
  assert.match(usage.error, /give a lab name or --all/);
});
