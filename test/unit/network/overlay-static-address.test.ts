/**
 * Unit (no root): which static addresses (`connect --ip`) an overlay network takes on a host
 * (network/overlay.ts staticAddressProblem): L3 only this host's block (the others are routed to
 * their hosts); L2 any address of the subnet (an endpoint moving between hosts keeps its
 * address), but never a block's network address or gateway (a host's bridge).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { staticAddressProblem } from '../../../src/network/overlay.js';
import type { OverlayConfig } from '../../../src/store/index.js';

const base: OverlayConfig = { subnet: '10.92.0.0/24', vni: 100, blockPrefixLength: 26, mode: 'l2', port: 4789, block: '10.92.0.64/26', hostId: 'h2', underlay: '192.0.2.2' };

test('L2: any address of the subnet but a block\'s network address or gateway', () => {
  assert.equal(staticAddressProblem(base, '10.92.0.70'), undefined, 'in this host\'s block');
  assert.equal(staticAddressProblem(base, '10.92.0.2'), undefined, 'in another host\'s block: an endpoint moved here');
  assert.equal(staticAddressProblem(base, '10.92.0.130'), undefined);
  assert.match(staticAddressProblem(base, '10.92.0.1') ?? '', /10\.92\.0\.1 is the network address or gateway of a block of \/26/);
  assert.match(staticAddressProblem(base, '10.92.0.128') ?? '', /network address or gateway/);
  assert.match(staticAddressProblem(base, '10.92.0.65') ?? '', /network address or gateway/, 'this host\'s own gateway');
});

test('L3: only this host\'s block', () => {
  const l3: OverlayConfig = { ...base, mode: 'l3' };
  assert.equal(staticAddressProblem(l3, '10.92.0.70'), undefined);
  assert.equal(staticAddressProblem(l3, '10.92.0.2'), 'address 10.92.0.2 is outside this host\'s block 10.92.0.64/26');
});
