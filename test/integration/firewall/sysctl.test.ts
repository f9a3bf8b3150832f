/**
 * Integration (throwaway host, whose network namespace is fresh: forwarding off): the host
 * sysctls NAT needs. IPv4 forwarding is turned on once and recorded with its previous value;
 * IPv6 forwarding first raises accept_ra 1 -> 2 on the interfaces taking router advertisements
 * (and leaves 0 alone), each recorded; a second call changes nothing; route_localnet is set on
 * the bridge named and on nothing else. The oracle is /proc/sys read back directly.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { enableIPv4Forwarding, enableIPv6Forwarding, enableRouteLocalnet } from '../../../src/firewall/sysctl.js';
import { HostSettings } from '../../../src/store/index.js';
import { ip } from '../../helpers/iproute.js';
import { openTestDb, tempStoreDir } from '../../helpers/store.js';

const knob = (path: string): string => readFileSync(`/proc/sys/net/${path}`, 'utf8').trim();
const writeKnob = (path: string, value: string): void => writeFileSync(`/proc/sys/net/${path}`, value);

/** Put the throwaway host's knobs back after each test: the other suites expect a host that does not forward. */
function restoreAfter(t: TestContext, ...paths: string[]): void {
  const before = paths.map((p) => [p, knob(p)] as const);
  t.after(() => { for (const [p, v] of before) writeKnob(p, v); });
}

test('IPv4 forwarding: on once, recorded with its previous value; again: nothing', (t) => {
  const settings = new HostSettings(openTestDb(t, tempStoreDir(t)));
  restoreAfter(t, 'ipv4/ip_forward');
  assert.equal(knob('ipv4/ip_forward'), '0', 'a fresh namespace does not forward');
  assert.deepEqual(enableIPv4Forwarding(settings), [{ key: 'net.ipv4.ip_forward', previous: '0', value: '1', first: true }]);
  assert.equal(knob('ipv4/ip_forward'), '1');
  assert.deepEqual(enableIPv4Forwarding(settings), []);
  assert.deepEqual(settings.list().map((s) => [s.key, s.previous, s.value]), [['net.ipv4.ip_forward', '0', '1']]);
});

test('IPv6 forwarding: accept_ra 1 becomes 2 first (0 stays 0), then all.forwarding; each recorded', (t) => {
  const settings = new HostSettings(openTestDb(t, tempStoreDir(t)));
  restoreAfter(t, 'ipv6/conf/all/forwarding');
  ip(undefined, 'link', 'add', 'nsbra0', 'type', 'veth', 'peer', 'name', 'nsbra1');
  t.after(() => ip(undefined, 'link', 'del', 'nsbra0'));
  ip(undefined, 'link', 'set', 'nsbra0', 'up');
  ip(undefined, 'link', 'set', 'nsbra1', 'up');
  writeKnob('ipv6/conf/nsbra0/accept_ra', '1');
  writeKnob('ipv6/conf/nsbra1/accept_ra', '0');
  const changes = enableIPv6Forwarding(settings);
  assert.deepEqual(changes.map((c) => [c.key, c.previous, c.value]), [
    ['net.ipv6.conf.nsbra0.accept_ra', '1', '2'],
    ['net.ipv6.conf.all.forwarding', '0', '1'],
  ]);
  assert.equal(knob('ipv6/conf/nsbra0/accept_ra'), '2');
  assert.equal(knob('ipv6/conf/nsbra1/accept_ra'), '0', 'an interface not taking RAs is left alone');
  assert.equal(knob('ipv6/conf/all/forwarding'), '1');
  assert.deepEqual(enableIPv6Forwarding(settings), []);
});

test('route_localnet on the bridge named, and nowhere else', () => {
  ip(undefined, 'link', 'add', 'nsbrl0', 'type', 'bridge');
  try {
    enableRouteLocalnet('nsbrl0');
    assert.equal(knob('ipv4/conf/nsbrl0/route_localnet'), '1');
    assert.equal(knob('ipv4/conf/all/route_localnet'), '0');
    assert.equal(knob('ipv4/conf/lo/route_localnet'), '0');
  } finally {
    ip(undefined, 'link', 'del', 'nsbrl0');
  }
});

