/**
 * Unit: the CNI error object (SPEC §5 "Error": cniVersion, code, msg, details) and the mapping
 * of nsbox's errors to its codes: by nsbox code where the spec has a precise meaning, else by
 * category (src/errors.ts categoryOf); STATUS failures are 50; nothing is ever 999.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError, DumpInterruptedError, GenerationChangedError, NsboxError, SysError, TimeoutError, type ErrorCode,
} from '../../../src/errors.js';
import { errnoNumber } from '../../../src/errno.js';
import { CNI_ERR, CniError, cniErrorOf, encodeCniError, invalidField, unsupportedField } from '../../../src/cni/errors.js';

test('the spec\'s well-known codes (SPEC §5 table) and nsbox\'s own above 100', () => {
  assert.deepEqual(
    [CNI_ERR.INCOMPATIBLE_VERSION, CNI_ERR.UNSUPPORTED_FIELD, CNI_ERR.UNKNOWN_CONTAINER, CNI_ERR.INVALID_ENV, CNI_ERR.IO_FAILURE, CNI_ERR.DECODE_FAILURE, CNI_ERR.INVALID_CONFIG, CNI_ERR.TRY_AGAIN_LATER, CNI_ERR.NOT_AVAILABLE, CNI_ERR.LIMITED_CONNECTIVITY],
    [1, 2, 3, 4, 5, 6, 7, 11, 50, 51],
  );
  for (const code of [CNI_ERR.NSBOX_CONFLICT, CNI_ERR.NSBOX_NOT_FOUND, CNI_ERR.NSBOX_INTERNAL]) assert.ok(code >= 100 && code < 999, '§5: 100+ are plugin-specific');
  assert.ok(!Object.values(CNI_ERR).includes(999 as never), 'no catch-all 999');
});

test('the error object: cniVersion, code, msg, and details when there are any (§5 "Error")', () => {
  assert.deepEqual(encodeCniError(new CniError(7, 'Invalid Configuration', { details: 'Network 192.168.0.0/31 too small to allocate from.' }), '1.1.0'),
    { cniVersion: '1.1.0', code: 7, msg: 'Invalid Configuration', details: 'Network 192.168.0.0/31 too small to allocate from.' }); // §5's example
  assert.deepEqual(encodeCniError(new CniError(4, 'required env variables [CNI_NETNS] missing'), '0.4.0'), { cniVersion: '0.4.0', code: 4, msg: 'required env variables [CNI_NETNS] missing' });
  const unsupported = unsupportedField('vlan', 5, 'nsbox bridges do not filter VLANs');
  assert.deepEqual([unsupported.cniCode, unsupported.message, unsupported.field], [2, 'unsupported field vlan=5', 'vlan'], '§5 code 2: "must contain the key and value"');
  const invalid = invalidField('ipam.ranges[0][0].subnet', 'host bits are set');
  assert.deepEqual([invalid.cniCode, invalid.message, invalid.field], [7, 'invalid network config: ipam.ranges[0][0].subnet: host bits are set', 'ipam.ranges[0][0].subnet']);
});

test('nsbox errors map by code where the spec is precise, else by category; details carry nsbox\'s code and message', () => {
  const err = (code: ErrorCode, msg = 'x'): NsboxError => new NsboxError(msg, code);
  const cases: [unknown, number, RegExp][] = [
    // by nsbox code
    [err('NSBOX_ERR_NETNS_GONE', 'namespace /run/netns/c1 is gone'), 3, /^NSBOX_ERR_NETNS_GONE: namespace \/run\/netns\/c1 is gone$/], // §5 code 3: container does not exist
    [err('NSBOX_ERR_NOT_NETNS'), 4, /^NSBOX_ERR_NOT_NETNS: x$/], // CNI_NETNS is not a netns: §5 code 4 names the variable
    [err('NSBOX_ERR_NATIVE_ARGS'), 102, /NSBOX_ERR_NATIVE_ARGS/], // category usage, but a bug
    // by category
    [new ConfigError('subnet 10.88.0.0/16 overlaps the host route 10.88.0.0/16 on eth0', 'subnet'), 7, /^NSBOX_ERR_CONFIG: subnet/], // usage
    [new TypeError('invalid MAC'), 7, /^NSBOX_ERR_USAGE: invalid MAC$/], // usage
    [err('NSBOX_ERR_NOT_FOUND'), 101, /^NSBOX_ERR_NOT_FOUND/], // not-found (not the container)
    [new SysError(errnoNumber('ENODEV')!, 'open'), 101, /^ENODEV: open: ENODEV/],
    [err('NSBOX_ERR_EXISTS'), 100, /^NSBOX_ERR_EXISTS/], // conflict: the interface exists (§2 ADD must fail)
    [err('NSBOX_ERR_EXHAUSTED'), 100, /^NSBOX_ERR_EXHAUSTED/],
    [err('NSBOX_ERR_BUSY'), 100, /^NSBOX_ERR_BUSY/],
    [new TimeoutError('RTM_NEWLINK', 3000), 11, /^NSBOX_ERR_TIMEOUT: RTM_NEWLINK: no answer/], // transient: §5 code 11
    [new DumpInterruptedError('RTM_GETLINK', 6), 11, /NSBOX_ERR_DUMP_INTR/],
    [new GenerationChangedError(7), 11, /NSBOX_ERR_NFT_GENERATION/],
    [new SysError(errnoNumber('EAGAIN')!, 'sendmsg'), 11, /^EAGAIN/],
    [new SysError(errnoNumber('EPERM')!, 'setns'), 102, /^EPERM: setns: EPERM: Operation not permitted$/], // internal
    [new Error('a bug'), 102, /^NSBOX_ERR_INTERNAL: a bug$/],
    ['a thrown string', 102, /^NSBOX_ERR_INTERNAL: a thrown string$/],
    [new AggregateError([err('NSBOX_ERR_TEARDOWN', 'one'), new SysError(errnoNumber('EBUSY')!, 'umount')], 'teardown: 2 steps failed'), 102, /^NSBOX_ERR_INTERNAL: teardown: 2 steps failed; NSBOX_ERR_TEARDOWN: one; EBUSY: umount: EBUSY/],
  ];
  for (const [thrown, code, details] of cases) {
    for (const command of ['ADD', 'DEL', 'CHECK', 'GC', undefined] as const) {
      const e = cniErrorOf(thrown, command);
      assert.equal(e.cniCode, code, `${String(thrown)} (${command})`);
      assert.match(e.details!, details, String(thrown));
      assert.equal(e.cause, thrown);
    }
  }
  assert.equal(cniErrorOf(new TimeoutError('RTM_NEWLINK', 3000), 'ADD').message, 'try again later', 'msg is the short text of the code');
});

test('STATUS: whatever keeps nsbox from answering is code 50 (§2 STATUS: "not able to service ADD requests")', () => {
  for (const thrown of [new NsboxError('database is newer', 'NSBOX_ERR_STORE'), new ConfigError('x', 'subnet'), new TimeoutError('RTM_GETLINK', 3000), new Error('bug')]) {
    const e = cniErrorOf(thrown, 'STATUS');
    assert.equal(e.cniCode, 50, String(thrown));
    assert.match(e.details!, /: /);
  }
  const limited = new CniError(CNI_ERR.LIMITED_CONNECTIVITY, 'the firewall table is gone');
  assert.equal(cniErrorOf(limited, 'STATUS'), limited, 'a backend may say 51 itself');
});

test('a CniError is reported as thrown', () => {
  const e = new CniError(CNI_ERR.UNKNOWN_CONTAINER, 'no such container');
  for (const command of ['ADD', 'STATUS', undefined] as const) assert.equal(cniErrorOf(e, command), e);
});
