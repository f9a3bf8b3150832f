/**
 * Unit: a lab network as `nsbox network create` options (src/lab/network-options.ts): without a
 * gateway the host takes the highest address no node uses and the network is internal and not
 * masqueraded; a file's gateway is used as given; a subnet full of nodes is an error. And the
 * names a lab gives its links' veths (src/lab/naming.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labFromObject } from '../../../src/lab/index.js';
import { labNetworkOptions } from '../../../src/lab/network-options.js';
import { hostVethName } from '../../../src/lab/naming.js';
import { sysctlPath } from '../../../src/managed/sysctls.js';

const lab = (network: Record<string, unknown>, addresses: string[]) => labFromObject({
  lab: 'demo',
  networks: { lan: network },
  nodes: Object.fromEntries(addresses.map((a, i) => [`n${i}`, { interfaces: { eth0: { network: 'lan', address: a } } }])),
});

test('no gateway: the highest host address no node has, internal, not masqueraded', () => {
  const spec = lab({ subnet: '10.10.0.0/24' }, ['10.10.0.1/24', '10.10.0.254/24']);
  const o = labNetworkOptions(spec, spec.networks[0]!);
  assert.equal(o.gateway, '10.10.0.253');
  assert.equal(o.hostAddress, 'picked');
  assert.deepEqual(o.options, { driver: 'bridge', subnets: ['10.10.0.0/24'], gateway: '10.10.0.253', internal: true, masquerade: false });
});

test('a gateway in the file: used as given, with the file\'s internal and masquerade', () => {
  const spec = lab({ subnet: '10.10.0.0/24', gateway: '10.10.0.1', masquerade: true }, ['10.10.0.2/24']);
  const o = labNetworkOptions(spec, spec.networks[0]!);
  assert.equal(o.hostAddress, 'file');
  assert.deepEqual(o.options, { driver: 'bridge', subnets: ['10.10.0.0/24'], gateway: '10.10.0.1', internal: false, masquerade: true });
});

test('a /30 whose two host addresses are nodes\' leaves none for the host: an error saying what to do', () => {
  const spec = lab({ subnet: '10.10.0.0/30' }, ['10.10.0.1/30', '10.10.0.2/30']);
  assert.throws(() => labNetworkOptions(spec, spec.networks[0]!), /none is left for the host's end of the bridge \(give the network a gateway, or a larger subnet\)/);
});

test('no subnet: no gateway picked (nsbox\'s own), internal', () => {
  const spec = labFromObject({ lab: 'demo', networks: { lan: {} }, nodes: { n: { interfaces: { eth0: { network: 'lan' } } } } });
  const o = labNetworkOptions(spec, spec.networks[0]!);
  assert.equal(o.gateway, undefined);
  assert.deepEqual(o.options, { driver: 'bridge', subnets: [], internal: true, masquerade: false });
});

test('link veth names: 12 bytes, stable, different per lab, link and end', () => {
  const a = hostVethName('demo', 'wan', 'a');
  assert.match(a, /^nl[0-9a-f]{9}a$/);
  assert.equal(hostVethName('demo', 'wan', 'a'), a);
  assert.equal(hostVethName('demo', 'wan', 'b'), `${a.slice(0, -1)}b`);
  assert.notEqual(hostVethName('demo2', 'wan', 'a'), a);
  assert.notEqual(hostVethName('demo', 'wan2', 'a'), a);
});

test('sysctl keys to /proc/sys paths; an interface name with a dot is written with a slash', () => {
  assert.equal(sysctlPath('net.ipv4.ip_forward'), '/proc/sys/net/ipv4/ip_forward');
  assert.equal(sysctlPath('net.ipv4.conf.eth0/100.rp_filter'), '/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
  assert.throws(() => sysctlPath('kernel.panic'), /not a network sysctl/);
  assert.throws(() => sysctlPath('net.ipv4..x'), /not a network sysctl/);
});
