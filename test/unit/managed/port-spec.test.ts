/**
 * Unit: Docker's `-p` syntax, parsed into one mapping per port; every malformed form refused
 * with a message that quotes the value and shows the syntax.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsePortSpec, parsePortSpecs, portMappingText } from '../../../src/managed/port-spec.js';

test('the forms Docker accepts', () => {
  assert.deepEqual(parsePortSpec('8080:80'), [{ protocol: 'tcp', hostIp: undefined, hostPort: 8080, port: 80 }]);
  assert.deepEqual(parsePortSpec('8053:53/udp'), [{ protocol: 'udp', hostIp: undefined, hostPort: 8053, port: 53 }]);
  assert.deepEqual(parsePortSpec('8053:53/UDP'), [{ protocol: 'udp', hostIp: undefined, hostPort: 8053, port: 53 }]);
  assert.deepEqual(parsePortSpec('127.0.0.1:8080:80'), [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, port: 80 }]);
  assert.deepEqual(parsePortSpec('[::]:8080:80'), [{ protocol: 'tcp', hostIp: '::', hostPort: 8080, port: 80 }]);
  assert.deepEqual(parsePortSpec('[2001:DB8:0::1]:80:80')[0]?.hostIp, '2001:db8::1', 'canonical text');
  assert.deepEqual(parsePortSpec('[2001:db8::1]:443:8443/tcp'), [{ protocol: 'tcp', hostIp: '2001:db8::1', hostPort: 443, port: 8443 }]);
  assert.deepEqual(parsePortSpec('80'), [{ protocol: 'tcp', hostIp: undefined, hostPort: 0, port: 80 }], 'a free host port');
  assert.deepEqual(parsePortSpec('127.0.0.1::80'), [{ protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 0, port: 80 }]);
  assert.deepEqual(parsePortSpec('8000-8002:9000-9002').map((m) => [m.hostPort, m.port]), [[8000, 9000], [8001, 9001], [8002, 9002]]);
  assert.deepEqual(parsePortSpec('5000-5001/udp').map((m) => [m.hostPort, m.port, m.protocol]), [[0, 5000, 'udp'], [0, 5001, 'udp']]);
});

test('malformed values are refused, quoting the value and the syntax', () => {
  const cases: [string, RegExp][] = [
    ['', /it is empty/],
    ['8080:80/sctp', /protocol "sctp" is not tcp or udp/],
    ['8080:0', /sandbox port 0 is not between 1 and 65535/],
    ['70000:80', /host port 70000 is not between 1 and 65535/],
    ['8080:80-79', /sandbox port range 80-79 runs backwards/],
    ['8000-8002:80-81', /not the same length/],
    ['abc:80', /host port "abc" is not a port or a range of ports/],
    ['1.2.3:8080:80', /host address "1\.2\.3" is not an IPv4 or IPv6 address/],
    ['::1:8080:80', /must be written in brackets/],
    ['[::1]8080:80', /must be followed by ":"/],
  ];
  for (const [spec, why] of cases) {
    assert.throws(() => parsePortSpec(spec), (err: unknown) => err instanceof TypeError && why.test(err.message) && err.message.includes(JSON.stringify(spec)) && /\[HOSTIP:\]HOSTPORT/.test(err.message), spec);
  }
});

test('a host port given twice in one command is refused; free ports may repeat', () => {
  assert.throws(() => parsePortSpecs(['8080:80', '8080:81']), /host port 8080\/tcp is published twice/);
  assert.throws(() => parsePortSpecs(['8000-8005:80-85', '8003:90']), /8003\/tcp is published twice/);
  assert.equal(parsePortSpecs(['8080:80', '8080:80/udp', '127.0.0.1:8080:80', '80', '80']).length, 5, 'other protocol, other address, free ports');
});

test('text form round-trips through the parser', () => {
  fc.assert(fc.property(
    fc.record({ protocol: fc.constantFrom('tcp' as const, 'udp' as const), hostIp: fc.option(fc.oneof(fc.ipV4(), fc.constantFrom('::', '::1', '2001:db8::7')), { nil: undefined }), hostPort: fc.integer({ min: 1, max: 65535 }), port: fc.integer({ min: 1, max: 65535 }) }),
    (m) => {
      const text = portMappingText(m).replace('->', ':');
      const spec = text.startsWith('0.0.0.0:') && m.hostIp === undefined ? text.slice('0.0.0.0:'.length) : text;
      assert.deepEqual(parsePortSpec(spec), [{ ...m }]);
    },
  ));
  assert.equal(portMappingText({ protocol: 'udp', hostIp: '::1', hostPort: 5353, port: 53 }), '[::1]:5353->53/udp');
});
