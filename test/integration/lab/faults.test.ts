/**
 * Integration (root, throwaway host): a lab's faults end to end, through bin/nsbox.js over a
 * state root of each test's own, with real traffic between the nodes. A lab of three nodes
 * (n1 and the router r1 on a bridge network, r1 and n2 on the `wan` link with rates, n1 and n2
 * on the lossy link `lossy`, n1 and r1 on the IPv6 link `v6`) defines one fault of each kind.
 * Partitions are checked both ways with pings and UDP counts, one-way ones in each direction,
 * two overlapping ones healed one at a time; link-down cuts traffic and its heal brings back
 * the static routes and IPv6 addresses the kernel removed; impairment sets change the tbf
 * (read back with tc) and the loss (counted UDP), overlap, and heal back to the file's;
 * `--for` and healDue; `lab impair` merges; `fault list --json`; every bad name or unsupported
 * fault is a clear error that changes nothing.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Manager } from '../../../src/managed/index.js';
import { healDue, Lab, runScheduleStep } from '../../../src/lab/index.js';
import type { NsboxRoot } from '../../helpers/cli.js';
import { labRootForTest } from '../../helpers/lab-root.js';
import { inLossBand, inNode, lossElement, pings, tbfRate, udpAcross, writeLab } from '../../helpers/lab.js';
import { randomName } from '../../helpers/names.js';
import { waitUntil } from '../../helpers/wait.js';
import { setTimeout as sleep } from 'node:timers/promises';

const labFile = (lab: string): string => `lab: ${lab}
networks:
  lan: { subnet: 10.10.0.0/24 }
nodes:
  n1:
    interfaces: { eth0: { network: lan, address: 10.10.0.11/24 } }
    routes: [ { to: 10.30.0.0/30, via: 10.10.0.1 } ]
    processes: [ { name: sleeper, cmd: "sleep 1000" } ]
  r1:
    forwarding: true
    interfaces: { eth0: { network: lan, address: 10.10.0.1/24 } }
  n2:
    routes: [ { to: default, via: 10.30.0.1 } ]
links:
  - name: wan
    a: { node: r1, iface: eth1, address: 10.30.0.1/30 }
    b: { node: n2, iface: eth1, address: 10.30.0.2/30 }
    impair: { a->b: { rate: 10mbit }, b->a: { rate: 2mbit } }
  - name: lossy
    a: { node: n1, iface: eth2, address: 10.40.0.1/30 }
    b: { node: n2, iface: eth2, address: 10.40.0.2/30 }
    impair: { a->b: { loss: 30% } }
  - name: v6
    a: { node: n1, iface: eth3, address: fd00:6::1/64 }
    b: { node: r1, iface: eth3, address: fd00:6::2/64 }
faults:
  split: { partition: [[n1], [r1]] }
  n1-to-r1: { partition: [[n1], [r1]], oneway: true }
  wan-down: { link-down: wan }
  wan-a-down: { link-down: wan, side: a }
  v6-down: { link-down: v6 }
  slow: { impair: { wan: { a->b: { rate: 1mbit } } } }
  degrade: { impair: { wan: { a->b: { loss: 20% } }, lossy: { b->a: { loss: 50% } } } }
  laggy: { impair: { wan: { both: { delay: 20ms } } } }
  freeze: { signal: { node: n1, process: sleeper, signal: STOP } }
`;

interface FaultJson {
  name: string;
  kind: string;
  detail: string;
  source: string;
  active: boolean;
  since?: string;
  healAt?: string;
  overdue: boolean;
}

interface Ctx {
  r: NsboxRoot;
  lab: string;
  file: string;
  n1: string;
  r1: string;
  n2: string;
  /** `nsbox --json lab fault ARGS… LAB … -f FILE`. */
  fault: <T>(verb: string, ...args: string[]) => Promise<T>;
  active: () => Promise<string[]>;
  blocked: () => Promise<Record<string, string[]>>;
}

async function upLab(t: TestContext): Promise<Ctx> {
  const r = labRootForTest(t); // its labs go down (their supervisor and processes first) before the root's teardown
  const lab = randomName('flt');
  const file = writeLab(t, labFile(lab));
  await r.json('lab', 'up', '-f', file);
  const fault = <T>(verb: string, ...args: string[]): Promise<T> => r.json<T>('lab', 'fault', verb, lab, ...args, ...(verb === 'heal' ? [] : ['-f', file]));
  const active = async (): Promise<string[]> => (await fault<FaultJson[]>('list')).filter((f) => f.active).map((f) => f.name);
  const blocked = async (): Promise<Record<string, string[]>> => Object.fromEntries(
    (await r.json<{ nodes: { node: string; blocked: string[] }[] }>('lab', 'status', lab)).nodes.map((n) => [n.node, [...n.blocked].sort()]),
  );
  return { r, lab, file, n1: `${lab}.n1`, r1: `${lab}.r1`, n2: `${lab}.n2`, fault, active, blocked };
}

test('fault apply split: n1 and r1 cut both ways (pings, UDP), n2 unaffected; applying again is a no-op; heal restores; fault list and status show it', async (t) => {
  const c = await upLab(t);
  assert.ok(pings(c.n1, '10.10.0.1') && pings(c.r1, '10.10.0.11'), 'before: n1 and r1 reach each other');
  assert.equal(await udpAcross(c.lab, 'n1', 'r1', '10.10.0.1', 100), 100);

  const applied = await c.fault<{ name: string; applied: boolean; kind: string }>('apply', 'split');
  assert.deepEqual([applied.name, applied.applied, applied.kind], ['split', true, 'partition']);
  assert.equal(pings(c.n1, '10.10.0.1'), false, 'n1 -> r1 cut');
  assert.equal(pings(c.r1, '10.10.0.11'), false, 'r1 -> n1 cut');
  assert.equal(await udpAcross(c.lab, 'n1', 'r1', '10.10.0.1', 100), 0, 'no datagram n1 -> r1');
  assert.equal(await udpAcross(c.lab, 'r1', 'n1', '10.10.0.11', 100), 0, 'no datagram r1 -> n1');
  assert.ok(pings(c.n2, '10.30.0.1'), 'n2 -> r1 still works');

  const again = await c.fault<{ applied: boolean }>('apply', 'split');
  assert.equal(again.applied, false, 'applying an active fault again does nothing');
  const text = await c.r.ok('lab', 'fault', 'apply', c.lab, 'split', '-f', c.file);
  assert.match(text, /already active: nothing done/);

  const list = await c.fault<FaultJson[]>('list');
  assert.deepEqual(list.map((f) => [f.name, f.kind, f.active]), [
    ['split', 'partition', true], ['n1-to-r1', 'partition', false], ['wan-down', 'link-down', false], ['wan-a-down', 'link-down', false],
    ['v6-down', 'link-down', false], ['slow', 'impair', false], ['degrade', 'impair', false], ['laggy', 'impair', false], ['freeze', 'signal', false],
  ]);
  const split = list[0]!;
  assert.equal(split.detail, 'n1 | r1');
  assert.equal(split.source, 'file');
  assert.ok(split.since !== undefined && Date.parse(split.since) > 0);
  assert.equal(split.healAt, undefined);
  assert.equal(split.overdue, false);
  const st = await c.r.json<{ faults: FaultJson[] }>('lab', 'status', c.lab);
  assert.deepEqual(st.faults.map((f) => [f.name, f.kind, f.since]), [['split', 'partition', split.since]]);
  assert.match(await c.r.ok('lab', 'status', c.lab), /active faults:\nNAME +KIND +ACTIVE +SINCE +HEALS AT +DETAIL\nsplit +partition +yes/);

  const healed = await c.fault<{ healed: boolean }>('heal', 'split');
  assert.equal(healed.healed, true);
  assert.ok(pings(c.n1, '10.10.0.1') && pings(c.r1, '10.10.0.11'), 'healed');
  assert.equal(await udpAcross(c.lab, 'n1', 'r1', '10.10.0.1', 100), 100);
  assert.deepEqual(await c.active(), []);
  assert.deepEqual(await c.blocked(), { n1: [], n2: [], r1: [] });
  const twice = await c.fault<{ healed: boolean }>('heal', 'split');
  assert.equal(twice.healed, false, 'healing a fault that is not active succeeds');
});

test('one-way partitions: n1 -> r1 dropped while r1 -> n1 arrives (the file\'s fault), and the other way (lab partition --oneway)', async (t) => {
  const c = await upLab(t);
  await c.fault('apply', 'n1-to-r1');
  assert.equal(await udpAcross(c.lab, 'n1', 'r1', '10.10.0.1', 100), 0, 'n1 -> r1 dropped');
  assert.equal(await udpAcross(c.lab, 'r1', 'n1', '10.10.0.11', 100), 100, 'r1 -> n1 arrives');
  assert.deepEqual((await c.blocked()).n1, [], 'n1 blocks nothing');
  await c.fault('heal', 'n1-to-r1');

  const p = await c.r.json<{ name: string; blocked: Record<string, string[]> }>('lab', 'partition', c.lab, 'r1', 'n1', '--oneway');
  assert.equal(p.name, 'partition-1');
  assert.deepEqual(Object.keys(p.blocked), [c.n1], 'only n1, the receiver, drops');
  assert.equal(await udpAcross(c.lab, 'r1', 'n1', '10.10.0.11', 100), 0, 'r1 -> n1 dropped');
  assert.equal(await udpAcross(c.lab, 'n1', 'r1', '10.10.0.1', 100), 100, 'n1 -> r1 arrives');
  const heal = await c.r.json<{ healed: { name: string }[] }>('lab', 'heal', c.lab);
  assert.deepEqual(heal.healed.map((h) => h.name), ['partition-1']);
  assert.equal(await udpAcross(c.lab, 'r1', 'n1', '10.10.0.11', 100), 100);
});

test('two overlapping partitions: healing one leaves the other holding, healing both restores', async (t) => {
  const c = await upLab(t);
  await c.fault('apply', 'split');
  const adhoc = await c.r.json<{ name: string }>('lab', 'partition', c.lab, 'n1', 'r1,n2');
  assert.equal(adhoc.name, 'partition-1');
  assert.deepEqual(await c.active(), ['split', 'partition-1']);
  assert.equal(await udpAcross(c.lab, 'n2', 'n1', '10.40.0.1', 50), 0, 'partition-1 cuts n2 from n1 too (over lossy b->a, which loses nothing)');

  await c.fault('heal', 'split');
  assert.deepEqual(await c.active(), ['partition-1']);
  assert.equal(pings(c.n1, '10.10.0.1'), false, 'n1 -> r1 still cut by partition-1 (the same addresses blocked)');
  assert.equal(pings(c.r1, '10.10.0.11'), false, 'r1 -> n1 still cut');
  assert.equal(await udpAcross(c.lab, 'n1', 'r1', '10.10.0.1', 50), 0);

  // The other order: the ad-hoc one healed first, the file's still holds.
  await c.fault('apply', 'split');
  await c.fault('heal', 'partition-1');
  assert.deepEqual(await c.active(), ['split']);
  assert.equal(pings(c.n1, '10.10.0.1'), false, 'split still holds');
  assert.equal(await udpAcross(c.lab, 'n2', 'n1', '10.40.0.1', 50), 50, 'n2 reaches n1 again (only partition-1 cut it)');

  await c.r.json('lab', 'heal', c.lab);
  assert.ok(pings(c.n1, '10.10.0.1') && pings(c.r1, '10.10.0.11'));
  assert.deepEqual(await c.blocked(), { n1: [], n2: [], r1: [] });
});

const routes = (sandbox: string): string[] => (JSON.parse(inNode(sandbox, 'ip', '-j', 'route', 'show').out) as { dst: string; gateway?: string; protocol?: string }[])
  .filter((r) => r.protocol !== 'kernel').map((r) => `${r.dst}${r.gateway === undefined ? '' : ` via ${r.gateway}`}`).sort();

const linkUp = (sandbox: string, iface: string): boolean => (JSON.parse(inNode(sandbox, 'ip', '-j', 'link', 'show', iface).out) as { flags: string[] }[])[0]!.flags.includes('UP');

test('link-down wan: traffic across it fails; heal sets both ends up and brings back the static routes the kernel removed; side a only downs r1\'s end', async (t) => {
  const c = await upLab(t);
  assert.ok(pings(c.n1, '10.30.0.2'), 'n1 -> n2 through r1 before');
  assert.deepEqual(routes(c.n2), ['default via 10.30.0.1']);

  await c.fault('apply', 'wan-down');
  assert.equal(linkUp(c.r1, 'eth1') || linkUp(c.n2, 'eth1'), false, 'both ends down');
  assert.equal(pings(c.r1, '10.30.0.2'), false, 'r1 -> n2 fails');
  assert.equal(pings(c.n1, '10.30.0.2'), false, 'n1 -> n2 through r1 fails');
  assert.deepEqual(routes(c.n2), [], "the kernel removed n2's default route");

  const healed = await c.fault<{ restored: string[] }>('heal', 'wan-down');
  assert.ok(healed.restored.includes(`${c.n2} route default via 10.30.0.1`), healed.restored.join('\n'));
  assert.ok(linkUp(c.r1, 'eth1') && linkUp(c.n2, 'eth1'));
  assert.deepEqual(routes(c.n2), ['default via 10.30.0.1'], 'the static route is back');
  assert.ok(pings(c.n1, '10.30.0.2'), 'n1 -> n2 through r1 again (needs n2\'s default route back)');
  assert.equal(tbfRate(c.r1, 'eth1'), 10_000_000, 'the rate stays on the end (a qdisc outlives down)');

  await c.fault('apply', 'wan-a-down');
  assert.equal(linkUp(c.r1, 'eth1'), false);
  assert.equal(linkUp(c.n2, 'eth1'), true, 'side a only');
  assert.equal(pings(c.n2, '10.30.0.1'), false);
  await c.fault('heal', 'wan-a-down');
  assert.ok(pings(c.n2, '10.30.0.1'));
  assert.ok(pings(c.n1, '10.30.0.2'));
});

test('link-down v6: the IPv6 addresses the kernel removes on down come back on heal; two faults downing one link end: it stays down until both heal', async (t) => {
  const c = await upLab(t);
  assert.ok(inNode(c.n1, 'ping', '-6', '-c', '2', '-i', '0.2', '-W', '1', '-q', 'fd00:6::2').ok, 'before');
  await c.fault('apply', 'v6-down');
  assert.doesNotMatch(inNode(c.n1, 'ip', '-6', 'addr', 'show', 'dev', 'eth3').out, /fd00:6::1/, 'the kernel removed the address');
  await c.fault('apply', 'wan-down');
  await c.fault('apply', 'wan-a-down');
  await c.fault('heal', 'wan-down');
  assert.equal(linkUp(c.r1, 'eth1'), false, 'wan-a-down still holds r1\'s end');
  assert.equal(linkUp(c.n2, 'eth1'), true, 'n2\'s end was only wan-down\'s');
  await c.r.json('lab', 'heal', c.lab);
  assert.match(inNode(c.n1, 'ip', '-6', 'addr', 'show', 'dev', 'eth3').out, /fd00:6::1\/64/);
  assert.ok(inNode(c.n1, 'ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', '-q', 'fd00:6::2').ok, 'v6 healed');
  assert.ok(pings(c.n1, '10.30.0.2'), 'wan healed');
  assert.deepEqual(routes(c.n2), ['default via 10.30.0.1']);
});

test('impairment sets: slow sets wan a->b to 1mbit (tc); degrade merges 20% loss over it and 50% on lossy b->a (counted UDP); healing each recomputes from the file and the other', async (t) => {
  const c = await upLab(t);
  assert.equal(tbfRate(c.r1, 'eth1'), 10_000_000);
  inNode(c.n2, 'ping', '-c', '2', '-i', '0.2', '-W', '1', '-q', '10.40.0.1'); // neighbours resolved before counting

  await c.fault('apply', 'slow');
  assert.equal(tbfRate(c.r1, 'eth1'), 1_000_000, 'the fault\'s rate');
  assert.equal(tbfRate(c.n2, 'eth1'), 2_000_000, 'b->a untouched');

  await c.fault('apply', 'degrade');
  assert.equal(tbfRate(c.r1, 'eth1'), 1_000_000, 'merged over what was live: the rate stays');
  assert.equal(lossElement(c.n2, 'eth1'), '"eth1" . 0-199999', '20% on wan a->b at n2');
  assert.equal(lossElement(c.n1, 'eth2'), '"eth2" . 0-499999', '50% on lossy b->a at n1');
  assert.equal(lossElement(c.n2, 'eth2'), '"eth2" . 0-299999', 'lossy a->b keeps the file\'s 30%');
  const n = 1000;
  const received = await udpAcross(c.lab, 'n2', 'n1', '10.40.0.1', n);
  assert.ok(inLossBand(received, n, 0.5), `50% loss: ${received} of ${n} arrived`);

  await c.fault('heal', 'slow');
  assert.equal(tbfRate(c.r1, 'eth1'), 10_000_000, 'the file\'s rate back, degrade\'s loss over it');
  assert.equal(lossElement(c.n2, 'eth1'), '"eth1" . 0-199999');

  await c.fault('heal', 'degrade');
  assert.equal(tbfRate(c.r1, 'eth1'), 10_000_000);
  assert.equal(lossElement(c.n2, 'eth1'), undefined, 'no loss on wan a->b (the file has none)');
  assert.equal(lossElement(c.n1, 'eth2'), undefined);
  assert.equal(lossElement(c.n2, 'eth2'), '"eth2" . 0-299999');
  assert.equal(await udpAcross(c.lab, 'n2', 'n1', '10.40.0.1', n), n, 'lossy b->a loses nothing again');
});

test('--for: heal times recorded, healed on time by the lab\'s supervisor, or by healDue; runScheduleStep applies and heals', async (t) => {
  const c = await upLab(t);
  const p = await c.r.json<{ name: string; healAt: string }>('lab', 'partition', c.lab, 'n1', 'r1', '--for', '1h');
  const applied = await c.fault<{ healAt: string }>('apply', 'split', '--for', '1s');
  assert.ok(Date.parse(p.healAt) - Date.now() > 30 * 60_000, 'an hour ahead');
  assert.equal(pings(c.n1, '10.10.0.1'), false);

  // The lab's supervisor (started for the timed faults) heals split on time; partition-1 holds.
  await waitUntil('split past its heal time', () => Date.now() > Date.parse(applied.healAt));
  for (let i = 0; i < 100 && (await c.active()).includes('split'); i++) await sleep(100);
  assert.deepEqual(await c.active(), ['partition-1'], 'split healed by the supervisor, no command given');

  const manager = Manager.open({ root: c.r.root });
  t.after(() => manager.close());
  assert.equal(pings(c.n1, '10.10.0.1'), false, 'partition-1 still holds');
  assert.deepEqual(await healDue(manager, c.lab), [], 'nothing else is due');
  assert.deepEqual((await healDue(manager, c.lab, new Date(Date.now() + 2 * 3600_000))).map((h) => h.name), ['partition-1']);
  assert.ok(pings(c.n1, '10.10.0.1'));

  const spec = (await Lab.load(c.file)).spec;
  await runScheduleStep(manager, c.lab, { atMs: 0, action: 'apply', fault: 'split' }, { file: c.file });
  assert.equal(pings(c.n1, '10.10.0.1'), false);
  await assert.rejects(runScheduleStep(manager, c.lab, { atMs: 1, action: 'apply', fault: 'split' }, { file: c.file }), /already active/);
  // The stored spec (as `up` stores it) is read when no file is given.
  manager.labs.beginApply(c.lab, spec, createHash('sha256').update(JSON.stringify(spec)).digest('hex'), c.file);
  manager.labs.setState(c.lab, 'up');
  await runScheduleStep(manager, c.lab, { atMs: 2, action: 'heal', fault: 'split' });
  assert.ok(pings(c.n1, '10.10.0.1'));
  await assert.rejects(runScheduleStep(manager, c.lab, { atMs: 3, action: 'heal', fault: 'split' }), /not active/);
  const viaStored = await c.r.json<{ applied: boolean }>('lab', 'fault', 'apply', c.lab, 'split');
  assert.equal(viaStored.applied, true, 'fault apply without -f reads the stored file');
});

test('lab impair merges into what is live: a rate, then a loss (the rate stays), --clear; the next up returns the file\'s', async (t) => {
  const c = await upLab(t);
  const set = await c.r.json<{ directions: { dir: string; before: { rate?: number }; after: { rate?: number; loss?: number } }[] }>('lab', 'impair', c.lab, 'wan', '--dir', 'a->b', '--rate', '3mbit');
  assert.deepEqual(set.directions.map((d) => [d.dir, d.before.rate, d.after.rate]), [['a->b', 10_000_000, 3_000_000]]);
  assert.equal(tbfRate(c.r1, 'eth1'), 3_000_000);
  await c.r.json('lab', 'impair', c.lab, 'wan', '--dir', 'a->b', '--loss', '10%');
  assert.equal(tbfRate(c.r1, 'eth1'), 3_000_000, 'setting the loss kept the rate');
  assert.equal(lossElement(c.n2, 'eth1'), '"eth1" . 0-99999');
  await c.r.json('lab', 'impair', c.lab, 'wan', '--loss', '0.05');
  assert.equal(lossElement(c.n2, 'eth1'), '"eth1" . 0-49999', 'both directions: a->b');
  assert.equal(lossElement(c.r1, 'eth1'), '"eth1" . 0-49999', 'and b->a');
  assert.equal(tbfRate(c.n2, 'eth1'), 2_000_000, 'b->a keeps its rate');
  const st = await c.r.json<{ nodes: { node: string; interfaces: { name: string; rate?: number; loss?: number }[] }[] }>('lab', 'status', c.lab);
  const r1eth1 = st.nodes.find((n) => n.node === 'r1')!.interfaces.find((i) => i.name === 'eth1')!;
  assert.deepEqual([r1eth1.rate, r1eth1.loss], [3_000_000, 0.05], 'status shows the live values');

  await c.r.json('lab', 'impair', c.lab, 'wan', '--dir', 'a->b', '--clear');
  assert.equal(tbfRate(c.r1, 'eth1'), undefined);
  assert.equal(lossElement(c.n2, 'eth1'), undefined);
  assert.equal(lossElement(c.r1, 'eth1'), '"eth1" . 0-49999', '--clear of a->b leaves b->a');

  // A delay merges too: the delay engine's, beside what the kernel holds.
  const delayed = await c.r.json<{ directions: { dir: string; before: { loss?: number }; after: { delay?: number; loss?: number } }[] }>('lab', 'impair', c.lab, 'wan', '--dir', 'b->a', '--delay', '20ms');
  assert.equal(delayed.directions[0]!.after.delay, 20);
  assert.ok(delayed.directions[0]!.before.loss !== undefined);
  assert.equal(delayed.directions[0]!.after.loss, delayed.directions[0]!.before.loss, 'the loss stays when a delay comes');
  assert.match((await c.r.fails(2, 'lab', 'impair', c.lab, 'wan', '--dir', 'a->b', '--jitter', '5ms')).error, /jitter 5ms needs a delay at least as large/);
  assert.match((await c.r.fails(2, 'lab', 'impair', c.lab, 'wan', '--rate', '10')).error, /--rate: invalid rate "10"/);
  assert.match((await c.r.fails(2, 'lab', 'impair', c.lab, 'wan', '--dir', 'up', '--rate', '1mbit')).error, /--dir: expected a->b, b->a or both/);
  assert.match((await c.r.fails(2, 'lab', 'impair', c.lab, 'wan')).error, /nothing to change/);
  assert.match((await c.r.fails(3, 'lab', 'impair', c.lab, 'nope', '--rate', '1mbit')).error, /has no link named nope/);
  assert.equal(tbfRate(c.r1, 'eth1'), undefined, 'the refused commands changed nothing');
  assert.equal(tbfRate(c.n2, 'eth1'), 2_000_000);

  await c.r.json('lab', 'up', '-f', c.file);
  assert.equal(tbfRate(c.r1, 'eth1'), 10_000_000, 'up returns the file\'s impairments');
  assert.equal(lossElement(c.r1, 'eth1'), undefined);
});

test('bad fault names: clear errors, nothing changed; a delay fault and a signal fault apply and heal', async (t) => {
  const c = await upLab(t);
  const unknown = await c.r.fails(3, 'lab', 'fault', 'apply', c.lab, 'nope', '-f', c.file);
  assert.equal(unknown.code, 'NSBOX_ERR_NOT_FOUND');
  assert.match(unknown.error, /has no fault named nope \(its faults: split, n1-to-r1, wan-down/);
  // A delay (the supervisor's delay engine) and a signal (STOP, healed by CONT) apply and heal.
  for (const name of ['laggy', 'freeze']) {
    assert.equal((await c.r.json<{ applied: boolean }>('lab', 'fault', 'apply', c.lab, name, '-f', c.file)).applied, true, name);
    assert.equal((await c.r.json<{ healed: boolean }>('lab', 'fault', 'heal', c.lab, name)).healed, true, name);
  }
  // Without -f, the file `up` stored is read.
  assert.equal((await c.r.json<{ applied: boolean }>('lab', 'fault', 'apply', c.lab, 'split')).applied, true);
  assert.equal((await c.r.json<{ healed: boolean }>('lab', 'fault', 'heal', c.lab, 'split')).healed, true);
  const other = writeLab(t, labFile('other'));
  assert.match((await c.r.fails(2, 'lab', 'fault', 'apply', c.lab, 'split', '-f', other)).error, /is the file of lab other, not of/);
  assert.match((await c.r.fails(2, 'lab', 'fault', 'apply', c.lab, 'split', '-f', c.file, '--for', '5')).error, /--for: invalid duration "5"/);
  assert.match((await c.r.fails(3, 'lab', 'fault', 'apply', 'nolab', 'split', '-f', writeLab(t, labFile('nolab')))).error, /no lab named nolab is up/);
  assert.match((await c.r.fails(3, 'lab', 'partition', c.lab, 'n1', 'nope')).error, /has no node nope/);
  assert.match((await c.r.fails(2, 'lab', 'partition', c.lab, 'n1', 'n1')).error, /node n1 is in two groups/);
  const heal = await c.r.json<{ healed: boolean }>('lab', 'fault', 'heal', c.lab, 'nope');
  assert.equal(heal.healed, false, 'healing an unknown name is healing nothing');

  assert.deepEqual(await c.active(), []);
  assert.deepEqual(await c.blocked(), { n1: [], n2: [], r1: [] });
  assert.ok(pings(c.n1, '10.10.0.1'));
  assert.equal(tbfRate(c.r1, 'eth1'), 10_000_000);
  assert.equal(lossElement(c.r1, 'eth1'), undefined);
});
