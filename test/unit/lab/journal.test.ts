/**
 * Unit: the pure parts of a lab's life (src/lab/): the validated spec stored in the lab's record
 * and read back equal (spec-json.ts) with a digest that depends on the file only; the prune plan
 * (prune.ts) over observed records; the drift (drift.ts) between a spec and a status read back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/package-root.js';
import { Lab, computeDrift, parseLab, specDigest, specFromStored, specToStored, type LabStatus } from '../../../src/lab/index.js';
import { hostVethName } from '../../../src/lab/naming.js';
import { planPrune, type Observed } from '../../../src/lab/prune.js';

const EXAMPLES = join(packageRoot(), 'examples/labs');

test('every example: the spec stored as JSON reads back deep-equal (addresses, subnets, undefined fields), its digest stable', () => {
  for (const name of readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'))) {
    const spec = parseLab(readFileSync(join(EXAMPLES, name), 'utf8'), name);
    const stored = JSON.parse(JSON.stringify(specToStored(spec))) as unknown; // as the database gives it back
    const back = specFromStored(stored);
    assert.deepStrictEqual(back, spec, name);
    assert.equal(specDigest(back), specDigest(spec), name);
    assert.deepStrictEqual(Lab.fromSpec(back).compile(), Lab.fromSpec(spec).compile(), `${name}: compiles the same`);
  }
});

test('the digest changes with the file and not with its formatting', () => {
  const text = 'lab: d\nnodes: { a: {}, b: {} }\nlinks: [ { name: l, a: { node: a, iface: e0 }, b: { node: b, iface: e0 } } ]\n';
  const same = 'lab: d\nnodes:\n  a: {}\n  b: {}\nlinks:\n  - name: l\n    a: { node: a, iface: e0 }\n    b: { node: b, iface: e0 }\n';
  assert.equal(specDigest(parseLab(text, 'x')), specDigest(parseLab(same, 'y')));
  assert.notEqual(specDigest(parseLab(text, 'x')), specDigest(parseLab(text.replace('iface: e0 } } ]', 'iface: e1 } } ]'), 'x')));
});

test('a record that holds no lab of this format is refused', () => {
  assert.throws(() => specFromStored({ version: 2, lab: 'x' }), /format version 1/);
  assert.throws(() => specFromStored(null), /format version 1/);
});

const LAB = `lab: p
networks: { lan: { subnet: 10.0.0.0/24 } }
nodes:
  a: { interfaces: { eth0: { network: lan, address: 10.0.0.2/24 } }, routes: [ { to: 10.9.0.0/16, via: 10.0.0.1 } ] }
  b: { interfaces: { eth0: { network: lan, address: 10.0.0.3/24 } } }
links:
  - { name: l1, a: { node: a, iface: x0, address: 10.1.0.1/30 }, b: { node: b, iface: x0, address: 10.1.0.2/30 } }
`;

/** What the records of a lab brought up from LAB look like. */
function observedOf(): Observed {
  const end = (link: string, e: 'a' | 'b', ifname: string, ipv4: string) => ({ srcName: hostVethName('p', link, e), dstName: ifname, state: 'ready' as const, options: { ipv4 } });
  const lan = (ipv4: string) => ({ srcName: 'eth0', dstName: 'eth0', network: 'p.lan', state: 'ready' as const, options: { ipv4 } });
  return {
    nodes: [
      { sandbox: 'p.a', node: 'a', interfaces: [lan('10.0.0.2/24'), end('l1', 'a', 'x0', '10.1.0.1/30')], routes: [{ destination: '10.9.0.0/16', nextHop: '10.0.0.1' }] },
      { sandbox: 'p.b', node: 'b', interfaces: [lan('10.0.0.3/24'), end('l1', 'b', 'x0', '10.1.0.2/30')], routes: [] },
    ],
    networks: ['p.lan'],
  };
}

test('prune: nothing when the records are what the file says', () => {
  const spec = parseLab(LAB, 'p.yaml');
  assert.deepEqual(planPrune('p', spec, observedOf(), spec), []);
});

test('prune: a node, its link, a route, an interface and a network taken out, in reverse dependency order, the link named from the previous spec', () => {
  const previous = parseLab(LAB, 'p.yaml');
  const observed = observedOf();
  observed.networks.push('p.old');
  observed.nodes[0]!.routes.push({ destination: '10.8.0.0/16', nextHop: '10.0.0.1' });
  const spec = parseLab('lab: p\nnetworks: { lan: { subnet: 10.0.0.0/24 } }\nnodes:\n  a: { interfaces: { eth1: { network: lan } }, routes: [ { to: 10.9.0.0/16, via: 10.0.0.1 } ] }\n', 'p.yaml');
  const plan = planPrune('p', spec, observed, previous);
  assert.deepEqual(plan.map((r) => `${r.kind} ${r.key}`), ['route route:a/10.8.0.0/16', 'iface iface:a/eth0', 'link link:l1', 'node node:b', 'network network:old']);
  const link = plan.find((r) => r.kind === 'link');
  assert.deepEqual(link?.kind === 'link' && link.ends, [{ sandbox: 'p.a', ifname: 'x0' }], "only the surviving node's end is taken out of it");
  const node = plan.find((r) => r.kind === 'node');
  assert.deepEqual(node?.kind === 'node' && node.hostLinks, [hostVethName('p', 'l1', 'b')], 'the end the removed node gives back is deleted after it');
});

test('prune: a link end or an interface whose address changed is taken out to be made anew; rows still being added are left to gc', () => {
  const spec = parseLab(LAB.replace('10.1.0.1/30', '10.1.0.9/29').replace('10.1.0.2/30', '10.1.0.10/29').replace('10.0.0.3/24', '10.0.0.4/24'), 'p.yaml');
  const observed = observedOf();
  observed.nodes[0]!.interfaces.push({ srcName: 'nl000000000a', dstName: 'x9', state: 'adding', options: {} });
  const plan = planPrune('p', spec, observed, spec);
  assert.deepEqual(plan.map((r) => `${r.kind} ${r.key}`), ['iface iface:b/eth0', 'link link:l1']);
  assert.match(plan[1]!.detail, /its ends differ from the file: made anew/);
});

const status = (over: Partial<LabStatus> = {}): LabStatus => ({
  lab: 'p', up: true, state: 'up', drift: [], faults: [], supervisor: { running: false, pid: undefined, processes: [], delay: [] },
  networks: [{ name: 'p.lan', subnets: ['10.0.0.0/24'], hostAddresses: ['10.0.0.254'] }],
  nodes: [
    {
      node: 'a', sandbox: 'p.a', state: 'ready', blocked: [],
      interfaces: [
        { name: 'eth0', network: 'p.lan', up: true, mtu: 1500, addresses: ['10.0.0.2/24', 'fe80::1/64'], rate: undefined, loss: undefined, delay: undefined, mechanisms: {} },
        { name: 'x0', network: undefined, up: true, mtu: 1500, addresses: ['10.1.0.1/30'], rate: 1_000_000, loss: undefined, delay: undefined, mechanisms: {} },
      ],
      routes: [{ destination: '10.9.0.0/16', gateway: '10.0.0.1' }, { destination: '10.0.0.0/24', gateway: null }],
    },
    {
      node: 'b', sandbox: 'p.b', state: 'ready', blocked: [],
      interfaces: [
        { name: 'eth0', network: 'p.lan', up: true, mtu: 1500, addresses: ['10.0.0.3/24'], rate: undefined, loss: undefined, delay: undefined, mechanisms: {} },
        { name: 'x0', network: undefined, up: true, mtu: 1500, addresses: ['10.1.0.2/30'], rate: undefined, loss: 0.05, delay: undefined, mechanisms: {} },
      ],
      routes: [],
    },
  ],
  ...over,
});

test('drift: none when the kernel is what the file says (link-local addresses and connected routes are not drift)', () => {
  const spec = parseLab(LAB.replace('address: 10.1.0.2/30 } }', 'address: 10.1.0.2/30 }, impair: { a->b: { rate: 1mbit, loss: 5% } } }'), 'p.yaml');
  assert.deepEqual(computeDrift(spec, status()), []);
});

test('drift: missing and extra things, and impairments read back that differ, each as { key, want, have }', () => {
  const spec = parseLab(LAB, 'p.yaml');
  const st = status();
  st.nodes[0]!.routes = [{ destination: 'default', gateway: '10.0.0.9' }];
  st.nodes[1]!.interfaces = st.nodes[1]!.interfaces.filter((i) => i.name !== 'eth0');
  st.nodes.push({ node: 'z', sandbox: 'p.z', state: 'ready', blocked: [], interfaces: [], routes: [] });
  assert.deepEqual(computeDrift(spec, st), [
    { key: 'route:a/10.9.0.0/16', want: 'via 10.0.0.1', have: 'missing' },
    { key: 'route:a/0.0.0.0/0', want: 'none', have: 'via 10.0.0.9' },
    { key: 'iface:b/eth0', want: '10.0.0.3/24', have: 'missing' },
    { key: 'node:z', want: 'none', have: 'sandbox p.z' },
    { key: 'impair:l1/a->b', want: 'rate none', have: 'rate 1000000 bit/s' },
    { key: 'impair:l1/a->b', want: 'loss none', have: 'loss 5%' },
  ]);
});
