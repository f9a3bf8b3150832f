/**
 * Unit: a lab compiled into resources (src/lab/compile.ts): stable keys, each resource after
 * what it depends on, stage by stage, and the same list whatever the order of the file's maps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { packageRoot } from '../../../src/package-root.js';
import { STAGES, compileLab, labFromObject, parseLab } from '../../../src/lab/index.js';

const CORE = readFileSync(join(packageRoot(), 'examples/labs/core.yaml'), 'utf8');

test('the core example: keys and order (networks, nodes, interfaces and links, addresses and sysctls, routes, impairments, faults)', () => {
  const { lab, resources } = compileLab(parseLab(CORE, 'core.yaml'));
  assert.equal(lab, 'demo');
  assert.deepEqual(resources.map((r) => [r.key, r.dependsOn]), [
    ['network:lan', []],
    ['node:n1', []],
    ['node:n2', []],
    ['node:r1', []],
    ['iface:n1/eth0', ['network:lan', 'node:n1']],
    ['iface:r1/eth0', ['network:lan', 'node:r1']],
    ['link:wan', ['node:n2', 'node:r1']],
    ['address:n2/eth1/10.30.0.2/30', ['link:wan']],
    ['address:r1/eth1/10.30.0.1/30', ['link:wan']],
    ['sysctl:r1/net.ipv4.ip_forward', ['node:r1']],
    ['sysctl:r1/net.ipv6.conf.all.forwarding', ['node:r1']],
    ['route:n1/10.30.0.0/30', ['iface:n1/eth0']],
    ['impair:wan/a->b', ['link:wan']],
    ['impair:wan/b->a', ['link:wan']],
    ['fault:split', ['node:n1', 'node:n2', 'node:r1']],
  ]);
  const impair = resources.find((r) => r.key === 'impair:wan/a->b');
  assert.ok(impair?.kind === 'impair');
  assert.deepEqual([impair.from, impair.to, impair.impairment], [{ node: 'r1', iface: 'eth1' }, { node: 'n2', iface: 'eth1' }, { rate: 10_000_000, loss: 0.05, delay: 20 }]);
  const iface = resources.find((r) => r.key === 'iface:n1/eth0');
  assert.ok(iface?.kind === 'iface');
  assert.deepEqual([iface.sandbox, iface.nsboxNetwork], ['demo.n1', 'demo.lan']);
});

test('processes come after everything of their node; interface sysctls after their interface; routes after the address that reaches their gateway', () => {
  const { resources } = compileLab(parseLab(readFileSync(join(packageRoot(), 'examples/labs/wan.yaml'), 'utf8'), 'wan.yaml'));
  const deps = new Map(resources.map((r) => [r.key, r.dependsOn]));
  assert.deepEqual(deps.get('sysctl:r1/net.ipv4.conf.wan0.rp_filter'), ['link:wan']);
  assert.deepEqual(deps.get('route:r1/10.40.2.0/24'), ['address:r1/wan0/10.99.0.1/30']);
  assert.deepEqual(deps.get('route:client/0.0.0.0/0'), ['iface:client/eth0']);
  assert.deepEqual(deps.get('process:server/http'), ['iface:server/eth0', 'node:server', 'route:server/0.0.0.0/0']);
  assert.deepEqual(deps.get('fault:wan-flaky'), ['link:wan']);
});

test('every example compiles in dependency order, stage by stage, with unique keys', () => {
  for (const name of ['core', 'raft', 'wan', 'star100']) {
    const { resources } = compileLab(parseLab(readFileSync(join(packageRoot(), `examples/labs/${name}.yaml`), 'utf8'), name));
    const index = new Map(resources.map((r, i) => [r.key, i]));
    assert.equal(index.size, resources.length, `${name}: unique keys`);
    resources.forEach((r, i) => {
      for (const d of r.dependsOn) assert.ok(index.get(d)! < i, `${name}: ${r.key} after ${d}`);
      if (i > 0) assert.ok(STAGES[resources[i - 1]!.kind] <= STAGES[r.kind], `${name}: ${r.key} in stage order`);
    });
  }
});

test('the same lab gives the same list whatever the order of its maps and links', () => {
  const text = readFileSync(join(packageRoot(), 'examples/labs/wan.yaml'), 'utf8');
  const reversed = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(reversed);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
    return value;
  };
  const obj = parse(text) as { links: unknown[] };
  const shuffled = reversed(obj) as { links: unknown[] };
  shuffled.links.reverse();
  const a = compileLab(parseLab(text, 'wan.yaml'));
  const b = compileLab(labFromObject(shuffled));
  assert.deepEqual(b.resources.map((r) => r.key), a.resources.map((r) => r.key));
  assert.deepEqual(compileLab(parseLab(stringify(obj), 'again.yaml')), a, 'same file, same output');
});

test('a schedule is kept in time order (the file\'s order within one instant)', () => {
  const { schedule } = compileLab(parseLab(readFileSync(join(packageRoot(), 'examples/labs/raft.yaml'), 'utf8'), 'raft.yaml'));
  assert.deepEqual(schedule.map((s) => `${s.atMs} ${s.action} ${s.fault}`), [
    '10000 apply isolate-n1', '30000 heal isolate-n1', '40000 apply deaf-n2', '50000 apply pause-n3', '60000 heal deaf-n2', '60000 heal pause-n3',
  ]);
});
