/** network/host-routes: the free /16 a bridge network gets (the route scan needs a host: integration). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickFreeSubnet } from '../../../src/network/host-routes.js';
import { parseCidr } from '../../../src/net/cidr.js';
import { ConfigError } from '../../../src/errors.js';

const taken = (...cidrs: string[]) => cidrs.map((c) => parseCidr(c));

void test('the first /16 from 10.88.0.0 that nothing taken overlaps', () => {
  assert.equal(pickFreeSubnet([]), '10.88.0.0/16');
  assert.equal(pickFreeSubnet(taken('10.88.0.0/16')), '10.89.0.0/16');
  assert.equal(pickFreeSubnet(taken('10.88.7.0/24', '10.89.255.252/30')), '10.90.0.0/16', 'narrower prefixes inside a /16 take it');
  assert.equal(pickFreeSubnet(taken('10.88.0.0/15')), '10.90.0.0/16', 'a wider prefix takes every /16 it holds');
  assert.equal(pickFreeSubnet(taken('fd00::/8', '10.0.0.0/16')), '10.88.0.0/16', 'other families and other /16s do not count');
});

void test('nothing free up to 10.254.0.0/16 is a ConfigError asking for a subnet', () => {
  assert.throws(() => pickFreeSubnet(taken('10.0.0.0/8')), (err: unknown) => err instanceof ConfigError && err.field === 'subnet' && /give --subnet/.test(err.message));
  assert.equal(pickFreeSubnet(taken('10.88.0.0/13', '10.96.0.0/11', '10.128.0.0/10', '10.192.0.0/11', '10.224.0.0/12', '10.240.0.0/13', '10.248.0.0/14', '10.252.0.0/15')), '10.254.0.0/16');
});
