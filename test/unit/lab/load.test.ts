/**
 * Unit: lab files (src/lab/load.ts, check.ts, schema.ts): the issue's core example parses as
 * written; every problem is reported as FILE:LINE:COL: path: message, at the YAML node of its
 * path (or the nearest parent, or the key itself for names and unknown keys), all of them at
 * once; a lab given as an object is checked the same way without positions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabFileError } from '../../../src/errors.js';
import { packageRoot } from '../../../src/package-root.js';
import { Lab, labFromObject, parseLab } from '../../../src/lab/index.js';

/** The issue's "The file's core", exactly as written there (comments included). */
export const CORE = readFileSync(join(packageRoot(), 'examples/labs/core.yaml'), 'utf8');

function problems(text: string): string[] {
  try {
    parseLab(text, 'lab.yaml');
  } catch (err) {
    assert.ok(err instanceof LabFileError, String(err));
    assert.equal(err.code, 'NSBOX_ERR_LAB_FILE');
    assert.equal(err.message, err.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.path === '' ? '' : `${p.path}: `}${p.message}`).join('\n'));
    return err.message.split('\n');
  }
  return ['OK'];
}

test('the issue\'s core example parses and validates as written', () => {
  assert.match(CORE, /^lab: demo {26}# lab name/);
  const spec = parseLab(CORE, 'core.yaml');
  assert.equal(spec.version, 1, 'version is 1 when absent');
  assert.equal(spec.lab, 'demo');
  assert.deepEqual(spec.networks.map((n) => [n.name, n.nsboxName, n.driver, n.subnets.map((s) => s.cidr), n.gateway, n.masquerade]), [['lan', 'demo.lan', 'bridge', ['10.10.0.0/24'], undefined, false]]);
  assert.deepEqual(spec.nodes.map((n) => n.sandbox), ['demo.n1', 'demo.r1', 'demo.n2']);
  const [n1, r1, n2] = spec.nodes;
  assert.deepEqual(n1!.interfaces, [{ name: 'eth0', network: 'lan', address: { address: '10.10.0.11', family: 4, prefixLen: 24 }, mac: undefined, mtu: undefined }]);
  assert.deepEqual(n1!.routes, [{ to: '10.30.0.0/30', family: 4, via: '10.10.0.1', iface: 'eth0' }]);
  assert.deepEqual(r1!.sysctls, [{ key: 'net.ipv4.ip_forward', value: '1' }, { key: 'net.ipv6.conf.all.forwarding', value: '1' }]);
  assert.deepEqual(n2!.interfaces, []);
  const [wan] = spec.links;
  assert.deepEqual(wan!.impair, { 'a->b': { rate: 10_000_000, loss: 0.05, delay: 20 }, 'b->a': { rate: 10_000_000 } });
  assert.deepEqual(spec.faults, [{ name: 'split', partition: { groups: [['n1'], ['r1', 'n2']], oneway: false }, linkDown: undefined, impair: [], signal: undefined }]);
});

test('Lab.fromObject takes the same structure, and reports problems by path without positions', () => {
  const lab = Lab.fromObject({ lab: 'demo', nodes: { a: {}, b: {} }, links: [{ name: 'l', a: { node: 'a', iface: 'e1' }, b: { node: 'b', iface: 'e1' }, impair: { both: { loss: 0.5 } } }] });
  assert.equal(lab.name, 'demo');
  assert.equal(lab.file, undefined);
  assert.deepEqual(lab.spec.links[0]!.impair, { 'a->b': { loss: 0.5 }, 'b->a': { loss: 0.5 } });
  assert.throws(() => labFromObject({ lab: 'demo', nodes: { a: { colour: 1 } }, links: [{ name: 'l', a: { node: 'a', iface: 'e1' }, b: { node: 'x', iface: 'e1' } }] }), (err: unknown) => {
    assert.ok(err instanceof LabFileError);
    assert.equal(err.message, 'nodes.a.colour: unknown key (expected one of: interfaces, routes, sysctls, forwarding, env, processes)');
    assert.equal(err.file, undefined);
    return true;
  });
  assert.throws(() => labFromObject({ lab: 'demo', nodes: { a: {} }, links: [{ name: 'l', a: { node: 'a', iface: 'e1' }, b: { node: 'x', iface: 'e1' } }] }),
    { message: 'links.0.b.node: no node x in nodes (a)' });
});

// [why, file text, the error's lines]: every problem of the text, with its exact position and path.
const CASES: [string, string, string[]][] = [
  ["a YAML syntax error, at its position", "lab: demo\nnodes:\n  n1: {\n",
    ["lab.yaml:4:1: YAML: Flow map in block collection must be sufficiently indented and end with a }"]],
  ["duplicate keys are a YAML error", "lab: demo\nlab: other\n",
    ["lab.yaml:2:1: YAML: Map keys must be unique"]],
  ["the file is a mapping", "- a\n- b\n",
    ["lab.yaml:1:1: expected a mapping, got a list"]],
  ["an empty file", "",
    ["lab.yaml:1:1: expected a mapping, got an empty value (null)"]],
  ["lab is required (the position of its mapping)", "nodes: {}\n",
    ["lab.yaml:1:1: lab: missing: expected a string"]],
  ["only version 1 is read", "version: 2\nlab: demo\n",
    ["lab.yaml:1:10: version: expected 1, got the number 2"]],
  ["a node name with a dot (LAB.NODE would be ambiguous), at the key", "lab: demo\nnodes:\n  \"bad.node\": {}\n",
    ["lab.yaml:3:3: nodes.\"bad.node\": invalid node name \"bad.node\": 1 to 63 letters, digits, '-' or '_', starting with a letter or digit"]],
  ["LAB.NODE must be a valid sandbox name", "lab: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nnodes:\n  yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy: {}\n",
    ["lab.yaml:3:3: nodes.yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy: invalid sandbox name \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\": 1 to 63 characters of letters, digits, '_', '.', '-', starting with a letter or digit"]],
  ["an unknown top-level key, at the key, with the allowed ones", "lab: demo\nnodez: {}\n",
    ["lab.yaml:2:1: nodez: unknown key (expected one of: version, lab, seed, networks, nodes, links, faults, schedule)"]],
  ["an unknown key deep down", "lab: demo\nnetworks: { lan: { subnet: 10.0.0.0/24 } }\nnodes:\n  n1:\n    interfaces:\n      eth0: { network: lan, adress: 10.0.0.2/24 }\n",
    ["lab.yaml:6:29: nodes.n1.interfaces.eth0.adress: unknown key (expected one of: network, address, mac, mtu)"]],
  ["an interface on a network that does not exist", "lab: demo\nnodes:\n  n1:\n    interfaces:\n      eth0: { network: lan }\n",
    ["lab.yaml:5:24: nodes.n1.interfaces.eth0.network: no network lan in networks (none)"]],
  ["an address outside its network's subnet", "lab: demo\nnetworks: { lan: { subnet: 10.0.0.0/24 } }\nnodes:\n  n1:\n    interfaces:\n      eth0: { network: lan, address: 10.0.1.2/24 }\n",
    ["lab.yaml:6:38: nodes.n1.interfaces.eth0.address: 10.0.1.2 is outside network lan's subnet 10.0.0.0/24"]],
  ["an address with another prefix than its subnet", "lab: demo\nnetworks: { lan: { subnet: 10.0.0.0/24 } }\nnodes:\n  n1:\n    interfaces:\n      eth0: { network: lan, address: 10.0.0.2/16 }\n",
    ["lab.yaml:6:38: nodes.n1.interfaces.eth0.address: 10.0.0.2 is on network lan (10.0.0.0/24): its prefix is /24, not /16"]],
  ["one address on two interfaces of a network", "lab: demo\nnetworks: { lan: { subnet: 10.0.0.0/24 } }\nnodes:\n  n1: { interfaces: { eth0: { network: lan, address: 10.0.0.2 } } }\n  n2: { interfaces: { eth0: { network: lan, address: 10.0.0.2/24 } } }\n",
    ["lab.yaml:5:54: nodes.n2.interfaces.eth0.address: address 10.0.0.2 is also nodes.n1.interfaces.eth0's on network lan"]],
  ["interface names are at most 15 bytes", "lab: demo\nnetworks: { lan: {} }\nnodes:\n  n1: { interfaces: { averyveryverylongname: { network: lan } } }\n",
    ["lab.yaml:4:23: nodes.n1.interfaces.averyveryverylongname: invalid interface name \"averyveryverylongname\": 1 to 15 bytes, no '/', ':' or whitespace"]],
  ["a link end named like a network interface of its node", "lab: demo\nnetworks: { lan: {} }\nnodes:\n  n1: { interfaces: { eth0: { network: lan } } }\n  n2: {}\nlinks:\n  - { name: l, a: { node: n1, iface: eth0 }, b: { node: n2, iface: eth0 } }\n",
    ["lab.yaml:7:38: links.0.a.iface: node n1 has an interface eth0 already (nodes.n1.interfaces.eth0)"]],
  ["a link to an unknown node", "lab: demo\nnodes: { n1: {} }\nlinks:\n  - name: l\n    a: { node: n1, iface: e1 }\n    b: { node: n9, iface: e1 }\n",
    ["lab.yaml:6:16: links.0.b.node: no node n9 in nodes (n1)"]],
  ["a link end missing (the position of its list item)", "lab: demo\nnodes: { n1: {} }\nlinks:\n  - name: l\n    a: { node: n1, iface: e1 }\n",
    ["lab.yaml:4:5: links.0.b: missing: expected a mapping"]],
  ["a field both in both and a direction; jitter without delay", "lab: demo\nnodes: { a: {}, b: {} }\nlinks:\n  - name: l\n    a: { node: a, iface: e1 }\n    b: { node: b, iface: e1 }\n    impair: { both: { loss: 1% }, a->b: { loss: 2% }, b->a: { jitter: 5ms } }\n",
    ["lab.yaml:7:49: links.0.impair.a->b.loss: loss is given in both too: give it in one place","lab.yaml:7:71: links.0.impair.b->a.jitter: jitter needs a delay (b->a has none)"]],
  ["rates, loss and durations with their units", "lab: demo\nnodes: { a: {}, b: {} }\nlinks:\n  - name: l\n    a: { node: a, iface: e1 }\n    b: { node: b, iface: e1 }\n    impair: { a->b: { rate: 10 mbit, loss: 1.5, delay: 20 } }\n",
    ["lab.yaml:7:29: links.0.impair.a->b.rate: invalid rate \"10 mbit\": a number and a unit, e.g. 10mbit (units bit, kbit, mbit, gbit, tbit, kibit, mibit, gibit, tibit, bps, kbps, mbps, gbps, tbps; bps is bytes per second)","lab.yaml:7:44: links.0.impair.a->b.loss: invalid loss 1.5: a fraction from 0 to 1 (0.05) or a percentage (\"5%\")","lab.yaml:7:56: links.0.impair.a->b.delay: invalid delay 20: give a unit: a number and a unit, e.g. 20ms (units us, ms, s, m, h)"]],
  ["a gateway off the node's subnets; families that differ", "lab: demo\nnetworks: { lan: { subnet: 10.0.0.0/24 } }\nnodes:\n  n1:\n    interfaces: { eth0: { network: lan } }\n    routes: [ { to: default, via: 10.9.0.1 }, { to: 10.1.0.0/16, via: \"fd00::1\" } ]\n",
    ["lab.yaml:6:35: nodes.n1.routes.0.via: 10.9.0.1 is on none of node n1's subnets (10.0.0.0/24)","lab.yaml:6:71: nodes.n1.routes.1.via: an IPv6 gateway for an IPv4 destination"]],
  ["partitions: unknown nodes, groups not disjoint; an empty fault; a signal to an unknown process", "lab: demo\nnodes: { a: {}, b: {} }\nfaults:\n  f1: { partition: [[a], [b, c]] }\n  f2: { partition: [[a], [a]] }\n  f3: {}\n  f4: { signal: { node: a, process: web, signal: STOP } }\n",
    ["lab.yaml:4:30: faults.f1.partition.1.1: no node c in nodes (a, b)","lab.yaml:5:27: faults.f2.partition.1.0: a is in group 0 already: groups are disjoint","lab.yaml:6:7: faults.f3: a fault needs one of partition, link-down, impair or signal","lab.yaml:7:37: faults.f4.signal.process: node a has no process web (none)"]],
  ["heal before apply, unknown faults, apply and heal in one step", "lab: demo\nnodes: { a: {}, b: {} }\nfaults: { f: { partition: [[a], [b]] } }\nschedule:\n  - { at: 5s, heal: f }\n  - { at: 1s, apply: g }\n  - { at: 2s, apply: f, heal: f }\n",
    ["lab.yaml:5:21: schedule.0.heal: f is not applied at 5s: nothing to heal","lab.yaml:6:22: schedule.1.apply: no fault g in faults (f)","lab.yaml:7:5: schedule.2: a step either applies or heals one fault: give apply or heal"]],
  ["an empty argv, a port out of range", "lab: demo\nnodes:\n  a:\n    processes:\n      - { name: p, cmd: [], ready: { tcp: 70000 } }\n      - { name: p, cmd: x, ready: { tcp: 80, log: up }, backoff: { initial: 1s } }\n",
    ["lab.yaml:5:25: nodes.a.processes.0.cmd: needs at least 1 item","lab.yaml:5:43: nodes.a.processes.0.ready.tcp: invalid port 70000: 1 to 65535"]],
  ["only net.* sysctls", "lab: demo\nnodes:\n  a:\n    forwarding: true\n    sysctls: { net.ipv4.ip_forward: 0, net.ipv4.conf.eth9.rp_filter: 1, kernel.pid_max: 1 }\n",
    ["lab.yaml:5:73: nodes.a.sysctls.\"kernel.pid_max\": invalid sysctl \"kernel.pid_max\": a node is a network namespace, its sysctls are net.* (e.g. net.ipv4.ip_forward)"]],
  ["macvlan needs parent and subnet; an address that is the host's gateway", "lab: demo\nnetworks:\n  lan: { subnet: 10.0.0.0/24, gateway: 10.0.0.1, masquerade: true }\n  m: { driver: macvlan, bridge-name: x }\nnodes:\n  a: { interfaces: { eth0: { network: lan, address: 10.0.0.1/24 } } }\n",
    ["lab.yaml:4:6: networks.m: a macvlan network needs parent (the host interface)","lab.yaml:4:6: networks.m: a macvlan network needs a subnet (the parent's LAN)","lab.yaml:4:38: networks.m.bridge-name: bridge-name is not an option of a macvlan network","lab.yaml:6:53: nodes.a.interfaces.eth0.address: 10.0.0.1 is network lan's gateway (the host's address on it)"]],
  ["a node with nothing after its key", "lab: demo\nnodes:\n  n1:\n",
    ["lab.yaml:3:3: nodes.n1: expected a mapping, got an empty value (null)"]],
  ["forwarding against its sysctl; an interface sysctl of an unknown interface", "lab: demo\nnodes:\n  a:\n    forwarding: true\n    sysctls: { net.ipv4.ip_forward: 0, net.ipv4.conf.eth9.rp_filter: 1 }\n",
    ["lab.yaml:5:37: nodes.a.sysctls.\"net.ipv4.ip_forward\": forwarding: true sets net.ipv4.ip_forward to 1","lab.yaml:5:40: nodes.a.sysctls.\"net.ipv4.conf.eth9.rp_filter\": node a has no interface eth9 (none)"]],
  ["duplicate process names, two readiness checks, backoff without restart", "lab: demo\nnodes:\n  a:\n    processes:\n      - { name: p, cmd: x }\n      - { name: p, cmd: x, ready: { tcp: 80, log: up }, backoff: { initial: 1s } }\n",
    ["lab.yaml:6:17: nodes.a.processes.1.name: another process of node a is named p","lab.yaml:6:35: nodes.a.processes.1.ready: give only one of tcp, command or log (here: tcp, log)","lab.yaml:6:66: nodes.a.processes.1.backoff: backoff needs restart: on-failure or always"]],
  ["a link subnet overlapping a network of the same node", "lab: demo\nnetworks: { lan: { subnet: 10.0.0.0/24 } }\nnodes:\n  a: { interfaces: { eth0: { network: lan } } }\n  b: {}\nlinks:\n  - { name: l, a: { node: a, iface: e1, address: 10.0.0.5/30 }, b: { node: b, iface: e1, address: 10.0.0.6/30 } }\n",
    ["lab.yaml:7:50: links.0.a.address: its subnet 10.0.0.4/30 overlaps 10.0.0.0/24 of nodes.a.interfaces.eth0 on the same node"]],
  ["environment variable names", "lab: demo\nnodes:\n  a: { env: { 1BAD: x } }\n",
    ["lab.yaml:3:15: nodes.a.env.1BAD: invalid environment variable name \"1BAD\": letters, digits and '_', not starting with a digit"]],

];

for (const [why, text, expected] of CASES) {
  test(`error: ${why}`, () => {
    assert.deepEqual(problems(text), expected);
  });
}

test('every problem is reported at once, in file order', () => {
  const text = 'lab: demo\nnodes:\n  n1:\n    forwarding: maybe\n    colour: red\nlinks: {}\n';
  assert.deepEqual(problems(text), [
    'lab.yaml:4:17: nodes.n1.forwarding: expected true or false, got the string "maybe"',
    'lab.yaml:5:5: nodes.n1.colour: unknown key (expected one of: interfaces, routes, sysctls, forwarding, env, processes)',
    'lab.yaml:6:8: links: expected a list, got a mapping',
  ]);
});

test('unknown keys are errors in every object of the file', () => {
  const base = { lab: 'demo', networks: { lan: { subnet: '10.0.0.0/24' } }, nodes: { a: { interfaces: { eth0: { network: 'lan' } }, routes: [{ to: 'default', via: '10.0.0.1' }], processes: [{ name: 'p', cmd: 'x', ready: { tcp: 1 }, restart: 'always', backoff: {} }] }, b: {} },
    links: [{ name: 'l', a: { node: 'a', iface: 'e1' }, b: { node: 'b', iface: 'e1' }, impair: { 'a->b': { loss: 0.1 } } }],
    faults: { f: { partition: [['a'], ['b']], signal: { node: 'a', process: 'p', signal: 'STOP' } } }, schedule: [{ at: '1s', apply: 'f' }] };
  assert.doesNotThrow(() => labFromObject(base));
  const objects: string[][] = [[], ['networks', 'lan'], ['nodes', 'a'], ['nodes', 'a', 'interfaces', 'eth0'], ['nodes', 'a', 'routes', '0'], ['nodes', 'a', 'processes', '0'],
    ['nodes', 'a', 'processes', '0', 'ready'], ['nodes', 'a', 'processes', '0', 'backoff'], ['links', '0'], ['links', '0', 'a'], ['links', '0', 'impair'], ['links', '0', 'impair', 'a->b'],
    ['faults', 'f'], ['faults', 'f', 'signal'], ['schedule', '0']];
  for (const path of objects) {
    const copy = structuredClone(base) as Record<string, unknown>;
    let o: Record<string, unknown> = copy;
    for (const k of path) o = o[k] as Record<string, unknown>;
    o.surprise = 1;
    assert.throws(() => labFromObject(copy), (err: unknown) => err instanceof LabFileError && err.problems.length === 1 && err.problems[0]!.path === [...path, 'surprise'].join('.')
      && err.problems[0]!.message.startsWith('unknown key'), path.join('.'));
  }
});
