/** overlay/dataplane: the desired entries of a host (plan.ts) and the names and VTEP MAC (names.ts), pure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planOverlay } from '../../../src/overlay/dataplane/plan.js';
import { overlayDeviceNames, vtepMacFor } from '../../../src/overlay/dataplane/names.js';
import { ConfigError } from '../../../src/errors.js';
import type { OverlayDesired, OverlayNetworkSpec } from '../../../src/overlay/dataplane/types.js';

const L3: OverlayNetworkSpec = { name: 'n', vni: 7, subnet: '10.244.0.0/16', blockPrefixLength: 24, mode: 'l3', port: 4789 };
const L2: OverlayNetworkSpec = { ...L3, mode: 'l2' };
const local = { hostId: 'a', underlay: '192.0.2.1', block: '10.244.1.0/24' };
const peer = (i: number, blocks = [`10.244.${i}.0/24`]) => ({ hostId: `h${i}`, underlay: `192.0.2.${i}`, vtepMac: `02:00:00:00:00:0${i}`, blocks });

const configError = (field: string, message: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
  assert.equal(err.field, field);
  assert.match(err.message, message);
  return true;
};

void test('L3: per peer a neighbour and an FDB entry for its VTEP, a route per block via its first block\'s network address; self skipped', () => {
  const plan = planOverlay({ network: L3, local, peers: [peer(2), peer(3, ['10.244.3.0/24', '10.244.30.0/24']), { ...peer(1), hostId: 'a' }], endpoints: [] });
  assert.deepEqual([...plan.routes.values()], [
    { dst: '10.244.2.0/24', gateway: '10.244.2.0' }, { dst: '10.244.3.0/24', gateway: '10.244.3.0' }, { dst: '10.244.30.0/24', gateway: '10.244.3.0' },
  ]);
  assert.deepEqual([...plan.neighs], [['10.244.2.0', '02:00:00:00:00:02'], ['10.244.3.0', '02:00:00:00:00:03']]);
  assert.deepEqual([...plan.fdb], [['02:00:00:00:00:02', '192.0.2.2'], ['02:00:00:00:00:03', '192.0.2.3']]);
  assert.deepEqual([...plan.allow], ['192.0.2.2', '192.0.2.3']);
});

void test('L3: a peer claiming this host\'s block gets no route for it; a peer without blocks is only allowed', () => {
  const plan = planOverlay({ network: L3, local, peers: [peer(2, ['10.244.1.0/24']), peer(4, [])], endpoints: [] });
  assert.deepEqual([...plan.routes.keys()], []);
  assert.deepEqual([...plan.allow], ['192.0.2.2', '192.0.2.4']);
});

void test('L2: per remote endpoint a neighbour and an FDB entry; local endpoints skipped; a move (later record) wins', () => {
  const d: OverlayDesired = {
    network: L2, local, peers: [peer(2), peer(3)],
    endpoints: [
      { ip: '10.244.1.5', mac: '02:aa:00:00:00:01', hostId: 'a', underlay: '192.0.2.1' },
      { ip: '10.244.2.5', mac: '02:aa:00:00:00:02', hostId: 'h2', underlay: '192.0.2.2' },
      { ip: '10.244.3.9', mac: '02:aa:00:00:00:09', hostId: 'h3', underlay: '192.0.2.3' },
      { ip: '10.244.3.9', mac: '02:aa:00:00:00:09', hostId: 'h2', underlay: '192.0.2.2' },
    ],
  };
  const plan = planOverlay(d);
  assert.deepEqual([...plan.neighs], [['10.244.2.5', '02:aa:00:00:00:02'], ['10.244.3.9', '02:aa:00:00:00:09']]);
  assert.deepEqual([...plan.fdb], [['02:aa:00:00:00:02', '192.0.2.2'], ['02:aa:00:00:00:09', '192.0.2.2']]);
  assert.equal(plan.routes.size, 0);
  // moved onto this host: no entries left for it
  const here = planOverlay({ ...d, endpoints: [...d.endpoints, { ip: '10.244.3.9', mac: '02:aa:00:00:00:09', hostId: 'a', underlay: '192.0.2.1' }] });
  assert.deepEqual([...here.fdb.keys()], ['02:aa:00:00:00:02']);
  assert.deepEqual([...here.neighs.keys()], ['10.244.2.5']);
  // an IP taken over by another MAC: the old MAC's FDB entry goes too
  const taken = planOverlay({ ...d, endpoints: [d.endpoints[1]!, { ...d.endpoints[1]!, mac: '02:aa:00:00:00:22' }] });
  assert.deepEqual([...taken.fdb.keys()], ['02:aa:00:00:00:22']);
});

void test('bad input: a ConfigError naming the field', () => {
  const ok: OverlayDesired = { network: L3, local, peers: [], endpoints: [] };
  assert.throws(() => planOverlay({ ...ok, network: { ...L3, vni: 1 << 24 } }), configError('vni', /network\.vni: 16777216 is not a VNI/));
  assert.throws(() => planOverlay({ ...ok, network: { ...L3, port: 0 } }), configError('port', /not a UDP port/));
  assert.throws(() => planOverlay({ ...ok, network: { ...L3, mode: 'l4' as 'l3' } }), configError('mode', /not l3 or l2/));
  assert.throws(() => planOverlay({ ...ok, network: { ...L3, subnet: 'fd00::/64' } }), configError('network.subnet', /IPv4 only/));
  assert.throws(() => planOverlay({ ...ok, network: { ...L3, subnet: '10.244.0.1/16' } }), configError('network.subnet', /host bits are set/));
  assert.throws(() => planOverlay({ ...ok, network: { ...L3, blockPrefixLength: 8 } }), configError('blockPrefixLength', /from the subnet's \/16 to 30/));
  assert.throws(() => planOverlay({ ...ok, network: { ...L3, mtu: 100 } }), configError('mtu', /576 to 65535/));
  assert.throws(() => planOverlay({ ...ok, local: { ...local, block: '10.245.1.0/24' } }), configError('local.block', /not a \/24 block of 10\.244\.0\.0\/16/));
  assert.throws(() => planOverlay({ ...ok, local: { ...local, underlay: 'x' } }), configError('local.underlay', /not an IPv4 address/));
  assert.throws(() => planOverlay({ ...ok, peers: [{ ...peer(2), vtepMac: '01:00:5e:00:00:01' }] }), configError('peers[0].vtepMac', /multicast MAC/));
  assert.throws(() => planOverlay({ ...ok, peers: [{ ...peer(2), vtepMac: 'zz' }] }), configError('peers[0].vtepMac', /not a MAC address/));
  assert.throws(() => planOverlay({ ...ok, network: L2, endpoints: [{ ip: '10.9.0.1', mac: '02:00:00:00:00:01', hostId: 'h2', underlay: '192.0.2.2' }] }), configError('ip', /not in the network's subnet/));
});

void test('names fit IFNAMSIZ and say what they are; the VTEP MAC is stable, unicast and locally administered', () => {
  assert.deepEqual(overlayDeviceNames('web'), { vxlan: 'nsvx-web', bridge: 'nsob-web' });
  const long = overlayDeviceNames('a-rather-long-network-name');
  assert.match(long.vxlan, /^nsvx-[0-9a-f]{10}$/);
  assert.match(long.bridge, /^nsob-[0-9a-f]{10}$/);
  assert.notEqual(overlayDeviceNames('x.y').vxlan, 'nsvx-x.y');
  const mac = vtepMacFor('host-1', 42);
  assert.equal(vtepMacFor('host-1', 42), mac);
  assert.notEqual(vtepMacFor('host-1', 43), mac);
  assert.notEqual(vtepMacFor('host-2', 42), mac);
  assert.match(mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  assert.equal(parseInt(mac.slice(0, 2), 16) & 0x03, 0x02);
});
