/**
 * Unit: the CNI_* environment per command (SPEC §2 "Parameters" and each operation's "Required
 * environment parameters"): what each command requires, what it reads and ignores, and code 4
 * naming the variable for every problem. Each case names where its rule comes from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCniArgs, readCniEnv, REQUIRED_ENV, type CniCommand } from '../../../src/cni/env.js';
import { CniError } from '../../../src/cni/errors.js';

const FULL = { CNI_CONTAINERID: 'abc123', CNI_NETNS: '/run/netns/c1', CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web', CNI_PATH: '/opt/cni/bin:/usr/lib/cni' };

function refusal(fn: () => unknown, code: number, msg: RegExp, field: string, why: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CniError, `${why}: a CniError`);
    assert.equal(err.cniCode, code, why);
    assert.match(err.message, msg, why);
    assert.equal(err.field, field, why);
    return true;
  });
}

test('required variables per command, exactly as SPEC §2 lists them', () => {
  assert.deepEqual(REQUIRED_ENV, {
    ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'], // §2 ADD: COMMAND, CONTAINERID, NETNS, IFNAME
    DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'], // §2 DEL: NETNS is optional
    CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'], // §2 CHECK: as ADD
    STATUS: [], // §2 STATUS: only CNI_PATH, optional
    GC: ['CNI_PATH'], // §2 GC: COMMAND, PATH
    VERSION: [], // §2 VERSION: COMMAND
  });
});

test('a missing (or empty) required variable is code 4 naming every one missing (SPEC §5 code 4, as the Go skel words it)', () => {
  const cases: [string, Record<string, string>, RegExp, string][] = [
    ['§2: CNI_COMMAND is required for every operation', {}, /^required env variables \[CNI_COMMAND\] missing$/, 'CNI_COMMAND'],
    ['§2: CNI_COMMAND empty counts as missing', { CNI_COMMAND: '' }, /\[CNI_COMMAND\] missing/, 'CNI_COMMAND'],
    ['§2 ADD: all three', { CNI_COMMAND: 'ADD' }, /^required env variables \[CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME\] missing$/, 'CNI_CONTAINERID'],
    ['§2 ADD: CNI_NETNS', { ...FULL, CNI_COMMAND: 'ADD', CNI_NETNS: '' }, /\[CNI_NETNS\] missing/, 'CNI_NETNS'],
    ['§2 CHECK: CNI_NETNS', { ...FULL, CNI_COMMAND: 'CHECK', CNI_NETNS: '' }, /\[CNI_NETNS\] missing/, 'CNI_NETNS'],
    ['§2 DEL: CNI_IFNAME', { ...FULL, CNI_COMMAND: 'DEL', CNI_IFNAME: '' }, /\[CNI_IFNAME\] missing/, 'CNI_IFNAME'],
    ['§2 GC: CNI_PATH', { CNI_COMMAND: 'GC' }, /\[CNI_PATH\] missing/, 'CNI_PATH'],
  ];
  for (const [why, env, msg, field] of cases) refusal(() => readCniEnv(env), 4, msg, field, why);
});

test('an unknown command is code 4 (§2 CNI_COMMAND: ADD, DEL, CHECK, GC, VERSION; STATUS is §2 "STATUS")', () => {
  refusal(() => readCniEnv({ CNI_COMMAND: 'FOO' }), 4, /^unknown CNI_COMMAND: FOO$/, 'CNI_COMMAND', 'unknown');
  refusal(() => readCniEnv({ CNI_COMMAND: 'add' }), 4, /unknown CNI_COMMAND: add/, 'CNI_COMMAND', 'commands are upper case');
});

test('what each command reads; what it does not use is ignored, as libcni fills it with "" or "dummy" (research §1.2)', () => {
  const add = readCniEnv({ ...FULL, CNI_COMMAND: 'ADD' });
  assert.deepEqual({ ...add, args: [...add.args.pairs] }, {
    command: 'ADD', containerId: 'abc123', netns: '/run/netns/c1', ifname: 'eth0',
    args: [['IgnoreUnknown', '1'], ['K8S_POD_NAME', 'web']], path: ['/opt/cni/bin', '/usr/lib/cni'],
  });
  const del = readCniEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'abc', CNI_IFNAME: 'eth0', CNI_NETNS: '' });
  assert.equal(del.netns, undefined, '§2 DEL: CNI_NETNS optional, "" is none');
  assert.deepEqual(del.path, [], '§2 DEL: CNI_PATH optional');
  // libcni's GC/STATUS: CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_ARGS set to "".
  const gc = readCniEnv({ CNI_COMMAND: 'GC', CNI_CONTAINERID: '', CNI_NETNS: '', CNI_IFNAME: '', CNI_ARGS: '', CNI_PATH: '/opt/cni/bin' });
  assert.deepEqual([gc.containerId, gc.netns, gc.ifname, gc.path], [undefined, undefined, undefined, ['/opt/cni/bin']]);
  // libcni's VERSION: CNI_NETNS=dummy CNI_IFNAME=dummy CNI_PATH=dummy, never checked or used.
  const version = readCniEnv({ CNI_COMMAND: 'VERSION', CNI_NETNS: 'dummy', CNI_IFNAME: 'dummy', CNI_PATH: 'dummy', CNI_CONTAINERID: 'not/valid' });
  assert.deepEqual([version.containerId, version.netns, version.ifname, version.path], [undefined, undefined, undefined, []]);
  const status = readCniEnv({ CNI_COMMAND: 'STATUS', CNI_CONTAINERID: 'not/valid', CNI_IFNAME: 'x'.repeat(20) });
  assert.equal(status.containerId, undefined, '§2 STATUS: only CNI_PATH is read');
  assert.deepEqual(readCniEnv({ CNI_COMMAND: 'ADD', ...FULL, CNI_PATH: '::/a::/b:' }).path, ['/a', '/b'], 'empty CNI_PATH entries dropped');
});

test('CNI_CONTAINERID: alphanumeric first, then alphanumerics, _ . - (§2 CNI_CONTAINERID); else code 4', () => {
  for (const id of ['a', 'A1', '0abc', 'a_b.c-d', 'c'.repeat(64), 'cnitool-20b4ff582526573bbe7d']) {
    assert.equal(readCniEnv({ ...FULL, CNI_COMMAND: 'ADD', CNI_CONTAINERID: id }).containerId, id, id);
  }
  for (const id of ['_a', '.a', '-a', 'bad/id', 'a b', 'a:b', 'é']) {
    refusal(() => readCniEnv({ ...FULL, CNI_COMMAND: 'DEL', CNI_CONTAINERID: id }), 4, /^invalid characters in CNI_CONTAINERID$/, 'CNI_CONTAINERID', id);
  }
});

test('CNI_IFNAME: 1 to 15 bytes, not . or .., no / : or whitespace (§2 CNI_IFNAME, libcni ValidateInterfaceName); else code 4', () => {
  for (const name of ['eth0', 'e', 'x'.repeat(15), 'net-1.2_b']) assert.equal(readCniEnv({ ...FULL, CNI_COMMAND: 'ADD', CNI_IFNAME: name }).ifname, name, name);
  for (const name of ['x'.repeat(16), 'ééééééééé', '.', '..', 'a/b', 'a:b', 'a b', 'a\tb']) {
    refusal(() => readCniEnv({ ...FULL, CNI_COMMAND: 'CHECK', CNI_IFNAME: name }), 4, /^invalid CNI_IFNAME /, 'CNI_IFNAME', JSON.stringify(name));
  }
});

test('CNI_ARGS: KEY=VALUE pairs separated by ";" (§2 CNI_ARGS, CONVENTIONS.md "CNI_ARGS")', () => {
  assert.deepEqual([...parseCniArgs('').pairs], [], 'empty');
  const args = parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=web-0;K8S_POD_NAMESPACE=default;IP=10.88.0.7;MAC=0A:58:0A:58:00:07');
  assert.equal(args.pairs.get('K8S_POD_NAME'), 'web-0', 'keys nsbox does not know are kept');
  assert.equal(args.ip, '10.88.0.7', 'CONVENTIONS.md CNI_ARGS: IP');
  assert.equal(args.mac, '0a:58:0a:58:00:07', 'bridge MacEnvArgs: MAC, lowercase');
  assert.equal(parseCniArgs('FOO=bar').pairs.get('FOO'), 'bar', 'unknown keys accepted without IgnoreUnknown=1 (§3: CNI_ARGS go to every plugin)');
  assert.equal(parseCniArgs('A=1;A=2').pairs.get('A'), '2', 'the last of a repeated key wins');
  assert.equal(parseCniArgs('A=').pairs.get('A'), '', 'an empty value');
  assert.equal(parseCniArgs('IP=fd00::7/64').ip, 'fd00::7/64', 'IP with a prefix');
  assert.equal(parseCniArgs('IP=').ip, undefined, 'an empty IP is none');
});

test('a malformed CNI_ARGS is code 4 naming CNI_ARGS', () => {
  const cases: [string, RegExp][] = [
    ['FOO', /invalid CNI_ARGS pair "FOO"/],
    ['=bar', /invalid CNI_ARGS pair "=bar"/],
    ['A=1;', /invalid CNI_ARGS pair ""/],
    ['A=1=2', /invalid CNI_ARGS pair "A=1=2"/],
    ['IgnoreUnknown=maybe', /IgnoreUnknown="maybe"/],
    ['IP=10.88.0.300', /CNI_ARGS IP="10\.88\.0\.300"/],
    ['MAC=zz:00:00:00:00:00', /CNI_ARGS MAC=/],
  ];
  for (const [text, msg] of cases) refusal(() => readCniEnv({ ...FULL, CNI_COMMAND: 'ADD', CNI_ARGS: text }), 4, msg, 'CNI_ARGS', text);
  for (const cmd of ['GC', 'STATUS'] as CniCommand[]) {
    assert.doesNotThrow(() => readCniEnv({ CNI_COMMAND: cmd, CNI_PATH: '/x', CNI_ARGS: 'FOO' }), `${cmd} does not read CNI_ARGS`);
  }
});
