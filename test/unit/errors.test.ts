/**
 * Unit: the error table. Every code has a category and a documented row in docs/errors.md
 * (and nothing is documented that the code does not define); every class carries its code,
 * category and fields; categories of errno codes, TypeError/RangeError and foreign errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root.js';
import {
  AbortError, ClosedError, ConfigError, DecodeError, DumpInterruptedError, ERROR_CODES, NeighborSearchError, NetlinkError, NsboxError,
  SandboxError, SysError, TimeoutError, categoryOf, type ErrorCategory,
} from '../../src/errors.js';
import { errnoNumber } from '../../src/errno.js';

const CATEGORIES: readonly ErrorCategory[] = ['usage', 'not-found', 'conflict', 'transient', 'internal'];

test('docs/errors.md lists exactly the codes of ERROR_CODES, each with its category and text', () => {
  const doc = readFileSync(join(packageRoot(), 'docs/errors.md'), 'utf8');
  const rows = new Map<string, [string, string]>();
  for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| ([a-z-]+) \| (.+) \|$/gm)) rows.set(m[1]!, [m[2]!, m[3]!]);
  assert.deepEqual([...rows.keys()].sort(), Object.keys(ERROR_CODES).sort());
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    assert.deepEqual(rows.get(code), [info.category, info.when], code);
    assert.ok(CATEGORIES.includes(info.category), code);
  }
});

test('every class: its code, category, message and fields', () => {
  const eexist = errnoNumber('EEXIST');
  const cases: [Error, string, ErrorCategory, RegExp][] = [
    [new SysError(eexist, 'open', '/x'), 'EEXIST', 'conflict', /^open \/x: EEXIST: File exists$/],
    [new SysError(errnoNumber('EPERM'), 'setns'), 'EPERM', 'internal', /^setns: EPERM: Operation not permitted$/],
    [new SysError(524, 'sendmsg'), 'ENOTSUPP', 'internal', /^sendmsg: ENOTSUPP$/],
    [new NetlinkError(errnoNumber('ENODEV'), 'RTM_GETLINK', { message: 'Link not found' }), 'ENODEV', 'not-found', /^RTM_GETLINK: ENODEV: Link not found$/],
    [new NetlinkError(errnoNumber('EOPNOTSUPP'), 'RTM_NEWLINK'), 'EOPNOTSUPP', 'internal', /^RTM_NEWLINK: EOPNOTSUPP$/],
    [new DumpInterruptedError('RTM_GETLINK', 6), 'NSBOX_ERR_DUMP_INTR', 'transient', /interrupted by concurrent changes 6 times/],
    [new TimeoutError('RTM_GETLINK', 3000), 'NSBOX_ERR_TIMEOUT', 'transient', /within 3000 ms/],
    [new DecodeError('nlmsghdr', 4, 'truncated'), 'NSBOX_ERR_DECODE', 'internal', /^cannot decode nlmsghdr at byte 4: truncated$/],
    [new ConfigError('bad subnet', 'subnet'), 'NSBOX_ERR_CONFIG', 'usage', /^bad subnet$/],
    [new ClosedError('netlink socket'), 'NSBOX_ERR_CLOSED', 'internal', /^netlink socket is closed$/],
    [new AbortError('RTM_GETLINK'), 'ABORT_ERR', 'transient', /^RTM_GETLINK was aborted$/],
    [new NeighborSearchError('10.0.0.1', '02:00:00:00:00:01', 'eth0', true), 'NSBOX_ERR_NEIGHBOR_EXISTS', 'conflict', /already exists for IP 10\.0\.0\.1/],
    [new NeighborSearchError('10.0.0.1', '02:00:00:00:00:01', undefined, false), 'NSBOX_ERR_NEIGHBOR_NOT_FOUND', 'not-found', /^neighbor entry not found/],
    [new SandboxError('failed get network namespace "k": x', 'NSBOX_ERR_NETNS_GONE'), 'NSBOX_ERR_NETNS_GONE', 'not-found', /^failed get/],
    [new NsboxError('no sandbox named "x"', 'NSBOX_ERR_NOT_FOUND'), 'NSBOX_ERR_NOT_FOUND', 'not-found', /no sandbox/],
  ];
  for (const [err, code, category, message] of cases) {
    assert.ok(err instanceof NsboxError, err.name);
    assert.equal((err as NsboxError).code, code, err.name);
    assert.equal((err as NsboxError).category, category, `${err.name} ${code}`);
    assert.equal(categoryOf(err), category, `${err.name} ${code}`);
    assert.match(err.message, message, err.name);
    assert.equal(err.name, err.constructor.name);
  }
  const sys = new SysError(eexist, 'open', '/x');
  assert.equal(sys.errno, -eexist);
  assert.equal(sys.syscall, 'open');
  assert.equal(sys.path, '/x');
  const nl = new NetlinkError(-eexist, 'RTM_NEWADDR', { message: 'x', offset: 20 });
  assert.equal(nl.errno, -eexist, 'negative whatever the sign given');
  assert.deepEqual(nl.extack, { message: 'x', offset: 20 });
});

test('SandboxError keeps the cause and the failed undo steps', () => {
  const cause = new NetlinkError(errnoNumber('EEXIST'), 'RTM_NEWADDR');
  const undo = new Error('undo failed');
  const err = new SandboxError('error setting interface "eth0" IP to 10.0.0.2/24: RTM_NEWADDR: EEXIST', 'EEXIST', { cause, rollbackErrors: [undo] });
  assert.equal(err.cause, cause);
  assert.deepEqual(err.rollbackErrors, [undo]);
  assert.deepEqual(new SandboxError('x', 'NSBOX_ERR_SANDBOX').rollbackErrors, []);
});

test('categoryOf: errno codes by name, TypeError/RangeError as usage, anything foreign as internal', () => {
  const errnoCases: [string, ErrorCategory][] = [
    ['ENOENT', 'not-found'], ['ENODEV', 'not-found'], ['EEXIST', 'conflict'], ['EBUSY', 'conflict'], ['EAGAIN', 'transient'],
    ['ENOBUFS', 'transient'], ['EPERM', 'internal'], ['EINVAL', 'internal'],
  ];
  for (const [name, category] of errnoCases) assert.equal(categoryOf(new SysError(errnoNumber(name)!, 'x')), category, name);
  // Node's own system errors carry an errno too.
  assert.equal(categoryOf(Object.assign(new Error('x'), { code: 'ENOENT', errno: -2 })), 'not-found');
  assert.equal(categoryOf(new TypeError('bad name')), 'usage');
  assert.equal(categoryOf(new RangeError('bad count')), 'usage');
  assert.equal(categoryOf(new Error('plain')), 'internal');
  assert.equal(categoryOf(Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' })), 'internal');
  assert.equal(categoryOf(Object.assign(new Error('x'), { code: 'NSBOX_ERR_BUSY' })), 'conflict', 'a code of the table, on any error');
  assert.equal(categoryOf('a string'), 'internal');
  assert.equal(categoryOf(null), 'internal');
  assert.equal(categoryOf(new AggregateError([new SysError(2, 'x')], 'teardown')), 'internal');
});
