/**
 * Unit: the skip decision of test/helpers/privileges.ts, and test/kernel-gaps.json itself.
 * Under NSBOX_REQUIRE_PRIVILEGED=1 a missing feature fails the test unless it is a known gap of
 * the running kernel; a known gap skips with its documented reason; without the variable a
 * missing feature skips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { FEATURES, decideSkip, loadKernelGaps, skipIfMissing, type KernelGap } from '../../helpers/privileges.js';

const GAPS: KernelGap[] = [{ feature: 'ipvlan', kernels: ['6.18.44-fc-'], why: 'built without CONFIG_IPVLAN' }];
const KERNEL = '6.18.44-fc-v1272';

void test('a feature that is there: run, whatever the mode', () => {
  for (const required of [true, false]) {
    assert.deepEqual(decideSkip('ipvlan', undefined, { required, kernel: KERNEL, gaps: GAPS }), { action: 'run' });
    assert.deepEqual(decideSkip('ip_vs', undefined, { required, kernel: KERNEL, gaps: [] }), { action: 'run' });
  }
});

void test('required and not listed: fail, naming the feature, what was missing, the kernel and the gaps file', () => {
  const d = decideSkip('ip_vs', 'no /proc/sys/net/ipv4/vs', { required: true, kernel: KERNEL, gaps: GAPS });
  assert.equal(d.action, 'fail');
  assert.ok(d.action === 'fail');
  assert.match(d.reason, /IPVS/);
  assert.match(d.reason, /no \/proc\/sys\/net\/ipv4\/vs/);
  assert.match(d.reason, /6\.18\.44-fc-v1272/);
  assert.match(d.reason, /test\/kernel-gaps\.json/);
  assert.match(d.reason, /NSBOX_REQUIRE_PRIVILEGED=1 forbids skipping/);
});

void test('required, listed for another kernel only: fail', () => {
  const d = decideSkip('ipvlan', 'Unknown device type', { required: true, kernel: '6.19.0-generic', gaps: GAPS });
  assert.equal(d.action, 'fail');
});

void test('listed for this kernel: skip with the documented reason, required or not', () => {
  for (const required of [true, false]) {
    const d = decideSkip('ipvlan', 'Unknown device type', { required, kernel: KERNEL, gaps: GAPS });
    assert.deepEqual(d, {
      action: 'skip',
      reason: `${FEATURES.ipvlan} missing: built without CONFIG_IPVLAN (a known gap of kernel ${KERNEL}, test/kernel-gaps.json)`,
    });
  }
});

void test('not required and not listed: skip, saying what was missing', () => {
  const d = decideSkip('procfs-instance', 'openProcfs refused: the host /proc/sys serves', { required: false, kernel: KERNEL, gaps: GAPS });
  assert.deepEqual(d, { action: 'skip', reason: `${FEATURES['procfs-instance']} missing here: openProcfs refused: the host /proc/sys serves` });
});

void test('test/kernel-gaps.json loads: known features, kernels and a reason for each', () => {
  const gaps = loadKernelGaps();
  assert.ok(gaps.length > 0);
  for (const g of gaps) {
    assert.ok(Object.hasOwn(FEATURES, g.feature), g.feature);
    assert.ok(g.kernels.length > 0 && g.why.length > 0, g.feature);
  }
});

void test('a malformed gaps file is refused with the entry and what is wrong', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-gaps-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'gaps.json');
  const cases: [unknown, RegExp][] = [
    [{}, /expected \{ "gaps": \[\.\.\.\] \}/],
    [{ gaps: [{ feature: 'ipvlna', kernels: ['6.'], why: 'x' }] }, /gaps\[0\]: unknown feature "ipvlna"/],
    [{ gaps: [{ feature: 'ipvlan', kernels: [], why: 'x' }] }, /gaps\[0\]: "kernels" must list/],
    [{ gaps: [{ feature: 'ipvlan', kernels: ['6.'], why: ' ' }] }, /gaps\[0\]: "why" must say/],
  ];
  for (const [content, message] of cases) {
    writeFileSync(file, JSON.stringify(content));
    assert.throws(() => loadKernelGaps(file), message);
  }
});

void test('skipIfMissing reads NSBOX_REQUIRE_PRIVILEGED: fails the test when required, else skips it', () => {
  const skipped: string[] = [];
  const t = { skip: (reason: string) => { skipped.push(reason); } } as unknown as TestContext;
  const saved = process.env.NSBOX_REQUIRE_PRIVILEGED;
  try {
    // 'procfs-instance' is listed for no kernel: a gap nowhere known.
    process.env.NSBOX_REQUIRE_PRIVILEGED = '1';
    assert.equal(skipIfMissing(t, 'procfs-instance', undefined), false, 'present: the test runs');
    assert.throws(() => skipIfMissing(t, 'procfs-instance', 'refused'), { name: 'AssertionError', message: /forbids skipping/ });
    assert.deepEqual(skipped, []);
    assert.ok(!loadKernelGaps().some((g) => g.feature === 'procfs-instance'), 'this test needs a feature listed for no kernel');
    delete process.env.NSBOX_REQUIRE_PRIVILEGED;
    assert.equal(skipIfMissing(t, 'procfs-instance', 'refused'), true, 'skipped: the test must return');
    assert.deepEqual(skipped, [`${FEATURES['procfs-instance']} missing here: refused`]);
  } finally {
    if (saved === undefined) delete process.env.NSBOX_REQUIRE_PRIVILEGED;
    else process.env.NSBOX_REQUIRE_PRIVILEGED = saved;
  }
});
