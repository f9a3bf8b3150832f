/**
 * Unit (no root): the overlay's keyspace (keys and zod-checked values) and the agent's model
 * (overlay/model.ts): from listed and watched keys to one network's desired data plane — L3
 * peers with their blocks, L2 remote endpoints, this host left out, a departed host kept for
 * its grace and dropped after it, a host back before the grace ends, bad values reported and
 * skipped; and the definition of a network from create's options (join.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyspace } from '../../../src/overlay/keyspace.js';
import { OverlayModel } from '../../../src/overlay/model.js';
import { definitionOf } from '../../../src/overlay/join.js';
import type { KeyValue } from '../../../src/overlay/etcd.js';

const ks = new Keyspace();
let rev = 1;
const kv = (key: string, value: unknown, lease = '0'): KeyValue => ({ key, value: JSON.stringify(value), createRevision: rev, modRevision: rev++, version: 1, lease });

const NET = { vni: 100, subnet: '10.244.0.0/16', blockPrefixLength: 24, mode: 'l3', port: 4789 };
const host = (n: number, nets: Record<string, string>): unknown => ({ underlay: `192.0.2.${n}`, vtepMacs: nets });
const local = { name: 'ov', hostId: 'h1', underlay: '192.0.2.1', block: '10.244.0.0/24' };

function listed(mode: 'l3' | 'l2' = 'l3'): OverlayModel {
  const m = new OverlayModel(ks, 1000);
  m.reset([
    kv(ks.network('ov'), { ...NET, mode }),
    kv(ks.host('h1'), host(1, { ov: '02:00:00:00:00:01' }), '7'),
    kv(ks.host('h2'), host(2, { ov: '02:00:00:00:00:02' }), '8'),
    kv(ks.host('h3'), host(3, {}), '9'), // not on ov yet: no VTEP MAC for it
    kv(ks.block('ov', '10.244.0.0/24'), { hostId: 'h1', claimedAt: 'x' }),
    kv(ks.block('ov', '10.244.1.0/24'), { hostId: 'h2', claimedAt: 'x' }),
    kv(ks.block('ov', '10.244.2.0/24'), { hostId: 'h3', claimedAt: 'x' }),
    kv(ks.endpoint('ov', '10.244.0.2'), { hostId: 'h1', mac: '02:42:0a:f4:00:02', sandbox: 'a' }),
    kv(ks.endpoint('ov', '10.244.1.2'), { hostId: 'h2', mac: '02:42:0a:f4:01:02', sandbox: 'b' }),
  ], 10, 0);
  return m;
}

test('keys: built and parsed back; a block\'s CIDR is one segment; other keys are none of ours', () => {
  assert.equal(ks.block('ov', '10.244.1.0/24'), '/nsbox/v1/blocks/ov/10.244.1.0_24');
  assert.deepEqual(ks.parseKey('/nsbox/v1/blocks/ov/10.244.1.0_24'), { kind: 'block', net: 'ov', block: '10.244.1.0/24' });
  assert.deepEqual(ks.parseKey(ks.endpoint('ov', '10.244.1.2')), { kind: 'endpoint', net: 'ov', ip: '10.244.1.2' });
  assert.deepEqual(ks.parseKey(ks.host('h1')), { kind: 'host', hostId: 'h1' });
  assert.equal(ks.parseKey('/other/networks/ov'), undefined);
  assert.equal(ks.parseKey('/nsbox/v1/networks/ov/extra'), undefined);
  assert.throws(() => new Keyspace('nsbox'), /must start and end with '\/'/);
});

test('values are checked: a bad one names its key and field', () => {
  assert.throws(() => ks.networkValue('k', JSON.stringify({ ...NET, vni: 0 })), /etcd key k: vni: /);
  assert.throws(() => ks.networkValue('k', JSON.stringify({ ...NET, subnet: '10.244.0.1/16' })), /subnet: an IPv4 network in canonical form/);
  assert.throws(() => ks.hostValue('k', '{'), /etcd key k: not JSON/);
  assert.throws(() => ks.endpointValue('k', JSON.stringify({ hostId: 'h', mac: 'zz', sandbox: 's' })), /mac/);
  assert.throws(() => ks.blockValue('k', JSON.stringify({ hostId: 'h', claimedAt: 'x', extra: 1 })), /Unrecognized key/);
});

test('L3: one peer per remote host holding a block and a VTEP MAC of the network, this host left out', () => {
  const d = listed().desired(local)!;
  assert.deepEqual(d.peers, [{ hostId: 'h2', underlay: '192.0.2.2', vtepMac: '02:00:00:00:00:02', blocks: ['10.244.1.0/24'] }]);
  assert.deepEqual(d.endpoints, [], 'L3 needs no endpoints');
  assert.deepEqual(d.local, { hostId: 'h1', underlay: '192.0.2.1', block: '10.244.0.0/24' });
  assert.equal(listed().desired({ ...local, name: 'other' }), undefined, 'a network etcd does not have');
});

test('L2: the remote endpoints with their host\'s underlay address', () => {
  const d = listed('l2').desired(local)!;
  assert.deepEqual(d.endpoints, [{ ip: '10.244.1.2', mac: '02:42:0a:f4:01:02', hostId: 'h2', underlay: '192.0.2.2' }]);
});

test('a host whose key goes stays for the grace period, then its entries go; one back in time stays', () => {
  const m = listed();
  const h2 = kv(ks.host('h2'), host(2, { ov: '02:00:00:00:00:02' }), '8');
  m.apply([{ type: 'delete', kv: h2 }], 11, 5000);
  assert.equal(m.desired(local)!.peers.length, 1, 'kept during the grace');
  assert.equal(m.expire(5500), 6000, 'the grace ends at 6000');
  assert.equal(m.desired(local)!.peers.length, 1);
  assert.equal(m.expire(6000), undefined);
  assert.deepEqual(m.desired(local)!.peers, [], 'gone after the grace');
  // back before its grace ends: stays
  const m2 = listed();
  m2.apply([{ type: 'delete', kv: h2 }], 11, 5000);
  m2.apply([{ type: 'put', kv: h2 }], 12, 5500);
  m2.expire(7000);
  assert.equal(m2.desired(local)!.peers.length, 1);
  // a re-list without a host it knew: departed too, not dropped at once
  const m3 = listed();
  m3.reset([kv(ks.network('ov'), NET), kv(ks.block('ov', '10.244.1.0/24'), { hostId: 'h2', claimedAt: 'x' })], 20, 8000);
  assert.equal(m3.desired(local)!.peers.length, 1);
  m3.expire(9000);
  assert.deepEqual(m3.desired(local)!.peers, []);
});

test('bad values are reported and skipped, and forgotten when fixed or deleted', () => {
  const m = listed();
  const bad = { key: ks.host('h9'), value: '{"underlay":"nope","vtepMacs":{}}', createRevision: 1, modRevision: 1, version: 1, lease: '0' };
  m.apply([{ type: 'put', kv: bad }], 12, 0);
  assert.match(m.bad.get(ks.host('h9'))!, /underlay: an IPv4 address/);
  assert.equal(m.hosts.has('h9'), false);
  m.apply([{ type: 'delete', kv: bad }], 13, 0);
  assert.equal(m.bad.size, 0);
});

test('a definition from create\'s options: defaults, a free VNI, checks naming the option', () => {
  assert.deepEqual(definitionOf('ov', { subnet: '10.244.0.0/16' }, new Set([100, 101])), { vni: 102, subnet: '10.244.0.0/16', blockPrefixLength: 24, mode: 'l3', port: 4789 });
  assert.deepEqual(definitionOf('ov', { subnet: '10.98.0.0/24', mode: 'l2', mtu: 1400 }, new Set()), { vni: 100, subnet: '10.98.0.0/24', blockPrefixLength: 26, mode: 'l2', mtu: 1400, port: 4789 });
  assert.throws(() => definitionOf('ov', { subnet: '10.244.0.0/16', blockPrefixLength: 12 }, new Set()), /--block-size 12: a prefix length from \/16/);
  assert.throws(() => definitionOf('ov', { subnet: 'fd00::/64' }, new Set()), /must be IPv4/);
  assert.throws(() => definitionOf('ov', { subnet: '10.0.0.0/8', vni: 1 << 24 }, new Set()), /--vni 16777216: 1 to 16777215/);
});
