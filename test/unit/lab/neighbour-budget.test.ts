/**
 * Unit: whether a lab fits the kernel's neighbour tables (src/lab/neighbour-budget.ts): the
 * entries it can need per family, and the note `lab up` and `lab plan` print when they exceed
 * gc_thresh3, with the sysctl that makes room.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/package-root.js';
import { labFromObject, parseLab } from '../../../src/lab/index.js';
import { KERNEL_GC_THRESH3, neighbourDemand, neighbourNotes } from '../../../src/lab/neighbour-budget.js';

/** A lab with `k` nodes on one bridge network (IPv6 too when asked) and one addressed link. */
function lan(k: number, ipv6 = false) {
  const nodes: Record<string, unknown> = {};
  for (let i = 1; i <= k; i++) nodes[`n${i}`] = { interfaces: { eth0: { network: 'lan' } } };
  return labFromObject({
    lab: 'big',
    networks: { lan: { subnet: ipv6 ? ['10.60.0.0/16', 'fd00:60::/64'] : '10.60.0.0/16' } },
    nodes,
    links: [{ name: 'l1', a: { node: 'n1', iface: 'p0', address: '10.61.0.1/30' }, b: { node: 'n2', iface: 'p0', address: '10.61.0.2/30' } }],
  });
}

test('demand: k² + k per bridge network of k nodes (each resolves the others and its gateway, the host each of them), 2 per addressed link, per family', () => {
  assert.deepEqual(neighbourDemand(lan(3)), { 4: 3 * 3 + 3 + 2, 6: 0 });
  assert.deepEqual(neighbourDemand(lan(40, true)), { 4: 40 * 40 + 40 + 2, 6: 40 * 40 + 40 });
  const star = parseLab(readFileSync(join(packageRoot(), 'examples/labs/star100.yaml'), 'utf8'), 'star100.yaml');
  assert.deepEqual(neighbourDemand(star), { 4: 2 * 99, 6: 0 }, 'the 100-node star: 99 links, no network');
});

test('notes: none while the demand fits gc_thresh3; past it, the numbers and the sysctl that makes room (twice the demand, in KiB steps)', () => {
  assert.deepEqual(neighbourNotes(lan(30), () => KERNEL_GC_THRESH3), [], '30 nodes: 932 entries fit 1024');
  assert.deepEqual(neighbourNotes(lan(40), () => 8192), [], 'a host that made room');
  const [v4, ...rest] = neighbourNotes(lan(40), () => KERNEL_GC_THRESH3);
  assert.deepEqual(rest, []);
  assert.equal(v4!.family, 4);
  assert.match(v4!.detail, /^IPv4 neighbour entries: this lab needs up to 1642 /);
  assert.match(v4!.detail, /at most 1024 for all namespaces together \(net\.ipv4\.neigh\.default\.gc_thresh3\)/);
  assert.match(v4!.detail, /sysctl -w net\.ipv4\.neigh\.default\.gc_thresh2=2048 net\.ipv4\.neigh\.default\.gc_thresh3=4096$/);
  const both = neighbourNotes(lan(40, true), () => undefined);
  assert.deepEqual(both.map((n) => n.family), [4, 6]);
  assert.match(both[1]!.detail, /1024 if unchanged \(the kernel's default; this namespace cannot read it\).*net\.ipv6\.neigh\.default\.gc_thresh3=4096$/);
});
