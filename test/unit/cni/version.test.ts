/**
 * Unit: the versions nsbox speaks, SemVer ordering, which version brought what (SPEC "Released
 * versions"), the per-command version gates, and VERSION's answer (SPEC §2 "VERSION", §5
 * "Version": the input's cniVersion echoed, every supported version listed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CniError } from '../../../src/cni/errors.js';
import {
  CNI_VERSIONS, CURRENT_VERSION, FEATURES, checkCommandVersion, compareVersions, configVersion, hasFeature, isCniVersion, isSemver, versionAnswer,
} from '../../../src/cni/version.js';

function cniCode(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof CniError, String(err));
    return err.cniCode;
  }
}

test('the supported versions: every released spec 0.1.0 to 1.1.0 (SPEC "Released versions"), oldest first', () => {
  assert.deepEqual([...CNI_VERSIONS], ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']);
  assert.equal(CURRENT_VERSION, '1.1.0');
  const sorted = [...CNI_VERSIONS].sort(compareVersions);
  assert.deepEqual(sorted, [...CNI_VERSIONS]);
});

test('SemVer 2.0 precedence (§1 cniVersion is "Semantic Version 2.0"; semver.org §11)', () => {
  const ordered = ['0.1.0', '0.3.0', '0.3.1', '0.4.0', '0.10.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.1.0', '2.0.0'];
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) {
      assert.equal(compareVersions(ordered[i]!, ordered[j]!), Math.sign(i - j), `${ordered[i]} vs ${ordered[j]}`);
    }
  }
  assert.equal(compareVersions('1.0.0+build.5', '1.0.0'), 0, 'build metadata has no precedence');
  for (const bad of ['1.0', '1', 'v1.0.0', '01.0.0', '1.0.0-', '1.0.0-01', '', 'abc']) {
    assert.equal(isSemver(bad), false, bad);
    assert.throws(() => compareVersions(bad, '1.0.0'), TypeError, bad);
  }
});

test('which version brought what (SPEC "Released versions" table)', () => {
  const cases: [keyof typeof FEATURES, string, string][] = [
    ['versionCommand', '0.2.0', '0.1.0'], // 0.2.0: VERSION command
    ['richResult', '0.3.0', '0.2.0'], // 0.3.0: rich result type, plugin chaining
    ['prevResult', '0.3.0', '0.2.0'],
    ['check', '0.4.0', '0.3.1'], // 0.4.0: CHECK, prevResult on DEL
    ['prevResultOnDel', '0.4.0', '0.3.1'],
    ['ipsWithoutVersion', '1.0.0', '0.4.0'], // 1.0.0: `version` removed from ips
    ['status', '1.1.0', '1.0.0'], // 1.1.0: STATUS, GC, result fields
    ['gc', '1.1.0', '1.0.0'],
    ['result11Fields', '1.1.0', '1.0.0'],
  ];
  for (const [feature, first, before] of cases) {
    assert.equal(FEATURES[feature], first, feature);
    assert.equal(hasFeature(first as '1.1.0', feature), true, `${feature} in ${first}`);
    assert.equal(hasFeature(before as '1.1.0', feature), false, `${feature} not in ${before}`);
  }
});

test('a config version: missing or "" is 0.1.0 (libcni DecodeVersion); unreadable is 6; unknown is 1 (Go skel "incompatible CNI versions")', () => {
  assert.equal(configVersion(undefined), '0.1.0');
  assert.equal(configVersion(''), '0.1.0');
  for (const v of CNI_VERSIONS) assert.equal(configVersion(v), v);
  assert.equal(cniCode(() => configVersion('9.9.9')), 1, 'well-formed, not spoken');
  assert.equal(cniCode(() => configVersion('1.2.0')), 1, 'a future version');
  assert.equal(cniCode(() => configVersion('1.0')), 6, 'not SemVer: §5 code 6, "failed to decode version info from string"');
  assert.equal(cniCode(() => configVersion(1)), 6, 'not a string');
  assert.throws(() => configVersion('9.9.9'), (err: CniError) => /config is "9\.9\.9", plugin supports \["0\.1\.0",.*"1\.1\.0"\]/.test(err.details!));
  assert.equal(isCniVersion('1.1.0'), true);
  assert.equal(isCniVersion('1.1.1'), false);
});

test('commands and the versions that have them: CHECK from 0.4.0, STATUS and GC from 1.1.0 (Go skel: code 1 otherwise)', () => {
  const cases: [Parameters<typeof checkCommandVersion>[0], string, number | undefined][] = [
    ['CHECK', '0.4.0', undefined], ['CHECK', '0.3.1', 1], ['CHECK', '0.1.0', 1],
    ['STATUS', '1.1.0', undefined], ['STATUS', '1.0.0', 1],
    ['GC', '1.1.0', undefined], ['GC', '0.4.0', 1],
    ['ADD', '0.1.0', undefined], ['DEL', '0.1.0', undefined],
  ];
  for (const [command, version, code] of cases) assert.equal(cniCode(() => checkCommandVersion(command, version as '1.1.0')), code, `${command} at ${version}`);
  assert.throws(() => checkCommandVersion('CHECK', '0.3.1'), /^CniError: config version 0\.3\.1 does not allow CHECK$/);
});

test('VERSION echoes the input cniVersion and lists every supported version (§5 "Version")', () => {
  const all = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
  for (const v of all) assert.deepEqual(versionAnswer(JSON.stringify({ cniVersion: v })), { cniVersion: v, supportedVersions: all }, v);
  assert.deepEqual(versionAnswer('{"cniVersion":"1.2.0"}'), { cniVersion: '1.2.0', supportedVersions: all }, 'a newer runtime: echoed; the list says what nsbox speaks');
  assert.equal(versionAnswer('').cniVersion, '0.1.0', 'no input: the implied 0.1.0');
  assert.equal(versionAnswer('{}').cniVersion, '0.1.0');
  assert.equal(versionAnswer('{"cniVersion":"1.0.0","name":"x","type":"y"}').cniVersion, '1.0.0', 'a whole config is fine too');
  assert.equal(cniCode(() => versionAnswer('{"cniVersion":')), 6, 'not JSON');
  assert.equal(cniCode(() => versionAnswer('[]')), 6, 'not an object');
  assert.equal(cniCode(() => versionAnswer('{"cniVersion":1}')), 6, 'not a string');
  assert.equal(cniCode(() => versionAnswer('{"cniVersion":"one"}')), 6, 'not a version');
});
