/**
 * Unit: the conformance suite's pure parts (src/cni-conformance/): the result shapes per spec
 * version (SPEC §5), the error object, the stdin a runtime derives (SPEC §3: runtimeConfig only
 * for declared capabilities, both GC keys), and the snapshot difference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkErrorShape, checkResultShape } from '../../../src/cni-conformance/schema.js';
import { loadConfig, stdinFor } from '../../../src/cni-conformance/config.js';
import { diff, type Snapshot } from '../../../src/cni-conformance/kernel.js';

const v1 = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'br0', mac: '0a:00:00:00:00:01' }, { name: 'veth1', mac: '0a:00:00:00:00:02' }, { name: 'eth0', mac: '0a:00:00:00:00:03', sandbox: '/run/netns/c' }],
  ips: [{ address: '10.1.0.2/24', gateway: '10.1.0.1', interface: 2 }],
  routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }],
};

test('a 1.0.0 result passes as 1.0.0; the same with ips[].version, or read as 0.4.0 without it, does not', () => {
  assert.deepEqual(checkResultShape(v1, '1.0.0'), []);
  const withVersion = { ...v1, ips: [{ ...v1.ips[0], version: '4' }] };
  assert.match(checkResultShape(withVersion, '1.0.0').join(), /removed in 1\.0\.0/);
  assert.deepEqual(checkResultShape({ ...withVersion, cniVersion: '0.4.0' }, '0.4.0'), []);
  assert.match(checkResultShape({ ...v1, cniVersion: '0.4.0' }, '0.4.0').join(), /must be "4" or "6"/);
  assert.match(checkResultShape(v1, '1.1.0').join(), /cniVersion is "1\.0\.0"/);
});

test('result problems: an interface index out of range, a 1.1.0 field in 1.0.0, a bad MAC, an unknown key', () => {
  assert.match(checkResultShape({ ...v1, ips: [{ ...v1.ips[0], interface: 3 }] }, '1.0.0').join(), /not an index/);
  assert.match(checkResultShape({ ...v1, routes: [{ dst: '0.0.0.0/0', table: 100 }] }, '1.0.0').join(), /"table", not a field/);
  assert.deepEqual(checkResultShape({ ...v1, cniVersion: '1.1.0', routes: [{ dst: '0.0.0.0/0', table: 100 }] }, '1.1.0'), []);
  assert.match(checkResultShape({ ...v1, interfaces: [{ name: 'eth0', mac: 'nope' }] }, '1.0.0').join(), /not a MAC/);
  assert.match(checkResultShape({ ...v1, extra: 1 }, '1.0.0').join(), /"extra"/);
});

test('0.2.0 results: ip4/ip6, nothing of the later shape', () => {
  assert.deepEqual(checkResultShape({ cniVersion: '0.2.0', ip4: { ip: '10.1.0.2/24', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0' }] } }, '0.2.0'), []);
  assert.match(checkResultShape({ ...v1, cniVersion: '0.2.0' }, '0.2.0').join(), /"interfaces", not a field/);
  assert.match(checkResultShape({ cniVersion: '0.2.0' }, '0.2.0').join(), /neither ip4 nor ip6/);
});

test('error objects: exit 1 and a code and msg', () => {
  assert.deepEqual(checkErrorShape(1, { code: 4, msg: 'x' }, '{}'), []);
  assert.match(checkErrorShape(0, { code: 4, msg: 'x' }, '{}').join(), /exit status 0/);
  assert.match(checkErrorShape(1, undefined, '').join(), /no error object/);
  assert.match(checkErrorShape(1, { msg: 'x' }, '{}').join(), /no integer "code"/);
});

test('stdin as libcni derives it: cniVersion and name injected, runtimeConfig only for declared capabilities, both GC keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conformance-'));
  const file = join(dir, 'net.conflist');
  writeFileSync(file, JSON.stringify({ cniVersion: '1.1.0', name: 'n', plugins: [{ type: 'p', capabilities: { mac: true, ips: false }, dataDir: '$WORKDIR/x' }, { type: 'q' }] }));
  const net = loadConfig(file, '/w');
  assert.deepEqual(net.capabilities, ['mac']);
  const conf = stdinFor(net, { capabilityArgs: { mac: 'aa:bb:cc:dd:ee:ff', ips: ['10.0.0.2'] }, valid: [{ containerID: 'c', ifname: 'eth0' }] });
  assert.equal(conf.cniVersion, '1.1.0');
  assert.equal(conf.name, 'n');
  assert.equal(conf.dataDir, '/w/x');
  assert.deepEqual(conf.runtimeConfig, { mac: 'aa:bb:cc:dd:ee:ff' });
  assert.deepEqual(conf['cni.dev/valid-attachments'], [{ containerID: 'c', ifname: 'eth0' }]);
  assert.deepEqual(conf['cni.dev/attachments'], conf['cni.dev/valid-attachments']);
  assert.equal('name' in stdinFor(net, { patch: { name: undefined } }), false);
});

test('snapshot difference: what was added and removed, per part, counting duplicates', () => {
  const empty: Snapshot = { links: [], addresses: [], routes: [], nft: [], files: [] };
  assert.deepEqual(diff(empty, empty), []);
  assert.deepEqual(diff({ ...empty, links: ['a veth'] }, { ...empty, links: ['b veth'], nft: ['x'] }), ['links +b veth', 'links -a veth', 'nft +x']);
  assert.deepEqual(diff({ ...empty, nft: ['x'] }, { ...empty, nft: ['x', 'x'] }), ['nft +x'], 'a second copy of a line is a difference');
});
