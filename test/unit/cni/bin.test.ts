/**
 * Unit: the nsbox-cni process (package.json "bin", bin/nsbox-cni.js over the bundled
 * dist/cni.mjs), run as a runtime runs it: environment and stdin in, one JSON document on
 * stdout, exit 0 or 1. VERSION works; bad input gets its spec code (GC without its list, or
 * below 1.1.0, refused before anything is done). VERSION and refused input load neither the addon nor SQLite (runtimes call VERSION
 * before every command); ADD, DEL, CHECK, GC and STATUS are the integration tests' (test/integration/cni).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../src/package-root.js';

const root = packageRoot();
const bin = join(root, 'bin/nsbox-cni.js');

function run(env: Record<string, string>, stdin: string, nodeArgs: string[] = []): { status: number | null; json: Record<string, unknown>; stderr: string } {
  // A runtime's environment (libcni passes its own along); nothing of the test's.
  const res = spawnSync(process.execPath, [...nodeArgs, bin], { input: stdin, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', ...env } });
  return { status: res.status, json: JSON.parse(res.stdout) as Record<string, unknown>, stderr: res.stderr };
}

test('package.json names the bin and ships its bundle', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[] };
  assert.equal(pkg.bin['nsbox-cni'], 'bin/nsbox-cni.js');
  assert.ok(pkg.files.includes('dist/cni.mjs'));
});

test('VERSION, as libcni asks it (GetVersionInfo: CNI_NETNS, CNI_IFNAME, CNI_PATH set to "dummy")', () => {
  const res = run({ CNI_COMMAND: 'VERSION', CNI_NETNS: 'dummy', CNI_IFNAME: 'dummy', CNI_PATH: 'dummy' }, '{"cniVersion":"1.1.0"}');
  assert.equal(res.status, 0, res.stderr);
  assert.deepEqual(res.json, { cniVersion: '1.1.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
});

test('bad input: its spec code on stdout, exit 1; GC without cni.dev/valid-attachments (7) or below 1.1.0 (1)', () => {
  const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'n1', type: 'nsbox-cni', isGateway: true, ipam: { type: 'nsbox', subnet: '10.88.0.0/16' } });
  const attach = { CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/c1', CNI_IFNAME: 'eth0' };
  const gcConf = JSON.stringify({ ...JSON.parse(conf) as object, cniVersion: '1.1.0' }); // no list: refused before the store is opened
  const cases: [Record<string, string>, string, number][] = [
    [{ CNI_COMMAND: 'ADD' }, conf, 4],
    [{ CNI_COMMAND: 'ADD', ...attach }, '{"name":', 6],
    [{ CNI_COMMAND: 'ADD', ...attach }, conf.replace('1.0.0', '3.0.0'), 1],
    [{ CNI_COMMAND: 'ADD', ...attach }, conf.replace('"isGateway":true', '"isGateway":true,"mtu":-5'), 7],
    [{ CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' }, gcConf, 7],
    [{ CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' }, JSON.stringify({ ...JSON.parse(conf) as object, 'cni.dev/valid-attachments': [] }), 1], // 1.0.0 has no GC
  ];
  for (const [env, stdin, code] of cases) {
    const res = run(env, stdin);
    assert.equal(res.status, 1, JSON.stringify(res.json));
    assert.equal(res.json.code, code, JSON.stringify(res.json));
  }
  assert.match(String(run({ CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' }, gcConf).json.msg), /cni\.dev\/valid-attachments/);
});

test('VERSION and refused input load neither the addon nor SQLite (no native module is opened)', () => {
  // Every native module (the addon, better-sqlite3) is loaded through process.dlopen.
  const preload = join(mkdtempSync(join(tmpdir(), 'nsbox-cni-')), 'no-dlopen.cjs');
  writeFileSync(preload, 'process.dlopen = (m, f) => { throw new Error(`dlopen ${f}`); };\n');
  const version = run({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}', ['--require', preload]);
  assert.equal(version.status, 0, JSON.stringify(version));
  const refused = run({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/c1', CNI_IFNAME: 'eth0' }, '{"cniVersion":"1.0.0","name":"n","type":"nsbox-cni","isGateway":false,"ipam":{"type":"nsbox","subnet":"10.88.0.0/16"}}', ['--require', preload]);
  assert.equal(refused.json.code, 2, JSON.stringify(refused));
});
