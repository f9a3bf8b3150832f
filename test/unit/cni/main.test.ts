/**
 * Unit: runCni, environment + stdin -> stdout + exit code (SPEC §2 "Execution Protocol"), on a
 * backend that records what reaches it (RecordingBackend, a test helper): VERSION answered for
 * real, every bad input refused with its spec code before the backend is called, each command
 * handing the backend its parsed request, results written in the config's version, and every
 * failure printed as the spec's error object on stdout with exit code 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCni, type CniOutcome } from '../../../src/cni/main.js';
import { NsboxError } from '../../../src/errors.js';
import { UNIMPLEMENTED_BACKEND } from '../../../src/cni/unimplemented-backend.js';
import { RecordingBackend } from './recording-backend.js';

const ATTACH = { CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '/run/netns/c1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };
const CONF = {
  cniVersion: '1.1.0', name: 'n1', type: 'nsbox-cni', bridge: 'nsbr0', isGateway: true, ipMasq: true,
  ipam: { type: 'nsbox', ranges: [[{ subnet: '10.88.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }] },
};
const RESULT = {
  interfaces: [{ name: 'nsbr0', mac: '02:00:00:00:00:01' }, { name: 'veth1', mac: '02:00:00:00:00:02' }, { name: 'eth0', mac: '02:42:0a:58:00:02', sandbox: '/run/netns/c1' }],
  ips: [{ address: '10.88.0.2/16', gateway: '10.88.0.1', interface: 2 }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: {},
};

async function call(command: string, conf: unknown, env: Record<string, string> = ATTACH, backend = new RecordingBackend()): Promise<CniOutcome & { backend: RecordingBackend; json: Record<string, unknown> | undefined }> {
  const stdin = typeof conf === 'string' ? conf : JSON.stringify(conf);
  const out = await runCni({ ...env, CNI_COMMAND: command }, stdin, backend);
  assert.ok(out.stdout === '' || (out.stdout.endsWith('\n') && !out.stdout.slice(0, -1).includes('\n')), 'one JSON document on one line, or nothing');
  return { ...out, backend, json: out.stdout === '' ? undefined : JSON.parse(out.stdout) as Record<string, unknown> };
}

/** The call failed with `code`, printed the error object, and the backend saw nothing. */
async function refusal(command: string, conf: unknown, env: Record<string, string>, code: number, msg: RegExp, why: string): Promise<Record<string, unknown>> {
  const out = await call(command, conf, env);
  assert.equal(out.exitCode, 1, why);
  assert.equal(out.json?.code, code, `${why}: ${out.stdout}`);
  assert.match(String(out.json?.msg), msg, why);
  assert.deepEqual(out.backend.calls, [], `${why}: nothing reached the backend`);
  return out.json!;
}

test('VERSION is answered for real, whatever else is in the environment (§2 VERSION, §5 "Version")', async () => {
  const out = await call('VERSION', { cniVersion: '0.4.0' }, { CNI_NETNS: 'dummy', CNI_IFNAME: 'dummy', CNI_PATH: 'dummy' }); // libcni GetVersionInfo
  assert.equal(out.exitCode, 0);
  assert.deepEqual(out.json, { cniVersion: '0.4.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  assert.equal((await call('VERSION', '')).json?.cniVersion, '0.1.0', 'no stdin');
  const bad = await refusal('VERSION', '{', {}, 6, /VERSION input/, 'VERSION with undecodable stdin');
  assert.equal(bad.cniVersion, '1.1.0', 'an unreadable input: the newest version');
});

test('each command refuses bad input with its spec code, before the backend is called', async () => {
  const cases: [string, unknown, Record<string, string>, number, RegExp, string][] = [
    ['ADD', CONF, {}, 4, /\[CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME\] missing/, '§2 ADD: required env'],
    ['ADD', CONF, { ...ATTACH, CNI_IFNAME: 'much-too-long-name' }, 4, /CNI_IFNAME/, '§2 CNI_IFNAME'],
    ['DEL', CONF, { CNI_NETNS: '/x' }, 4, /\[CNI_CONTAINERID,CNI_IFNAME\] missing/, '§2 DEL: required env'],
    ['CHECK', CONF, { ...ATTACH, CNI_NETNS: '' }, 4, /\[CNI_NETNS\] missing/, '§2 CHECK: required env'],
    ['GC', { ...CONF, 'cni.dev/valid-attachments': [] }, {}, 4, /\[CNI_PATH\] missing/, '§2 GC: CNI_PATH'],
    ['BOGUS', CONF, ATTACH, 4, /unknown CNI_COMMAND: BOGUS/, '§2 CNI_COMMAND'],
    ['ADD', '{"cniVersion":"1.1.0",', ATTACH, 6, /failed to decode the network config/, '§5 code 6'],
    ['DEL', '', ATTACH, 6, /failed to decode/, '§5 code 6: even DEL needs a config it can read'],
    ['ADD', { ...CONF, cniVersion: '1.2.0' }, ATTACH, 1, /incompatible CNI versions/, '§5 code 1'],
    ['CHECK', { ...CONF, cniVersion: '0.3.1' }, ATTACH, 1, /does not allow CHECK/, 'CHECK from 0.4.0'],
    ['STATUS', { ...CONF, cniVersion: '1.0.0' }, {}, 1, /does not allow STATUS/, 'STATUS from 1.1.0'],
    ['GC', { ...CONF, cniVersion: '1.0.0', 'cni.dev/valid-attachments': [] }, { CNI_PATH: '/x' }, 1, /does not allow GC/, 'GC from 1.1.0'],
    ['ADD', { ...CONF, name: 'bad name!' }, ATTACH, 7, /name/, '§1 name'],
    ['ADD', { ...CONF, mtu: 12 }, ATTACH, 7, /mtu/, 'a bridge field'],
    ['ADD', { ...CONF, vlan: 100 }, ATTACH, 2, /^unsupported field vlan=100$/, '§5 code 2'],
    ['STATUS', { ...CONF, promiscMode: true }, {}, 2, /promiscMode/, 'STATUS checks the whole config'],
    ['CHECK', CONF, ATTACH, 7, /prevResult: missing/, '§2 CHECK: "must consult the prevResult"'],
    ['GC', CONF, { CNI_PATH: '/x' }, 7, /cni\.dev\/valid-attachments: missing/, '§2 GC: the list is the input'],
    ['ADD', { ...CONF, ipam: { type: 'host-local', subnet: '10.1.0.0/16' } }, { ...ATTACH, CNI_PATH: '' }, 4, /\[CNI_PATH\] missing/, '§4: a delegated IPAM plugin is found through CNI_PATH'],
    ['DEL', { ...CONF, ipam: { type: 'dhcp' } }, { CNI_CONTAINERID: 'c', CNI_IFNAME: 'eth0' }, 4, /CNI_PATH/, '§4: DEL must reach the delegate too'],
    ['ADD', { ...CONF, cniVersion: '0.2.0', ipam: { type: 'nsbox', subnet: '10.88.0.0/16', routes: [{ dst: '::/0' }] } }, ATTACH, 7, /ipam\.routes: a CNI 0\.2\.0 result/, 'a 0.2.0 result that cannot be written: refused before ADD acts'],
  ];
  for (const [command, conf, env, code, msg, why] of cases) await refusal(command, conf, env, code, msg, why);
});

test('the error object carries the config\'s cniVersion when it can be read, else the newest (§5 "Error")', async () => {
  assert.equal((await refusal('ADD', { ...CONF, cniVersion: '0.4.0' }, {}, 4, /missing/, 'env error, readable config')).cniVersion, '0.4.0');
  assert.equal((await refusal('ADD', { ...CONF, cniVersion: '9.0.0' }, ATTACH, 1, /incompatible/, 'unknown version')).cniVersion, '1.1.0');
  assert.equal((await refusal('ADD', '{', ATTACH, 6, /decode/, 'no config')).cniVersion, '1.1.0');
});

test('ADD: the backend gets the parsed request; its result is written in the config\'s version (§5: "The same version supplied on input")', async () => {
  const backend = new RecordingBackend();
  backend.addResult = RESULT;
  const out = await call('ADD', { ...CONF, cniVersion: '0.4.0', runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] } }, { ...ATTACH, CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web' }, backend);
  assert.equal(out.exitCode, 0, out.stdout);
  assert.deepEqual(out.json, {
    cniVersion: '0.4.0', interfaces: RESULT.interfaces, ips: [{ version: '4', interface: 2, address: '10.88.0.2/16', gateway: '10.88.0.1' }], routes: RESULT.routes,
  });
  assert.equal(backend.calls.length, 1);
  const c = backend.calls[0]!;
  assert.ok(c.op === 'add');
  assert.deepEqual(c.request.attachment, { containerId: 'c0ffee', ifname: 'eth0' });
  assert.equal(c.request.netns, '/run/netns/c1');
  assert.deepEqual(c.request.cniPath, ['/opt/cni/bin']);
  assert.equal(c.request.cniArgs.pairs.get('K8S_POD_NAME'), 'web');
  assert.equal(c.request.config.cniVersion, '0.4.0');
  assert.deepEqual(c.request.config.bridge, { bridge: 'nsbr0', isDefaultGateway: false, ipMasq: true, mtu: undefined, hairpinMode: false });
  assert.deepEqual(c.request.config.requests.portMappings, [{ protocol: 'tcp', hostIp: undefined, hostPort: 8080, port: 80 }]);
  assert.equal(c.request.environment.CNI_ARGS, 'IgnoreUnknown=1;K8S_POD_NAME=web', 'the environment as received, for delegates (§4)');
  assert.equal(JSON.parse(c.request.stdin).cniVersion, '0.4.0', 'stdin as received, for delegates (§4)');
  const v020 = await call('ADD', { ...CONF, cniVersion: '0.2.0' }, ATTACH, Object.assign(new RecordingBackend(), { addResult: RESULT }));
  assert.deepEqual(v020.json, { cniVersion: '0.2.0', ip4: { ip: '10.88.0.2/16', gateway: '10.88.0.1', routes: [{ dst: '0.0.0.0/0' }] } });
});

test('CHECK, DEL, STATUS and GC print nothing on success (§2: "No output on success")', async () => {
  const prevResult = { cniVersion: '1.1.0', ...RESULT };
  const check = await call('CHECK', { ...CONF, prevResult }, ATTACH);
  assert.deepEqual([check.exitCode, check.stdout], [0, '']);
  const c = check.backend.calls[0]!;
  assert.ok(c.op === 'check');
  assert.deepEqual(c.request.prevResult, RESULT);

  // DEL reads the envelope only: a config ADD refused (or one changed since) still lets it clean up.
  const del = await call('DEL', { ...CONF, vlan: 100, isGateway: false, ipam: { type: 'nsbox', ranges: 'garbage' } }, { CNI_CONTAINERID: 'c0ffee', CNI_IFNAME: 'eth0' });
  assert.deepEqual([del.exitCode, del.stdout], [0, '']);
  const d = del.backend.calls[0]!;
  assert.ok(d.op === 'del');
  assert.equal(d.request.netns, undefined, '§2 DEL: CNI_NETNS optional');
  assert.deepEqual([d.request.config.name, d.request.config.ipamType], ['n1', 'nsbox']);

  const status = await call('STATUS', CONF, {});
  assert.deepEqual([status.exitCode, status.stdout, status.backend.calls[0]?.op], [0, '', 'status']);

  const gc = await call('GC', { ...CONF, vlan: 100, 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }], 'cni.dev/attachments': [{ containerID: 'a', ifname: 'eth0' }] }, { CNI_PATH: '/opt/cni/bin' });
  assert.deepEqual([gc.exitCode, gc.stdout], [0, '']);
  const g = gc.backend.calls[0]!;
  assert.ok(g.op === 'gc');
  assert.deepEqual(g.request.validAttachments, [{ containerId: 'a', ifname: 'eth0' }]);
});

test('backend failures become the spec\'s error object, by nsbox code or category; STATUS failures are 50', async () => {
  const cases: [string, unknown, Record<string, string>, 'add' | 'del' | 'status', unknown, number][] = [
    ['ADD', CONF, ATTACH, 'add', new NsboxError('namespace gone', 'NSBOX_ERR_NETNS_GONE'), 3],
    ['ADD', CONF, ATTACH, 'add', new NsboxError('eth0 exists', 'NSBOX_ERR_EXISTS'), 100],
    ['DEL', CONF, ATTACH, 'del', new NsboxError('timeout', 'NSBOX_ERR_TIMEOUT'), 11],
    ['STATUS', CONF, {}, 'status', new NsboxError('the state database is newer than this nsbox', 'NSBOX_ERR_STORE'), 50],
  ];
  for (const [command, conf, env, op, thrown, code] of cases) {
    const out = await call(command, conf, env, new RecordingBackend().fail(op, thrown));
    assert.equal(out.exitCode, 1);
    assert.equal(out.json?.code, code, `${command}: ${out.stdout}`);
    assert.match(String(out.json?.details), new RegExp(`^${(thrown as NsboxError).code}: `));
  }
  const bug = await call('ADD', { ...CONF, cniVersion: '0.2.0' }, ATTACH, Object.assign(new RecordingBackend(), { addResult: { ...RESULT, ips: [] } }));
  assert.equal(bug.json?.code, 102, 'a result the backend should not have made: nsbox\'s internal error, not 999');
});

test('stdin that cannot be read is code 5 (§5 code 5 "failed to read network config bytes from stdin")', async () => {
  const out = await runCni({ ...ATTACH, CNI_COMMAND: 'ADD' }, () => Promise.reject(new Error('EIO: i/o error, read')), new RecordingBackend());
  assert.equal(out.exitCode, 1);
  assert.deepEqual(JSON.parse(out.stdout), { cniVersion: '1.1.0', code: 5, msg: 'failed to read the network config from stdin', details: 'EIO: i/o error, read' });
  const read = await runCni({ CNI_COMMAND: 'VERSION' }, () => Promise.resolve('{"cniVersion":"1.0.0"}'), new RecordingBackend());
  assert.equal(JSON.parse(read.stdout).cniVersion, '1.0.0', 'stdin read through the function');
});

test('this build\'s backend refuses every command it cannot do yet: 4 naming CNI_COMMAND, STATUS 50 (unimplemented-backend.ts)', async () => {
  const cases: [string, unknown, Record<string, string>, number, RegExp][] = [
    ['ADD', CONF, ATTACH, 4, /^CNI_COMMAND=ADD is not implemented by this nsbox-cni yet$/],
    ['DEL', CONF, ATTACH, 4, /^CNI_COMMAND=DEL is not implemented/],
    ['CHECK', { ...CONF, prevResult: { cniVersion: '1.1.0', ...RESULT } }, ATTACH, 4, /^CNI_COMMAND=CHECK is not implemented/],
    ['GC', { ...CONF, 'cni.dev/valid-attachments': [] }, { CNI_PATH: '/x' }, 4, /^CNI_COMMAND=GC is not implemented/],
    ['STATUS', CONF, {}, 50, /^nsbox-cni cannot service ADD requests yet$/],
  ];
  for (const [command, conf, env, code, msg] of cases) {
    const out = await runCni({ ...env, CNI_COMMAND: command }, JSON.stringify(conf), UNIMPLEMENTED_BACKEND);
    const json = JSON.parse(out.stdout) as { code: number; msg: string; details: string };
    assert.equal(out.exitCode, 1);
    assert.equal(json.code, code, command);
    assert.match(json.msg, msg, command);
    assert.match(json.details, /does not act on the kernel yet/);
  }
  const bad = await runCni({ ...ATTACH, CNI_COMMAND: 'ADD' }, JSON.stringify({ ...CONF, vlan: 7 }), UNIMPLEMENTED_BACKEND);
  assert.equal(JSON.parse(bad.stdout).code, 2, 'bad input is still refused for what it is');
});
