/**
 * Unit: ADD results in every version's shape (SPEC §5 "ADD Success", and the spec of each
 * version for the older shapes), conversion both ways through the one in-memory form, and the
 * 0.1.0/0.2.0 refusal: where Go's converter drops addresses or routes, or fails after the veth
 * exists, nsbox refuses, and for ADD before anything is done. The dual-stack documents are the
 * reference bridge plugin's output for one config at each version (research cni.md §1.6).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeConfig, parseEnvelope, parsePluginConfig } from '../../../src/cni/config.js';
import { parseCniArgs } from '../../../src/cni/env.js';
import { CniError } from '../../../src/cni/errors.js';
import {
  checkAddExpressible, checkResultExpressible, convertResult, decodeResult, encodeResult, inexpressible, type CniResult,
} from '../../../src/cni/result.js';
import { CNI_VERSIONS, type CniVersion } from '../../../src/cni/version.js';

/** The reference bridge's dual-stack ADD at 0.2.0, 0.4.0 and 1.0.0 (research §1.6, MACs and names from one run). */
const V020 = {
  cniVersion: '0.2.0',
  ip4: { ip: '10.253.0.4/24', gateway: '10.253.0.1', routes: [{ dst: '192.168.0.0/16' }, { dst: '0.0.0.0/0', gw: '10.253.0.1' }] },
  ip6: { ip: 'fd00:253::4/64', gateway: 'fd00:253::1', routes: [{ dst: '::/0', gw: 'fd00:253::1' }] },
  dns: { nameservers: ['10.253.0.1'] },
};
const INTERFACES = [{ name: 'vers0', mac: '3e:a0:d3:d2:a5:de' }, { name: 'veth9b33d620', mac: 'ae:ab:96:87:13:79' }, { name: 'eth0', mac: '66:92:87:cb:5c:f0', sandbox: '/run/netns/v5' }];
const ROUTES = [{ dst: '192.168.0.0/16' }, { dst: '0.0.0.0/0', gw: '10.253.0.1' }, { dst: '::/0', gw: 'fd00:253::1' }];
const V040 = {
  cniVersion: '0.4.0',
  interfaces: INTERFACES,
  ips: [{ version: '4', interface: 2, address: '10.253.0.4/24', gateway: '10.253.0.1' }, { version: '6', interface: 2, address: 'fd00:253::4/64', gateway: 'fd00:253::1' }],
  routes: ROUTES,
  dns: { nameservers: ['10.253.0.1'] },
};
const V100 = {
  cniVersion: '1.0.0',
  interfaces: INTERFACES,
  ips: [{ interface: 2, address: '10.253.0.4/24', gateway: '10.253.0.1' }, { interface: 2, address: 'fd00:253::4/64', gateway: 'fd00:253::1' }],
  routes: ROUTES,
  dns: { nameservers: ['10.253.0.1'] },
};

/** The in-memory form of V040/V100. */
const RICH: CniResult = {
  interfaces: INTERFACES,
  ips: [{ address: '10.253.0.4/24', gateway: '10.253.0.1', interface: 2 }, { address: 'fd00:253::4/64', gateway: 'fd00:253::1', interface: 2 }],
  routes: ROUTES,
  dns: { nameservers: ['10.253.0.1'] },
};

const at = (doc: object, v: CniVersion): object => ({ ...doc, cniVersion: v });

test('each version\'s shape, written from one result (§5 for 1.x; spec-v0.4.0, spec-v0.3.x, spec-v0.2.0 for the older)', () => {
  assert.deepEqual(encodeResult(RICH, '1.1.0'), at(V100, '1.1.0'), '1.1.0 = 1.0.0 plus optional fields');
  assert.deepEqual(encodeResult(RICH, '1.0.0'), V100, '1.0.0: no `version` in ips');
  for (const v of ['0.3.0', '0.3.1', '0.4.0'] as const) assert.deepEqual(encodeResult(RICH, v), at(V040, v), `${v}: ips carry "version"`);
  // 0.2.0 keeps what its shape can hold: interfaces and the interface index have no place there.
  for (const v of ['0.1.0', '0.2.0'] as const) assert.deepEqual(encodeResult(RICH, v), at(V020, v), `${v}: ip4/ip6, routes by family`);
});

test('each version\'s shape, read into the one form; up-conversion appends ip4\'s routes then ip6\'s (Go convertFrom02x)', () => {
  assert.deepEqual(decodeResult(V100, '1.0.0', 'r'), RICH);
  assert.deepEqual(decodeResult(V040, '0.4.0', 'r'), RICH);
  const fromLegacy = decodeResult(V020, '0.2.0', 'r');
  assert.deepEqual(fromLegacy, { interfaces: [], ips: [{ address: '10.253.0.4/24', gateway: '10.253.0.1' }, { address: 'fd00:253::4/64', gateway: 'fd00:253::1' }], routes: ROUTES, dns: RICH.dns });
  assert.deepEqual(convertResult(V020, '0.2.0', '1.0.0'), { cniVersion: '1.0.0', ips: fromLegacy.ips, routes: ROUTES, dns: RICH.dns });
  assert.deepEqual(convertResult(V020, '0.2.0', '0.4.0'), { cniVersion: '0.4.0', ips: [{ version: '4', ...fromLegacy.ips[0] }, { version: '6', ...fromLegacy.ips[1] }], routes: ROUTES, dns: RICH.dns });
});

test('every pair of versions converts, and a round trip that does not go down to 0.2.0 from a richer shape changes nothing', () => {
  const docs: Record<string, object> = { '0.1.0': at(V020, '0.1.0'), '0.2.0': V020, '0.3.0': at(V040, '0.3.0'), '0.3.1': at(V040, '0.3.1'), '0.4.0': V040, '1.0.0': V100, '1.1.0': at(V100, '1.1.0') };
  for (const from of CNI_VERSIONS) {
    for (const to of CNI_VERSIONS) {
      const there = convertResult(docs[from], from, to);
      assert.equal(there.cniVersion, to);
      if (to >= '0.3.0' || from < '0.3.0') assert.deepEqual(convertResult(there, to, from), docs[from], `${from} -> ${to} -> ${from}`);
    }
  }
});

test('1.1.0 fields (§5: interfaces mtu/socketPath/pciID, routes mtu/advmss/priority/table/scope) are written in 1.1.0 only', () => {
  const v11 = {
    cniVersion: '1.1.0',
    interfaces: [{ name: 'eth0', mac: '02:42:0a:58:00:07', mtu: 1400, sandbox: '/run/netns/c1', socketPath: '/run/vhost.sock', pciID: '0000:04:00.5' }],
    ips: [{ interface: 0, address: '10.88.0.7/16', gateway: '10.88.0.1' }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.88.0.1', mtu: 1400, advmss: 1360, priority: 100, table: 254, scope: 0 }],
  };
  const r = decodeResult(v11, '1.1.0', 'prevResult');
  assert.deepEqual(encodeResult(r, '1.1.0'), v11);
  assert.deepEqual(encodeResult(r, '1.0.0'), {
    cniVersion: '1.0.0', interfaces: [{ name: 'eth0', mac: '02:42:0a:58:00:07', sandbox: '/run/netns/c1' }],
    ips: [{ interface: 0, address: '10.88.0.7/16', gateway: '10.88.0.1' }], routes: [{ dst: '0.0.0.0/0', gw: '10.88.0.1' }],
  }, 'not 1.0.0 fields (Go\'s convertFrom100 leaves them in)');
});

test('a delegated IPAM plugin\'s abbreviated result (§5 "Delegated plugins (IPAM)": no interfaces, no interface index)', () => {
  const ipam = { cniVersion: '1.0.0', ips: [{ address: '10.253.0.13/24', gateway: '10.253.0.1' }], routes: [{ dst: '192.168.0.0/16' }], dns: {} };
  assert.deepEqual(decodeResult(ipam, '1.0.0', 'ipam'), { interfaces: [], ips: [{ address: '10.253.0.13/24', gateway: '10.253.0.1' }], routes: [{ dst: '192.168.0.0/16' }], dns: {} });
  assert.deepEqual(encodeResult(decodeResult(ipam, '1.0.0', 'ipam'), '1.0.0'), { cniVersion: '1.0.0', ips: ipam.ips, routes: ipam.routes }, 'an empty dns is left out');
  assert.deepEqual(encodeResult({ interfaces: [], ips: [], routes: [], dns: {} }, '1.1.0'), { cniVersion: '1.1.0' }, 'nothing at all');
});

test('a result\'s own cniVersion decides its shape; without one, the config\'s (libcni fixupResultVersion)', () => {
  assert.deepEqual(decodeResult(V020, '1.0.0', 'prevResult').ips.length, 2, '0.2.0 shape read in a 1.0.0 config');
  const { cniVersion: _, ...noVersion } = V040;
  assert.equal(decodeResult(noVersion, '0.4.0', 'prevResult').ips.length, 2);
  assert.equal(decodeResult(noVersion, '0.2.0', 'prevResult').ips.length, 0, 'read as 0.2.0: no ip4/ip6 keys');
});

test('a malformed result is code 7 naming the field by its path', () => {
  const cases: [unknown, string, string, RegExp][] = [
    ['x', '1.0.0', 'prevResult', /expected a result object/],
    [{ cniVersion: '9.9.9' }, '1.0.0', 'prevResult.cniVersion', /incompatible/],
    [{ ips: [{ address: '10.0.0.1' }] }, '1.0.0', 'prevResult.ips[0].address', /not an address with a prefix length/],
    [{ ips: [{ address: '10.0.0.1/24', gateway: 'fd00::1' }] }, '1.0.0', 'prevResult.ips[0].gateway', /not of the family/],
    [{ interfaces: [{ name: 'eth0' }], ips: [{ address: '10.0.0.1/24', interface: 1 }] }, '1.0.0', 'prevResult.ips[0].interface', /past the 1 interfaces/],
    [{ ips: [{ version: '6', address: '10.0.0.1/24' }] }, '0.4.0', 'prevResult.ips[0].version', /does not match/],
    [{ interfaces: [{ mac: 'x' }] }, '1.0.0', 'prevResult.interfaces[0].name', /missing/],
    [{ routes: [{ gw: '10.0.0.1' }] }, '1.1.0', 'prevResult.routes[0].dst', /missing/],
    [{ routes: [{ dst: '0.0.0.0/0', scope: 256 }] }, '1.1.0', 'prevResult.routes[0].scope', /0 to 255/],
    [{ routes: [{ dst: '0.0.0.0/0', table: -1 }] }, '1.1.0', 'prevResult.routes[0].table', /0 to 4294967295/],
    [{ ip4: { ip: 'fd00::1/64' } }, '0.2.0', 'prevResult.ip4.ip', /not an IPv4 address/],
    [{ ip6: { gateway: 'fd00::1' } }, '0.2.0', 'prevResult.ip6.ip', /missing/],
    [{ dns: { nameservers: '10.0.0.1' } }, '1.0.0', 'prevResult.dns.nameservers', /expected an array/],
  ];
  for (const [value, version, field, msg] of cases) {
    assert.throws(() => decodeResult(value, version as CniVersion, 'prevResult'), (err: unknown) => err instanceof CniError && err.cniCode === 7 && err.field === field && msg.test(err.message), field);
  }
  assert.equal(decodeResult({ ips: [{ version: '4', address: '10.0.0.1/24' }], unknownKey: 1 }, '1.0.0', 'r').ips.length, 1, 'keys a version does not define are ignored (a stray "version" in 1.0.0)');
});

test('0.1.0/0.2.0 cannot hold what Go\'s converter drops or fails on: refused, not lost', () => {
  const ip = (address: string): { address: string } => ({ address });
  const cases: [Pick<CniResult, 'ips' | 'routes'>, 'ips' | 'routes', RegExp][] = [
    [{ ips: [ip('10.0.0.2/24'), ip('10.0.1.2/24')], routes: [] }, 'ips', /this one has 2 IPv4 addresses/], // Go keeps the first only
    [{ ips: [ip('fd00::2/64'), ip('fd01::2/64')], routes: [] }, 'ips', /2 IPv6 addresses/],
    [{ ips: [], routes: [] }, 'ips', /at least one: this one has none/], // Go: "cannot convert: no valid IP addresses"
    [{ ips: [ip('10.0.0.2/24')], routes: [{ dst: '::/0' }] }, 'routes', /the route to ::\/0 has no IPv6 address/], // Go drops it
  ];
  for (const [result, part, reason] of cases) {
    for (const v of ['0.1.0', '0.2.0'] as const) {
      const why = inexpressible(result, v);
      assert.equal(why?.part, part, `${v} ${reason}`);
      assert.match(why!.reason, reason);
      assert.throws(() => encodeResult({ interfaces: [], dns: {}, ...result }, v), /cannot write the result as CNI 0\.[12]\.0/);
      assert.throws(() => checkResultExpressible(result, v, 'ipam'), (err: CniError) => err.cniCode === 7 && err.field === `ipam.${part}`);
    }
    for (const v of ['0.3.0', '0.4.0', '1.0.0', '1.1.0'] as const) assert.equal(inexpressible(result, v), undefined, `${v} holds it`);
  }
  assert.equal(inexpressible({ ips: [ip('10.0.0.2/24'), ip('fd00::2/64')], routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }] }, '0.2.0'), undefined, 'one of each family');
});

function config(overrides: object, args = ''): ReturnType<typeof parsePluginConfig> {
  const raw = { cniVersion: '0.2.0', name: 'n1', type: 'nsbox-cni', isGateway: true, ipam: { type: 'nsbox', subnet: '10.88.0.0/16' }, ...overrides };
  return parsePluginConfig(parseEnvelope(decodeConfig(JSON.stringify(raw))), parseCniArgs(args));
}

test('ADD refuses a 0.2.0 config whose result could not be written, before it does anything (checkAddExpressible)', () => {
  assert.doesNotThrow(() => checkAddExpressible(config({})));
  assert.doesNotThrow(() => checkAddExpressible(config({ ipam: { type: 'nsbox', ranges: [[{ subnet: '10.88.0.0/16' }], [{ subnet: 'fd00:88::/64' }]], routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }] } })));
  assert.throws(() => checkAddExpressible(config({ ipam: { type: 'nsbox', subnet: '10.88.0.0/16', routes: [{ dst: '::/0' }] } })),
    (err: CniError) => err.cniCode === 7 && err.field === 'ipam.routes' && /no IPv6 address/.test(err.message));
  assert.throws(() => checkAddExpressible(config({ cniVersion: '0.1.0', ipam: { type: 'nsbox', ranges: [[{ subnet: 'fd00:88::/64' }]], routes: [{ dst: '0.0.0.0/0' }] } })),
    (err: CniError) => err.field === 'ipam.routes');
  assert.doesNotThrow(() => checkAddExpressible(config({ cniVersion: '0.3.1', ipam: { type: 'nsbox', subnet: '10.88.0.0/16', routes: [{ dst: '::/0' }] } })), '0.3.0 and later hold anything');
  assert.doesNotThrow(() => checkAddExpressible(config({ ipam: { type: 'host-local', ranges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: '10.2.0.0/24' }]] } })),
    'a delegated plugin\'s addresses are unknown until it answers: the backend checks them (checkResultExpressible)');
});
