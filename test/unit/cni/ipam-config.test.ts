/**
 * Unit: the `ipam` section (SPEC §1 "ipam", §4 "Plugin Delegation"): nsbox's own IPAM in
 * host-local's vocabulary (research cni.md §2.3: ranges, the legacy subnet, gateway, routes),
 * held to what an nsbox network is (one subnet per family, the whole subnet), and any other
 * type delegated untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CniError } from '../../../src/cni/errors.js';
import { parseIpamConfig } from '../../../src/cni/ipam-config.js';

const nsbox = (ipam: object, rest: object = {}): ReturnType<typeof parseIpamConfig> => parseIpamConfig({ ipam: { type: 'nsbox', ...ipam }, ...rest });

test('nsbox IPAM: ranges, or the legacy top-level subnet prepended (host-local LoadIPAMConfig); gateways default to the first host', () => {
  assert.deepEqual(nsbox({ subnet: '10.88.0.0/16' }), {
    kind: 'nsbox', routes: [],
    ranges: [{ subnet: { address: '10.88.0.0', family: 4, prefixLen: 16, cidr: '10.88.0.0/16' }, gateway: '10.88.0.1' }],
  });
  const dual = nsbox({ ranges: [[{ subnet: 'FD00:88::/64', gateway: 'fd00:88::fe' }], [{ subnet: '10.88.0.0/16', gateway: '10.88.255.254' }]], routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd00:88::fe' }] });
  assert.ok(dual.kind === 'nsbox');
  assert.deepEqual(dual.ranges.map((r) => [r.subnet.cidr, r.gateway]), [['10.88.0.0/16', '10.88.255.254'], ['fd00:88::/64', 'fd00:88::fe']], 'IPv4 first, canonical text');
  assert.deepEqual(dual.routes, [{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd00:88::fe' }]);
  const legacyAndRanges = nsbox({ subnet: '10.88.0.0/16', ranges: [[{ subnet: 'fd00:88::/64' }]] });
  assert.ok(legacyAndRanges.kind === 'nsbox');
  assert.equal(legacyAndRanges.ranges.length, 2, 'the legacy subnet is one more range set');
});

test('any other type is a delegated plugin, its section its own business (§4)', () => {
  for (const type of ['host-local', 'static', 'dhcp', 'whereabouts']) {
    assert.deepEqual(parseIpamConfig({ ipam: { type, ranges: 'whatever the plugin reads', dataDir: '/x' } }), { kind: 'delegate', type });
  }
});

test('what nsbox cannot honour is code 2 naming the field and its value (§5 code 2), with why in details', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{}, 'ipam', /^unsupported field ipam=null /], // no ipam: the bridge plugin's L2-only mode
    [{ ipam: {} }, 'ipam', /ipam=\{\}/],
    [{ ipam: { type: '' } }, 'ipam', /ipam=\{"type":""\}/],
    [{ ipam: { type: 'nsbox', subnet: '10.88.0.0/16', rangeStart: '10.88.1.0' } }, 'ipam.rangeStart', /rangeStart="10\.88\.1\.0"/],
    [{ ipam: { type: 'nsbox', ranges: [[{ subnet: '10.88.0.0/16', rangeEnd: '10.88.0.99' }]] } }, 'ipam.ranges[0][0].rangeEnd', /rangeEnd/],
    [{ ipam: { type: 'nsbox', ranges: [[{ subnet: '10.88.0.0/16' }, { subnet: '10.89.0.0/16' }]] } }, 'ipam.ranges[0]', /a pool/],
    [{ ipam: { type: 'nsbox', ranges: [[{ subnet: '10.88.0.0/16' }], [{ subnet: '10.89.0.0/16' }]] } }, 'ipam.ranges[1]', /a second IPv4 range \(10\.88\.0\.0\/16 is the first\)/],
    [{ ipam: { type: 'nsbox', subnet: 'fd00::/64', ranges: [[{ subnet: 'fd01::/64' }]] } }, 'ipam.ranges[0]', /a second IPv6 range/],
    [{ ipam: { type: 'nsbox', subnet: '10.88.0.0/16', dataDir: '/var/lib/cni/networks' } }, 'ipam.dataDir', /own state store/],
    [{ ipam: { type: 'nsbox', subnet: '10.88.0.0/16', resolvConf: '/etc/resolv.conf' } }, 'ipam.resolvConf', /"dns"/],
    [{ ipam: { type: 'nsbox', subnet: '10.88.0.0/16' }, runtimeConfig: { ipRanges: [[{ subnet: '10.9.0.0/24' }]] } }, 'runtimeConfig.ipRanges', /delegated IPAM plugin/],
  ];
  for (const [raw, field, msg] of cases) {
    assert.throws(() => parseIpamConfig(raw), (err: unknown) => err instanceof CniError && err.cniCode === 2 && err.field === field && err.message.startsWith(`unsupported field ${field}=`) && msg.test(`${err.message} ${err.details}`), field);
  }
  assert.doesNotThrow(() => parseIpamConfig({ ipam: { type: 'nsbox', subnet: '10.88.0.0/16' }, runtimeConfig: { ipRanges: [] } }), 'an empty ipRanges asks nothing');
});

test('malformed subnets, gateways and routes are code 7 naming the field (host-local Canonicalize refuses the same)', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{}, 'ipam.ranges', /no IP ranges specified/],
    [{ ranges: [] }, 'ipam.ranges', /no IP ranges/],
    [{ ranges: [[]] }, 'ipam.ranges[0]', /an empty range set/],
    [{ ranges: [{ subnet: '10.88.0.0/16' }] }, 'ipam.ranges[0]', /expected a range set/],
    [{ ranges: [['10.88.0.0/16']] }, 'ipam.ranges[0][0]', /expected an object/],
    [{ ranges: [[{ gateway: '10.88.0.1' }]] }, 'ipam.ranges[0][0].subnet', /missing/],
    [{ subnet: '10.88.0.1/16' }, 'ipam.subnet', /host bits are set/],
    [{ subnet: '10.88.0.0' }, 'ipam.subnet', /expected network\/prefix/],
    [{ subnet: '10.88.0.0/31' }, 'ipam.subnet', /too small, at most \/30/], // "Network 10.250.0.0/31 too small to allocate from"
    [{ subnet: 'fd00::/127' }, 'ipam.subnet', /at most \/126/],
    [{ subnet: '10.88.0.0/16', gateway: '10.89.0.1' }, 'ipam.gateway', /outside the subnet/],
    [{ subnet: '10.88.0.0/16', gateway: '10.88.0.0' }, 'ipam.gateway', /not a host address/],
    [{ subnet: '10.88.0.0/16', gateway: 'x' }, 'ipam.gateway', /not an IPv4 or IPv6 address/],
    [{ subnet: '10.88.0.0/16', routes: [{ dst: '0.0.0.0' }] }, 'ipam.routes[0].dst', /prefix length/],
    [{ subnet: '10.88.0.0/16', routes: [{ dst: '0.0.0.0/0', gw: 'fd00::1' }] }, 'ipam.routes[0].gw', /not of the family/],
    [{ subnet: '10.88.0.0/16', routes: {} }, 'ipam.routes', /expected an array/],
  ];
  for (const [ipam, field, msg] of cases) {
    assert.throws(() => nsbox(ipam), (err: unknown) => err instanceof CniError && err.cniCode === 7 && err.field === field && msg.test(err.message), `${field}: ${JSON.stringify(ipam)}`);
  }
});
