/**
 * Unit: what the runtime asks of an attachment (CONVENTIONS.md "Well-known Capabilities",
 * "args in network config", "CNI_ARGS"): capabilities declared, their runtimeConfig values,
 * args.cni.ips/mac and CNI_ARGS IP/MAC, with the reference plugins' precedence; refusals for
 * capabilities nsbox cannot honour (code 2) and malformed values (code 7).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCniArgs } from '../../../src/cni/env.js';
import { CniError } from '../../../src/cni/errors.js';
import { parseIpamConfig } from '../../../src/cni/ipam-config.js';
import { parseAttachmentRequests, parseCapabilities } from '../../../src/cni/runtime-config.js';

const IPAM = parseIpamConfig({ ipam: { type: 'nsbox', ranges: [[{ subnet: '10.88.0.0/16' }], [{ subnet: 'fd00:88::/64' }]] } });
const DELEGATE = parseIpamConfig({ ipam: { type: 'host-local' } });
const requests = (raw: Record<string, unknown>, args = '', ipam = IPAM): ReturnType<typeof parseAttachmentRequests> => parseAttachmentRequests(raw, parseCniArgs(args), ipam);

function refused(fn: () => unknown, code: number, field: string, why: string): void {
  assert.throws(fn, (err: unknown) => err instanceof CniError && err.cniCode === code && err.field === field, why);
}

test('capabilities: the declared ones; aliases, infinibandGUID, deviceID refused (code 2); others ignored', () => {
  assert.deepEqual([...parseCapabilities({ capabilities: { portMappings: true, ips: true, mac: true, dns: true, ipRanges: true, cgroupPath: true, someoneElses: true, bandwidth: true, aliases: false } })].sort(),
    ['bandwidth', 'cgroupPath', 'dns', 'ipRanges', 'ips', 'mac', 'portMappings', 'someoneElses']);
  assert.deepEqual([...parseCapabilities({})], []);
  for (const name of ['aliases', 'infinibandGUID', 'deviceID']) refused(() => parseCapabilities({ capabilities: { [name]: true } }), 2, `capabilities.${name}`, name);
  refused(() => parseCapabilities({ capabilities: { portMappings: 'yes' } }), 7, 'capabilities.portMappings', 'not a boolean');
  refused(() => parseCapabilities({ capabilities: [] }), 7, 'capabilities', 'not an object');
});

test('portMappings (CONVENTIONS.md; portmap PortMapEntry): hostPort, containerPort, protocol, hostIP', () => {
  const r = requests({ runtimeConfig: { portMappings: [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostPort: 8000, containerPort: 8001, protocol: 'UDP' },
    { hostPort: 8443, containerPort: 443 },
    { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
    { hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '2001:DB8::1' },
    { hostPort: 9090, containerPort: 90, hostIP: '' },
  ] } });
  assert.deepEqual(r.portMappings, [
    { protocol: 'tcp', hostIp: undefined, hostPort: 8080, port: 80 },
    { protocol: 'udp', hostIp: undefined, hostPort: 8000, port: 8001 },
    { protocol: 'tcp', hostIp: undefined, hostPort: 8443, port: 443 },
    { protocol: 'udp', hostIp: '127.0.0.1', hostPort: 5353, port: 53 },
    { protocol: 'tcp', hostIp: '2001:db8::1', hostPort: 8080, port: 80 },
    { protocol: 'tcp', hostIp: undefined, hostPort: 9090, port: 90 },
  ]);
  const bad: [object, number, string][] = [
    [{ hostPort: 8080, containerPort: 80, protocol: 'sctp' }, 2, 'runtimeConfig.portMappings[0].protocol'],
    [{ hostPort: 8080, containerPort: 80, protocol: 'icmp' }, 7, 'runtimeConfig.portMappings[0].protocol'],
    [{ containerPort: 80 }, 7, 'runtimeConfig.portMappings[0].hostPort'],
    [{ hostPort: 0, containerPort: 80 }, 7, 'runtimeConfig.portMappings[0].hostPort'],
    [{ hostPort: 8080, containerPort: 70000 }, 7, 'runtimeConfig.portMappings[0].containerPort'],
    [{ hostPort: 8080, containerPort: 80, hostIP: 'localhost' }, 7, 'runtimeConfig.portMappings[0].hostIP'],
  ];
  for (const [entry, code, field] of bad) refused(() => requests({ runtimeConfig: { portMappings: [entry] } }), code, field, JSON.stringify(entry));
  refused(() => requests({ runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80 }, { hostPort: 8080, containerPort: 81, protocol: 'TCP' }] } }), 7, 'runtimeConfig.portMappings[1]', 'a host port twice');
});

test('addresses: args.cni.ips, else CNI_ARGS IP (CONVENTIONS.md: ignore the CNI_ARGS field then), then runtimeConfig.ips (host-local order)', () => {
  assert.deepEqual(requests({}, 'IP=10.88.0.7').ips, ['10.88.0.7']);
  assert.deepEqual(requests({ args: { cni: { ips: ['10.88.0.8/16'] } } }, 'IP=10.88.0.7').ips, ['10.88.0.8'], 'args.cni.ips wins over CNI_ARGS IP; the prefix is dropped');
  assert.deepEqual(requests({ args: { cni: { ips: ['fd00:88::8'] } }, runtimeConfig: { ips: ['10.88.0.9'] } }).ips, ['fd00:88::8', '10.88.0.9']);
  assert.deepEqual(requests({ runtimeConfig: { ips: ['FD00:88::0:9'] } }).ips, ['fd00:88::9'], 'canonical text');
  assert.deepEqual(requests({ args: { cni: { ips: ['10.88.0.9/16'] } }, runtimeConfig: { ips: ['10.88.0.9'] } }).ips, ['10.88.0.9'], 'the same address twice is one request');
  // With nsbox's IPAM, checked against its ranges before anything is done.
  const bad: [Record<string, unknown>, string, string, RegExp][] = [
    [{ runtimeConfig: { ips: ['10.99.0.7'] } }, '', 'runtimeConfig.ips[0]', /outside the network's IPv4 subnet 10\.88\.0\.0\/16/],
    [{ runtimeConfig: { ips: ['10.88.0.1'] } }, '', 'runtimeConfig.ips[0]', /is the gateway/],
    [{ runtimeConfig: { ips: ['10.88.0.7', '10.88.0.8'] } }, '', 'runtimeConfig.ips[1]', /a second IPv4 address/],
    [{}, 'IP=10.99.0.7', 'CNI_ARGS IP', /outside/],
    [{ args: { cni: { ips: ['not-an-ip'] } } }, '', 'args.cni.ips[0]', /not an IPv4 or IPv6 address/],
    [{ runtimeConfig: { ips: '10.88.0.7' } }, '', 'runtimeConfig.ips', /expected an array/],
  ];
  for (const [raw, args, field, msg] of bad) {
    assert.throws(() => requests(raw, args), (err: unknown) => err instanceof CniError && err.cniCode === 7 && err.field === field && msg.test(err.message), field);
  }
  const v4only = parseIpamConfig({ ipam: { type: 'nsbox', subnet: '10.88.0.0/16' } });
  assert.throws(() => requests({ runtimeConfig: { ips: ['fd00:88::7'] } }, '', v4only), /it has no IPv6 subnet/);
  assert.deepEqual(requests({ runtimeConfig: { ips: ['10.99.0.7', '10.99.0.8'] } }, '', DELEGATE).ips, ['10.99.0.7', '10.99.0.8'], 'a delegated plugin checks its own');
});

test('MAC: CNI_ARGS MAC, then args.cni.mac, then runtimeConfig.mac; the last given wins (bridge loadNetConf)', () => {
  const m1 = '0a:00:00:00:00:01';
  const m2 = '0a:00:00:00:00:02';
  const m3 = '0a:00:00:00:00:03';
  assert.equal(requests({}, `MAC=${m1}`).mac, m1);
  assert.equal(requests({ args: { cni: { mac: m2 } } }, `MAC=${m1}`).mac, m2);
  assert.equal(requests({ args: { cni: { mac: m2 } }, runtimeConfig: { mac: m3.toUpperCase() } }, `MAC=${m1}`).mac, m3, 'lowercase');
  assert.equal(requests({}).mac, undefined);
  refused(() => requests({ runtimeConfig: { mac: 'c2:11:22:33:44' } }), 7, 'runtimeConfig.mac', 'five octets');
  refused(() => requests({ args: { cni: { mac: 5 } }, runtimeConfig: { mac: m3 } }), 7, 'args.cni.mac', 'every source is checked, not only the winner');
});

test('dns (CONVENTIONS.md capability dns: servers, searches, options) in the result\'s terms', () => {
  assert.deepEqual(requests({ runtimeConfig: { dns: { servers: ['8.8.8.8', 'fd00::53'], searches: ['corp.example'], options: ['ndots:2'] } } }).dns,
    { nameservers: ['8.8.8.8', 'fd00::53'], search: ['corp.example'], options: ['ndots:2'] });
  refused(() => requests({ runtimeConfig: { dns: { servers: ['dns.example'] } } }), 7, 'runtimeConfig.dns.servers[0]', 'a name');
});

test('bandwidth (the bandwidth plugin\'s BandwidthEntry): rates in bits/s, bursts in bits (kept in bytes); a rate needs its burst and a burst its rate (7)', () => {
  assert.deepEqual(requests({ runtimeConfig: { bandwidth: { ingressRate: 1_000_000, ingressBurst: 80_000, egressRate: 2_000_000, egressBurst: 160_000 } } }).bandwidth,
    { ingress: { rate: 1_000_000, burst: 10_000 }, egress: { rate: 2_000_000, burst: 20_000 } });
  assert.deepEqual(requests({ runtimeConfig: { bandwidth: { egressRate: 0, egressBurst: 0 } } }).bandwidth, {}, 'zero is no limit');
  assert.deepEqual(requests({}).bandwidth, {});
  refused(() => requests({ runtimeConfig: { bandwidth: { ingressRate: 2048 } } }), 7, 'runtimeConfig.bandwidth.ingressBurst', 'a rate without a burst');
  refused(() => requests({ runtimeConfig: { bandwidth: { egressBurst: 1600 } } }), 7, 'runtimeConfig.bandwidth.egressRate', 'a burst without a rate');
  refused(() => requests({ runtimeConfig: { bandwidth: { egressRate: -1, egressBurst: 1600 } } }), 7, 'runtimeConfig.bandwidth.egressRate', 'negative');
  refused(() => requests({ runtimeConfig: { bandwidth: [] } }), 7, 'runtimeConfig.bandwidth', 'not an object');
});

test('runtimeConfig values of capabilities nsbox cannot honour are code 2; unknown keys of runtimeConfig and args are ignored', () => {
  refused(() => requests({ runtimeConfig: { aliases: ['db'] } }), 2, 'runtimeConfig.aliases', 'names');
  assert.doesNotThrow(() => requests({ runtimeConfig: { aliases: [], bandwidth: {}, deviceID: '', cgroupPath: '/kubepods', somethingNew: 1 }, args: { cni: { labels: [{ key: 'app', value: 'web' }] }, k8s: {} } }), 'empty values ask nothing');
  refused(() => requests({ runtimeConfig: [] }), 7, 'runtimeConfig', 'not an object');
  refused(() => requests({ args: { cni: 'x' } }), 7, 'args.cni', 'not an object');
});
