/** network/create-options: the checks every driver shares, before anything touches the host. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCreateOptions, withGateways, DEFAULT_MTU } from '../../../src/network/create-options.js';
import { parseSubnet } from '../../../src/network/ipam.js';
import { ConfigError } from '../../../src/errors.js';

const configError = (field: string, message: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
  assert.equal(err.field, field);
  assert.match(err.message, message);
  return true;
};

void test('defaults: MTU 1500, no subnets', () => {
  assert.deepEqual(checkCreateOptions({}), { mtu: DEFAULT_MTU, subnets: [] });
  assert.equal(DEFAULT_MTU, 1500);
});

void test('MTU: an integer from 68 to 65535', () => {
  assert.equal(checkCreateOptions({ mtu: 68 }).mtu, 68);
  assert.equal(checkCreateOptions({ mtu: 65535 }).mtu, 65535);
  for (const mtu of [67, 65536, 1500.5, NaN]) assert.throws(() => checkCreateOptions({ mtu }), configError('mtu', /^invalid MTU .*: 68 to 65535$/), String(mtu));
});

void test('subnets: parsed, at most one per family, IPv6 only with ipv6 and then required', () => {
  assert.deepEqual(checkCreateOptions({ subnets: ['10.77.0.0/24', 'fd00:77::/64'], ipv6: true }).subnets.map((s) => s.cidr), ['10.77.0.0/24', 'fd00:77::/64']);
  assert.throws(() => checkCreateOptions({ subnets: ['10.77.0.0/24', '10.78.0.0/24'] }), configError('subnet', /at most one IPv4 and one IPv6/));
  assert.throws(() => checkCreateOptions({ subnets: ['fd00:77::/64'] }), configError('subnet', /^an IPv6 subnet needs --ipv6$/));
  assert.throws(() => checkCreateOptions({ ipv6: true }), configError('subnet', /^--ipv6 needs an IPv6 --subnet/));
  assert.throws(() => checkCreateOptions({ subnets: ['10.77.0.1/24'] }), configError('subnet', /host bits are set/));
});

void test('withGateways: the first host address unless one is given, checked against its subnet', () => {
  const v4 = parseSubnet('10.77.0.0/24');
  const v6 = parseSubnet('fd00:77::/64');
  assert.deepEqual(withGateways([v4, v6], {}).map((s) => s.gateway), ['10.77.0.1', 'fd00:77::1']);
  assert.deepEqual(withGateways([v4, v6], { gateway: '10.77.0.254', gateway6: 'fd00:77::fe' }).map((s) => s.gateway), ['10.77.0.254', 'fd00:77::fe']);
  assert.throws(() => withGateways([v4], { gateway: 'fd00::1' }), configError('gateway', /^invalid gateway "fd00::1" for 10\.77\.0\.0\/24$/));
  assert.throws(() => withGateways([v4], { gateway: '10.78.0.1' }), configError('gateway', /outside the subnet/));
  assert.throws(() => withGateways([v4], { gateway: '10.77.0.255' }), configError('gateway', /not a host address/));
  assert.throws(() => withGateways([v6], { gateway: '10.77.0.1' }), configError('gateway', /^--gateway needs an IPv4 subnet$/));
});
