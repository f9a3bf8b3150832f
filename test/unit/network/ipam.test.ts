/** network/ipam: the subnet policy, sequential allocation, assignability, gateways, MACs. Prefix arithmetic itself: test/unit/net/cidr.test.ts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkAssignable, checkGateway, defaultGateway, macFromIPv4, nextFree, parseSubnet, randomMac } from '../../../src/network/ipam.js';
import { bigIntToIp, ipToBigInt } from '../../../src/net/cidr.js';
import { ConfigError } from '../../../src/errors.js';

/** A ConfigError about `field` whose message matches `message`. */
const configError = (field: string, message: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
  assert.equal(err.code, 'NSBOX_ERR_CONFIG');
  assert.equal(err.field, field);
  assert.match(err.message, message);
  return true;
};

void test('parseSubnet: the network address and prefix, in canonical text', () => {
  assert.deepEqual(parseSubnet('10.88.0.0/16'), { family: 4, address: '10.88.0.0', prefixLen: 16, cidr: '10.88.0.0/16' });
  assert.deepEqual(parseSubnet('fd00:89:0::/64'), { family: 6, address: 'fd00:89::', prefixLen: 64, cidr: 'fd00:89::/64' });
  assert.equal(parseSubnet('0.0.0.0/0').cidr, '0.0.0.0/0');
  assert.equal(parseSubnet('192.168.7.4/30').cidr, '192.168.7.4/30', 'the smallest IPv4 subnet');
  assert.equal(parseSubnet('fd00::4/126').cidr, 'fd00::4/126', 'the smallest IPv6 subnet');
});

void test('parseSubnet: host bits set is an error that names the network meant', () => {
  assert.throws(() => parseSubnet('10.88.0.1/16'), configError('subnet', /^invalid subnet "10\.88\.0\.1\/16": host bits are set \(the network is 10\.88\.0\.0\/16\)$/));
  assert.throws(() => parseSubnet('192.168.1.130/25'), configError('subnet', /\(the network is 192\.168\.1\.128\/25\)/));
  assert.throws(() => parseSubnet('fd00::1/64'), configError('subnet', /\(the network is fd00::\/64\)/));
});

void test('parseSubnet: too small for a gateway and a host', () => {
  assert.throws(() => parseSubnet('10.0.0.0/31'), configError('subnet', /^invalid subnet "10\.0\.0\.0\/31": too small, at most \/30 for IPv4$/));
  assert.throws(() => parseSubnet('10.0.0.1/32'), configError('subnet', /too small, at most \/30/));
  assert.throws(() => parseSubnet('fd00::/127'), configError('subnet', /too small, at most \/126 for IPv6/));
  assert.throws(() => parseSubnet('fd00::1/128'), configError('subnet', /too small/));
});

void test('parseSubnet: text that is not network/prefix, with the reason (net/cidr texts) as a ConfigError', () => {
  const cases: [RegExp, string[]][] = [
    [/: not an IPv4 or IPv6 address$/, ['', 'nonsense', '/24', '10.0.0/24', '10.0.0.256/24', 'fd00:::/64', ' 10.0.0.0/24']],
    [/: prefix length must be 0 to 32$/, ['10.0.0.0/', '10.0.0.0/33', '10.0.0.0/abc', '10.0.0.0/-1', '10.0.0.0/ 24', '10.0.0.0/24/1', '10.0.0.0/0024']],
    [/: prefix length must be 0 to 128$/, ['fd00::/129']],
    [/: expected network\/prefix, e\.g\. 10\.89\.0\.0\/24 or fd00:89::\/64$/, ['10.0.0.0', 'fd00::']],
  ];
  for (const [reason, texts] of cases) {
    for (const bad of texts) assert.throws(() => parseSubnet(bad), configError('subnet', new RegExp(`^invalid subnet ".*"${reason.source}`)), JSON.stringify(bad));
  }
  assert.throws(() => parseSubnet(undefined as unknown as string), configError('subnet', /^invalid subnet undefined: expected a string$/));
});

void test('nextFree skips the network address, the gateway and the broadcast address', () => {
  const s = parseSubnet('10.1.2.0/24');
  assert.equal(nextFree(s, '10.1.2.1', new Set()), '10.1.2.2');
  assert.equal(nextFree(s, '10.1.2.254', new Set()), '10.1.2.1', 'a gateway elsewhere leaves .1 free');
  const all = new Set(Array.from({ length: 252 }, (_, i) => `10.1.2.${i + 2}`).filter((a) => a !== '10.1.2.254'));
  assert.equal(nextFree(s, '10.1.2.1', all), '10.1.2.254', 'the last host address');
  all.add('10.1.2.254');
  assert.equal(nextFree(s, '10.1.2.1', all), undefined, '.255 is the broadcast, never handed out');
});

void test('nextFree skips taken addresses and fills holes first', () => {
  const s = parseSubnet('172.16.0.0/16');
  assert.equal(nextFree(s, '172.16.0.1', new Set(['172.16.0.2', '172.16.0.3'])), '172.16.0.4');
  assert.equal(nextFree(s, '172.16.0.1', new Set(['172.16.0.2', '172.16.0.4'])), '172.16.0.3');
  const full = new Set(Array.from({ length: 254 }, (_, i) => `172.16.0.${i + 2}`));
  assert.equal(nextFree(s, '172.16.0.1', full), '172.16.1.0', 'crosses the octet boundary: .1.0 is a host address in a /16');
});

void test('nextFree: an exhausted subnet gives undefined', () => {
  const s = parseSubnet('192.168.9.4/30');
  assert.equal(nextFree(s, '192.168.9.5', new Set()), '192.168.9.6', 'a /30 has one address after the gateway');
  assert.equal(nextFree(s, '192.168.9.5', new Set(['192.168.9.6'])), undefined);
  assert.equal(nextFree(s, '192.168.9.6', new Set()), '192.168.9.5', 'with the gateway last, the first is free');
});

void test('nextFree in IPv6: no broadcast, the network address (subnet-router anycast) and the gateway are skipped', () => {
  const s = parseSubnet('fd00:89::/64');
  assert.equal(nextFree(s, 'fd00:89::1', new Set()), 'fd00:89::2');
  assert.equal(nextFree(s, 'fd00:89::1', new Set(['fd00:89::2', 'fd00:89::3'])), 'fd00:89::4');
  assert.equal(nextFree(s, 'fd00:89::1', new Set(['fd00:89:0:0::2'])), 'fd00:89::3', 'taken addresses compare by value, not text');
  const small = parseSubnet('fd00::4/126');
  assert.equal(nextFree(small, 'fd00::5', new Set(['fd00::6'])), 'fd00::7', 'the last address is a host address in IPv6');
  assert.equal(nextFree(small, 'fd00::5', new Set(['fd00::6', 'fd00::7'])), undefined);
  const wide = parseSubnet('fd00:1::/48');
  assert.equal(nextFree(wide, 'fd00:1::1', new Set(['fd00:1::2'])), 'fd00:1::3');
});

void test('nextFree never hands out the network, gateway, broadcast or a taken address (property)', () => {
  fc.assert(fc.property(
    fc.integer({ min: 24, max: 30 }),
    fc.integer({ min: 0, max: 255 }),
    fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 80 }),
    (prefix, gwPick, takenPicks) => {
      const s = parseSubnet(`10.9.8.0/${prefix}`);
      const size = 2 ** (32 - prefix);
      const hostOf = (i: number): string => bigIntToIp(ipToBigInt(s.address) + BigInt(1 + (i % (size - 2))), 4);
      const gw = hostOf(gwPick);
      const taken = new Set(takenPicks.map(hostOf));
      const got = nextFree(s, gw, taken);
      const free = Array.from({ length: size - 2 }, (_, i) => hostOf(i)).filter((a) => a !== gw && !taken.has(a));
      assert.equal(got, free[0], 'the lowest free host address, or undefined when none');
    },
  ));
});

void test('checkAssignable: outside, network, broadcast and gateway addresses are refused with the reason', () => {
  const s = parseSubnet('10.1.2.0/24');
  assert.doesNotThrow(() => checkAssignable(s, '10.1.2.1', '10.1.2.2'));
  assert.doesNotThrow(() => checkAssignable(s, '10.1.2.1', '10.1.2.254'));
  assert.throws(() => checkAssignable(s, '10.1.2.1', '10.1.3.2'), configError('ip', /^address 10\.1\.3\.2 is outside the subnet 10\.1\.2\.0\/24$/));
  assert.throws(() => checkAssignable(s, '10.1.2.1', 'fd00::2'), configError('ip', /outside the subnet/));
  assert.throws(() => checkAssignable(s, '10.1.2.1', '10.1.2.0'), configError('ip', /^address 10\.1\.2\.0 is the network address of 10\.1\.2\.0\/24$/));
  assert.throws(() => checkAssignable(s, '10.1.2.1', '10.1.2.255'), configError('ip', /^address 10\.1\.2\.255 is the broadcast address of 10\.1\.2\.0\/24$/));
  assert.throws(() => checkAssignable(s, '10.1.2.1', '10.1.2.1'), configError('ip', /^address 10\.1\.2\.1 is the gateway of 10\.1\.2\.0\/24$/));
  const v6 = parseSubnet('fd00:89::/64');
  assert.doesNotThrow(() => checkAssignable(v6, 'fd00:89::1', 'fd00:89::ffff:ffff:ffff:ffff'), 'no broadcast in IPv6');
  assert.throws(() => checkAssignable(v6, 'fd00:89::1', 'fd00:89:0::1'), configError('ip', /is the gateway of fd00:89::\/64/), 'by value, not text');
  assert.throws(() => checkAssignable(v6, 'fd00:89::1', 'fd00:89::'), configError('ip', /network address/));
  assert.throws(() => checkAssignable(v6, 'fd00:89::1', 'fd00:8a::2'), configError('ip', /outside/));
});

void test('checkGateway and defaultGateway', () => {
  const s = parseSubnet('10.1.2.0/24');
  assert.equal(defaultGateway(s), '10.1.2.1');
  assert.equal(defaultGateway(parseSubnet('fd00:89::/64')), 'fd00:89::1');
  assert.doesNotThrow(() => checkGateway(s, '10.1.2.254'));
  assert.throws(() => checkGateway(s, '10.1.3.1'), configError('gateway', /^gateway 10\.1\.3\.1 is outside the subnet 10\.1\.2\.0\/24$/));
  assert.throws(() => checkGateway(s, '10.1.2.0'), configError('gateway', /is not a host address/));
  assert.throws(() => checkGateway(s, '10.1.2.255'), configError('gateway', /is not a host address/));
});

void test('macFromIPv4: 02:42 and the four octets in hex, as Docker', () => {
  assert.equal(macFromIPv4('10.88.0.2'), '02:42:0a:58:00:02');
  assert.equal(macFromIPv4('172.17.0.2'), '02:42:ac:11:00:02');
  assert.equal(macFromIPv4('255.255.255.255'), '02:42:ff:ff:ff:ff');
  assert.equal(macFromIPv4('0.0.0.0'), '02:42:00:00:00:00');
  const first = Number.parseInt(macFromIPv4('1.2.3.4').slice(0, 2), 16);
  assert.equal(first & 1, 0, 'unicast');
  assert.equal(first & 2, 2, 'locally administered');
});

void test('randomMac: unicast, locally administered, six octets', () => {
  for (let i = 0; i < 50; i++) {
    const mac = randomMac();
    assert.match(mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const first = Number.parseInt(mac.slice(0, 2), 16);
    assert.equal(first & 3, 2, mac);
  }
});
