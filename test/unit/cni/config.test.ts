/**
 * Unit: the plugin config's envelope, which every command reads (SPEC §1 "Configuration
 * format" and "Plugin configuration objects", §3 "Deriving request configuration", §2 GC's
 * `cni.dev/valid-attachments`): bad JSON is code 6, a version nsbox does not speak 1, bad
 * values 7 naming the field; unknown keys are ignored. The whole config (bridge, IPAM and
 * runtime fields) has its own test files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeConfig, parseEnvelope, parsePluginConfig } from '../../../src/cni/config.js';
import { parseCniArgs } from '../../../src/cni/env.js';
import { CniError } from '../../../src/cni/errors.js';

const BASE = { cniVersion: '1.1.0', name: 'dbnet', type: 'nsbox-cni', isGateway: true, ipam: { type: 'nsbox', subnet: '10.1.0.0/16' } };

const envelope = (raw: object): ReturnType<typeof parseEnvelope> => parseEnvelope(decodeConfig(JSON.stringify(raw)));

function refused(fn: () => unknown, code: number, field: string | undefined, why: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CniError, `${why}: ${String(err)}`);
    assert.equal(err.cniCode, code, `${why}: ${err.message}`);
    assert.equal(err.field, field, why);
    return true;
  });
}

test('stdin that is not a JSON object is code 6 (§5 code 6 "failed to unmarshal network config")', () => {
  for (const text of ['', '{', '{"name": "x",}', 'null', '[]', '"x"', '1']) refused(() => decodeConfig(text), 6, undefined, JSON.stringify(text));
});

test('the envelope of the spec\'s own example (SPEC Appendix "Add example", step 1)', () => {
  const example = {
    cniVersion: '1.1.0', name: 'dbnet', type: 'bridge', bridge: 'cni0', keyA: ['some more', 'plugin specific', 'configuration'],
    ipam: { type: 'host-local', subnet: '10.1.0.0/16', gateway: '10.1.0.1' }, dns: { nameservers: ['10.1.0.1'] },
  };
  const e = envelope(example);
  assert.deepEqual({ ...e, raw: undefined }, { cniVersion: '1.1.0', name: 'dbnet', type: 'bridge', ipamType: 'host-local', prevResult: undefined, validAttachments: undefined, raw: undefined });
  assert.deepEqual(e.raw, example, 'the config as sent (unknown keys such as keyA kept for delegates)');
});

test('cniVersion: missing means 0.1.0; unreadable is 6; one nsbox does not speak is 1 (§1 cniVersion; Go skel)', () => {
  assert.equal(envelope({ ...BASE, cniVersion: undefined }).cniVersion, '0.1.0');
  refused(() => envelope({ ...BASE, cniVersion: '2.0.0' }), 1, 'cniVersion', 'unknown version');
  refused(() => envelope({ ...BASE, cniVersion: 1.1 }), 6, 'cniVersion', 'a number');
  refused(() => envelope({ ...BASE, cniVersion: 'latest' }), 6, 'cniVersion', 'not a version');
});

test('name and type (§1: name "must start with an alphanumeric character…", type "Must not contain characters disallowed in file paths")', () => {
  const cases: [object, string, string][] = [
    [{ ...BASE, name: undefined }, 'name', 'missing'],
    [{ ...BASE, name: '' }, 'name', 'empty'],
    [{ ...BASE, name: 'bad name!' }, 'name', 'a space and !'],
    [{ ...BASE, name: '-net' }, 'name', 'starts with -'],
    [{ ...BASE, name: 'a/b' }, 'name', 'a path'],
    [{ ...BASE, name: 7 }, 'name', 'not a string'],
    [{ ...BASE, type: undefined }, 'type', 'missing: §1 "Required keys: type"'],
    [{ ...BASE, type: '../bin/x' }, 'type', 'a path'],
    [{ ...BASE, type: '..' }, 'type', '..'],
    [{ ...BASE, ipam: { type: 'a\\b' } }, 'ipam.type', '§1 ipam.type: a file name'],
    [{ ...BASE, ipam: { type: 3 } }, 'ipam.type', 'not a string'],
    [{ ...BASE, ipam: 'host-local' }, 'ipam', 'not an object'],
  ];
  for (const [raw, field, why] of cases) refused(() => envelope(raw), 7, field, why);
  for (const name of ['a', 'net_1.2-x', '0net']) assert.equal(envelope({ ...BASE, name }).name, name);
  assert.equal(envelope({ ...BASE, ipam: {} }).ipamType, undefined, 'no ipam type');
  assert.equal(envelope({ ...BASE, ipam: null }).ipamType, undefined, 'null reads as absent');
});

test('prevResult (§3: "the result type returned by the previous plugin"; chaining from 0.3.0), read into the one result form', () => {
  const prev = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/run/netns/c1' }], ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1', interface: 0 }] };
  assert.deepEqual(envelope({ ...BASE, cniVersion: '1.0.0', prevResult: prev }).prevResult, { interfaces: prev.interfaces, ips: prev.ips, routes: [], dns: {} });
  assert.equal(envelope({ ...BASE, cniVersion: '0.2.0', prevResult: { bogus: true } }).prevResult, undefined, 'before 0.3.0 the key does not exist: ignored like any unknown key');
  refused(() => envelope({ ...BASE, prevResult: { ips: [{ address: 'nope' }] } }), 7, 'prevResult.ips[0].address', 'malformed');
  refused(() => envelope({ ...BASE, prevResult: [] }), 7, 'prevResult', 'not an object');
});

test('GC\'s valid attachments: both keys libcni sends, united (§2 GC; cni#1101/#1103)', () => {
  const a = { containerID: 'abc', ifname: 'eth0' };
  const b = { containerID: 'def', ifname: 'eth1' };
  assert.deepEqual(envelope({ ...BASE, 'cni.dev/valid-attachments': [a] }).validAttachments, [{ containerId: 'abc', ifname: 'eth0' }]);
  assert.deepEqual(envelope({ ...BASE, 'cni.dev/attachments': [a] }).validAttachments, [{ containerId: 'abc', ifname: 'eth0' }], 'the pre-rename key alone');
  assert.deepEqual(envelope({ ...BASE, 'cni.dev/valid-attachments': [a], 'cni.dev/attachments': [a, b] }).validAttachments, [{ containerId: 'abc', ifname: 'eth0' }, { containerId: 'def', ifname: 'eth1' }]);
  assert.deepEqual(envelope({ ...BASE, 'cni.dev/valid-attachments': [] }).validAttachments, [], 'an empty list is a list');
  refused(() => envelope({ ...BASE, 'cni.dev/valid-attachments': [{ containerID: 'abc' }] }), 7, 'cni.dev/valid-attachments[0].ifname', 'no ifname');
  refused(() => envelope({ ...BASE, 'cni.dev/attachments': {} }), 7, 'cni.dev/attachments', 'not an array');
});

test('the whole config: the envelope plus bridge, IPAM, dns, capabilities and requests (unknown keys ignored: §1 "Other keys")', () => {
  const c = parsePluginConfig(envelope({
    ...BASE, ipMasq: true, mtu: 1400, someOtherPluginsKey: { x: 1 }, 'cni.dev/future': 1,
    dns: { nameservers: ['10.1.0.1'], search: ['svc.local'] },
    capabilities: { portMappings: true, mac: true, cgroupPath: true, ips: false },
    runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], mac: 'c2:11:22:33:44:55', cgroupPath: '/kubepods' },
  }), parseCniArgs('K8S_POD_NAME=web'));
  assert.deepEqual(c.bridge, { bridge: 'cni0', isDefaultGateway: false, ipMasq: true, mtu: 1400, hairpinMode: false });
  assert.deepEqual(c.ipam.kind, 'nsbox');
  assert.deepEqual(c.dns, { nameservers: ['10.1.0.1'], search: ['svc.local'] });
  assert.deepEqual([...c.capabilities].sort(), ['cgroupPath', 'mac', 'portMappings']);
  assert.deepEqual(c.requests, { portMappings: [{ protocol: 'tcp', hostIp: undefined, hostPort: 8080, port: 80 }], ips: [], mac: 'c2:11:22:33:44:55', dns: undefined, bandwidth: {} });
  refused(() => parsePluginConfig(envelope({ ...BASE, dns: { domain: 5 } }), parseCniArgs('')), 7, 'dns.domain', 'dns field types');
});
