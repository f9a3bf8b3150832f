/**
 * Integration (root, throwaway host): `nsbox lab` end to end, as child processes of
 * bin/nsbox.js over a state root of each test's own. A three-node lab (n1 on a bridge network
 * with the router r1, r1 and n2 on a point-to-point link, n1 and n2 on a second, lossy link)
 * comes up; traffic crosses it through the router; a second `up` changes nothing; `status`
 * reads the impairments back from the kernel, checked against iproute2 and nft; a partition
 * cuts n1 and r1 off each other both ways while n2 still reaches r1, and heal restores it;
 * 30% loss shows in a binomial band of 1000 UDP datagrams; `down` leaves nothing. A bad file
 * exits 2 with its positioned problem and makes nothing.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/package-root.js';
import { type NsboxRoot } from '../../helpers/cli.js';
import { labRootForTest } from '../../helpers/lab-root.js';
import { randomName } from '../../helpers/names.js';
import { inNode, pings, udpAcross, writeLab } from '../../helpers/lab.js';

const labFile = (lab: string): string => `lab: ${lab}
networks:
  lan: { subnet: 10.10.0.0/24 }
nodes:
  n1:
    interfaces: { eth0: { network: lan, address: 10.10.0.11/24 } }
    routes: [ { to: 10.30.0.0/30, via: 10.10.0.1 } ]
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
`;

const hostLinks = (): string[] => (JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[]).map((l) => l.ifname).sort();

interface StatusJson {
  lab: string;
  up: boolean;
  networks: { name: string; subnets: string[]; hostAddresses: string[] }[];
  nodes: { node: string; sandbox: string; state: string; blocked: string[]; interfaces: { name: string; network?: string; addresses: string[]; rate?: number; loss?: number; delay?: { delayMs: number }; mechanisms: Record<string, string> }[] }[];
}

interface UpJson {
  lab: string;
  changed: boolean;
  dryRun: boolean;
  steps: { key: string; action: string; detail: string }[];
}

async function upLab(t: TestContext): Promise<{ r: NsboxRoot; lab: string; file: string }> {
  const r = labRootForTest(t);
  const lab = randomName('lab');
  const file = writeLab(t, labFile(lab));
  const result = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.equal(result.changed, true);
  return { r, lab, file };
}

test('lab up: a dry run makes nothing; up makes the lab; traffic crosses the router; a second up changes nothing; status reads it back; down leaves nothing', async (t) => {
  const r = labRootForTest(t);
  const lab = randomName('lab');
  const file = writeLab(t, labFile(lab));
  const linksBefore = hostLinks();

  const dry = await r.json<UpJson>('lab', 'up', '-f', file, '--dry-run');
  assert.equal(dry.changed, true);
  assert.deepEqual(dry.steps.filter((s) => s.action === 'create').map((s) => s.key), [
    'network:lan', 'node:n1', 'node:n2', 'node:r1', 'iface:n1/eth0', 'iface:r1/eth0', 'link:lossy', 'link:wan', 'route:n1/10.30.0.0/30', 'route:n2/0.0.0.0/0',
  ]);
  assert.deepEqual(await r.json('ls'), [], 'a dry run makes no sandbox');
  assert.deepEqual(await r.json('network', 'ls'), [], 'nor a network');

  const first = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.equal(first.changed, true);
  const names = (await r.json<{ name: string; labels: Record<string, string> }[]>('ls')).map((s) => [s.name, s.labels['nsbox.lab']]);
  assert.deepEqual(names, [[`${lab}.n1`, lab], [`${lab}.n2`, lab], [`${lab}.r1`, lab]]);
  assert.equal((await r.sandbox(`${lab}.r1`)).interfaces.map((i) => i.dstName).sort().join(','), 'eth0,eth1');
  assert.equal(inNode(`${lab}.r1`, 'cat', '/proc/sys/net/ipv4/ip_forward').out.trim(), '1');

  // n1 -> n2 through r1 (n1's route to the WAN, n2's default route back), and the other way.
  assert.ok(pings(`${lab}.n1`, '10.30.0.2'), 'n1 reaches n2 through r1');
  assert.ok(pings(`${lab}.n2`, '10.10.0.11'), 'n2 reaches n1 through r1');
  const trace = inNode(`${lab}.n1`, 'ip', 'route', 'get', '10.30.0.2').out;
  assert.match(trace, /via 10\.10\.0\.1 dev eth0/);

  const again = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.equal(again.changed, false);
  assert.deepEqual(again.steps.filter((s) => s.action !== 'note'), []);
  const text = await r.ok('lab', 'up', '-f', file);
  assert.match(text, /no change/);

  // The rate is a tbf on the sending end, read back by tc; status says the same.
  const [tbf] = JSON.parse(inNode(`${lab}.r1`, 'tc', '-j', 'qdisc', 'show', 'dev', 'eth1').out) as { kind: string; root?: boolean; options: { rate: number } }[];
  assert.equal(tbf?.kind, 'tbf');
  assert.equal(tbf?.root, true);
  assert.equal((tbf?.options.rate ?? 0) * 8, 10_000_000, 'tc -j prints the rate in bytes/s');
  const [back] = JSON.parse(inNode(`${lab}.n2`, 'tc', '-j', 'qdisc', 'show', 'dev', 'eth1').out) as { kind: string; options: { rate: number } }[];
  assert.equal(back?.kind, 'tbf');
  assert.equal((back?.options.rate ?? 0) * 8, 2_000_000);

  const st = await r.json<StatusJson>('lab', 'status', lab);
  assert.equal(st.up, true);
  assert.deepEqual(st.networks.map((n) => [n.name, n.subnets]), [[`${lab}.lan`, ['10.10.0.0/24']]]);
  assert.deepEqual(st.networks[0]!.hostAddresses, ['10.10.0.254'], 'the host takes an address no node has');
  const iface = (node: string, name: string) => st.nodes.find((n) => n.node === node)!.interfaces.find((i) => i.name === name)!;
  assert.deepEqual(st.nodes.map((n) => n.node), ['n1', 'n2', 'r1']);
  assert.deepEqual(iface('n1', 'eth0').addresses, ['10.10.0.11/24']);
  assert.equal(iface('n1', 'eth0').network, `${lab}.lan`);
  assert.deepEqual(iface('n2', 'eth1').addresses, ['10.30.0.2/30']);
  assert.equal(iface('r1', 'eth1').rate, 10_000_000);
  assert.equal(iface('n2', 'eth1').rate, 2_000_000);
  assert.equal(iface('n2', 'eth2').loss, 0.3);
  assert.equal(iface('n1', 'eth2').loss, undefined);
  assert.equal(iface('r1', 'eth0').rate, undefined);
  assert.match(inNode(`${lab}.n2`, 'nft', 'list', 'set', 'inet', 'nsbox_fault', 'loss').out, /"eth2" \. 0-299999/);

  const down = await r.json<{ sandboxes: string[]; networks: string[]; hostLinks: string[] }>('lab', 'down', lab);
  assert.equal(down.sandboxes.length, 3);
  assert.deepEqual(down.networks, [`${lab}.lan`]);
  assert.deepEqual(down.hostLinks, [], "the links' veth pairs died with their nodes: no end came back to the host to delete");
  assert.deepEqual(await r.json('ls'), []);
  assert.deepEqual(await r.json('network', 'ls'), []);
  assert.deepEqual(hostLinks(), linksBefore, 'no host link left (bridge, veth ends)');
  assert.deepEqual(readdirSync('/run/netns').filter((n) => n.startsWith(`${lab}.`)), []);
  assert.deepEqual(existsSync(r.netnsDir) ? readdirSync(r.netnsDir) : [], [], 'no namespace file');
  assert.deepEqual(r.netnsMounts(), []);
  const gone = await r.json<{ sandboxes: string[]; networks: string[] }>('lab', 'down', lab);
  assert.deepEqual([gone.sandboxes, gone.networks], [[], []], 'down again succeeds with nothing to do');
  assert.equal((await r.run('lab', 'status', lab)).code, 3, 'status of a lab that is not up: not found');
});

test('lab partition n1 r1: cut both ways while n2 still reaches r1; heal restores it; --oneway cuts one way', async (t) => {
  const { r, lab } = await upLab(t);
  const n1 = `${lab}.n1`;
  const r1 = `${lab}.r1`;
  const n2 = `${lab}.n2`;
  assert.ok(pings(n1, '10.10.0.1') && pings(r1, '10.10.0.11'), 'before: n1 and r1 reach each other');

  const p = await r.json<{ blocked: Record<string, string[]> }>('lab', 'partition', lab, 'n1', 'r1');
  assert.deepEqual(p.blocked[r1]?.sort(), ['10.10.0.11', '10.40.0.1']);
  assert.deepEqual(p.blocked[n1]?.sort(), ['10.10.0.1', '10.30.0.1']);
  assert.equal(pings(n1, '10.10.0.1'), false, 'n1 -> r1 is cut');
  assert.equal(pings(r1, '10.10.0.11'), false, 'r1 -> n1 is cut');
  assert.ok(pings(n2, '10.30.0.1'), 'n2 -> r1 still works');
  const st = await r.json<StatusJson>('lab', 'status', lab);
  assert.deepEqual(st.nodes.find((n) => n.node === 'n1')!.blocked.sort(), ['10.10.0.1', '10.30.0.1']);
  assert.deepEqual(st.nodes.find((n) => n.node === 'n2')!.blocked, []);

  await r.json('lab', 'heal', lab);
  assert.ok(pings(n1, '10.10.0.1') && pings(r1, '10.10.0.11'), 'healed');
  assert.equal((await r.json<StatusJson>('lab', 'status', lab)).nodes.find((n) => n.node === 'n2')!.interfaces.find((i) => i.name === 'eth2')!.loss, 0.3, 'heal keeps the links\' loss');

  // One way: what n1 sends is dropped at r1 (so n1's pings fail); n1 itself blocks nothing.
  const one = await r.json<{ blocked: Record<string, string[]> }>('lab', 'partition', lab, 'n1', 'r1', '--oneway');
  assert.deepEqual(Object.keys(one.blocked), [r1]);
  assert.equal(pings(n1, '10.10.0.1'), false);
  assert.equal(await udpAcross(lab, 'n1', 'r1', '10.10.0.1', 50), 0, 'n1 -> r1 is dropped');
  assert.equal(await udpAcross(lab, 'r1', 'n1', '10.10.0.11', 50), 50, 'r1 -> n1 arrives');
  const st1 = await r.json<StatusJson>('lab', 'status', lab);
  assert.deepEqual(st1.nodes.find((n) => n.node === 'n1')!.blocked, []);
  await r.json('lab', 'heal', lab);
  assert.ok(pings(n1, '10.10.0.1'));

  const unknown = await r.fails(3, 'lab', 'partition', lab, 'n1', 'nope');
  assert.match(unknown.error, /no node nope/);
});


test('lab loss: 30% on lossy a->b drops a binomial share of 1000 datagrams at n2 (8 sd band); the other direction is not lossy', async (t) => {
  const { lab } = await upLab(t);
  inNode(`${lab}.n1`, 'ping', '-c', '3', '-i', '0.2', '-W', '1', '-q', '10.40.0.2'); // neighbours resolved (ARP is not lost: the fault table sees IP only)
  const n = 1000;
  const received = await udpAcross(lab, 'n1', 'n2', '10.40.0.2', n);
  const mean = n * 0.7;
  const sd = Math.sqrt(n * 0.3 * 0.7); // ~14.5
  assert.ok(Math.abs(received - mean) < 8 * sd, `30% loss: ${received} of ${n} arrived (expected ${mean} ± ${(8 * sd).toFixed(0)})`);
  const back = await udpAcross(lab, 'n2', 'n1', '10.40.0.1', n);
  assert.equal(back, n, 'b->a is not lossy');
});

test('lab up with a bad file: exit 2, FILE:LINE:COL: path: message, nothing made', async (t) => {
  const r = labRootForTest(t);
  const file = writeLab(t, `lab: bad
networks:
  lan: { subnet: 10.0.0.0/24 }
nodes:
  n1:
    interfaces: { eth0: { network: lan, address: 10.0.1.2/24 } }
`);
  const res = await r.run('lab', 'up', '-f', file);
  assert.equal(res.code, 2, res.stderr);
  assert.equal(res.stderr.trim(), `${file}:6:50: nodes.n1.interfaces.eth0.address: 10.0.1.2 is outside network lan's subnet 10.0.0.0/24`);
  assert.deepEqual(await r.json('ls'), []);
  assert.deepEqual(await r.json('network', 'ls'), []);
  const json = await r.fails(2, 'lab', 'up', '-f', file);
  assert.equal(json.code, 'NSBOX_ERR_LAB_FILE');
});

test('lab up of an edited file changes in place: a new rate replaces the tbf, a loss taken out is removed, a new route is added; a new address remakes the interface; a new subnet is refused', async (t) => {
  const { r, lab, file } = await upLab(t);
  const edited = labFile(lab)
    .replace('impair: { a->b: { rate: 10mbit }, b->a: { rate: 2mbit } }', 'impair: { a->b: { rate: 5mbit } }')
    .replace('    impair: { a->b: { loss: 30% } }\n', '')
    .replace('routes: [ { to: 10.30.0.0/30, via: 10.10.0.1 } ]', 'routes: [ { to: 10.30.0.0/30, via: 10.10.0.1 }, { to: 10.99.0.0/16, via: 10.10.0.1 } ]');
  writeFileSync(file, edited);
  const plan = await r.json<UpJson>('lab', 'up', '-f', file, '--dry-run');
  const steps = plan.steps.map((s) => `${s.action} ${s.key}`);
  assert.deepEqual(steps, ['create route:n1/10.99.0.0/16', 'change impair:wan/a->b', 'remove impair:wan/b->a', 'remove impair:lossy/a->b']);
  const [before] = JSON.parse(inNode(`${lab}.r1`, 'tc', '-j', 'qdisc', 'show', 'dev', 'eth1').out) as { options: { rate: number } }[];
  assert.equal((before?.options.rate ?? 0) * 8, 10_000_000, 'the dry run changed nothing');

  const applied = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.deepEqual(applied.steps.map((s) => `${s.action} ${s.key}`), steps);
  const [after] = JSON.parse(inNode(`${lab}.r1`, 'tc', '-j', 'qdisc', 'show', 'dev', 'eth1').out) as { kind: string; options: { rate: number } }[];
  assert.equal(after?.kind, 'tbf');
  assert.equal((after?.options.rate ?? 0) * 8, 5_000_000);
  const [n2q] = JSON.parse(inNode(`${lab}.n2`, 'tc', '-j', 'qdisc', 'show', 'dev', 'eth1').out) as { kind: string }[];
  assert.notEqual(n2q?.kind, 'tbf', 'the b->a rate is gone');
  assert.doesNotMatch(inNode(`${lab}.n2`, 'nft', 'list', 'set', 'inet', 'nsbox_fault', 'loss').out, /eth2/);
  assert.match(inNode(`${lab}.n1`, 'ip', 'route', 'show', '10.99.0.0/16').out, /via 10\.10\.0\.1/);
  assert.equal((await r.json<UpJson>('lab', 'up', '-f', file)).changed, false);

  // An address cannot change in place: the interface is made anew (its routes put back); a subnet is refused.
  writeFileSync(file, edited.replace('address: 10.10.0.11/24', 'address: 10.10.0.12/24'));
  const remade = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.deepEqual(remade.steps.map((s) => `${s.action} ${s.key}`), ['remove iface:n1/eth0', 'create iface:n1/eth0', 'change route:n1/10.30.0.0/30', 'change route:n1/10.99.0.0/16']);
  assert.match(inNode(`${lab}.n1`, 'ip', '-br', 'addr', 'show', 'eth0').out, /10\.10\.0\.12\/24/);
  assert.ok(pings(`${lab}.n1`, '10.30.0.2'), 'n1 reaches n2 through r1 again');
  writeFileSync(file, edited.replace('address: 10.10.0.11/24', 'address: 10.10.0.12/24').replaceAll('/24', '/23'));
  const refused = await r.fails(4, 'lab', 'up', '-f', file);
  assert.match(refused.error, /exists with the subnets 10\.10\.0\.0\/24, the file says 10\.10\.0\.0\/23; bring the lab down first/);
});

test('examples/labs/core.yaml (its lab renamed): comes up with its delay engine, n1 reaches r1 and r1 reaches n2, the 5% loss, the rates and the 20 ms delay are read back with their mechanisms, down', async (t) => {
  const r = labRootForTest(t);
  const lab = randomName('core');
  const text = readFileSync(join(packageRoot(), 'examples/labs/core.yaml'), 'utf8').replace(/^lab: demo\b/m, `lab: ${lab}`);
  const file = writeLab(t, text);
  const result = await r.json<UpJson>('lab', 'up', '-f', file);
  assert.deepEqual(result.steps.filter((s) => s.action === 'note'), []);
  assert.ok(result.steps.some((s) => s.key === 'impair:wan/a->b' && s.action === 'create' && /delay engine: 20ms/.test(s.detail)), JSON.stringify(result.steps));
  assert.ok(pings(`${lab}.n1`, '10.10.0.1'), 'n1 -> r1 on the lan');
  assert.ok(pings(`${lab}.r1`, '10.30.0.2'), 'r1 -> n2 on the wan');
  const st = await r.json<StatusJson>('lab', 'status', lab);
  const iface = (node: string, name: string) => st.nodes.find((n) => n.node === node)!.interfaces.find((i) => i.name === name)!;
  assert.equal(iface('r1', 'eth1').rate, 10_000_000);
  assert.equal(iface('n2', 'eth1').rate, 10_000_000);
  assert.equal(iface('n2', 'eth1').loss, 0.05);
  assert.equal(iface('r1', 'eth1').loss, undefined);
  assert.equal(iface('r1', 'eth1').delay?.delayMs, 20, 'a->b is delayed at its sender, r1');
  assert.deepEqual(iface('r1', 'eth1').mechanisms, { rate: 'tbf (sender)', delay: 'nfqueue engine (sender)' });
  assert.deepEqual(iface('n2', 'eth1').mechanisms, { rate: 'tbf (sender)', loss: 'nf_tables numgen (receiver)' });
  await r.json('lab', 'down', lab);
  assert.deepEqual(await r.json('ls'), []);
});
