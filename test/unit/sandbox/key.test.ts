/**
 * sandbox/key: setBasePath and generateKey (osl SetBasePath/GenerateKey), including the '-'
 * overlay lookup over a real directory (a temp dir; no root needed).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basePath, generateKey, setBasePath } from '../../../src/sandbox/key.js';

const root = mkdtempSync(join(tmpdir(), 'nsbox-key-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh base dir holding empty files with these names in its netns/ directory. */
function baseWith(...files: string[]): string {
  const dir = join(root, `b${n++}`);
  mkdirSync(join(dir, 'netns'), { recursive: true });
  for (const f of files) writeFileSync(join(dir, 'netns', f), '');
  setBasePath(dir);
  return join(dir, 'netns');
}

const OVERLAY_ID = '-0123456789abcdef';

void test('setBasePath puts keys under <dir>/netns; relative paths are refused', () => {
  setBasePath('/run/example');
  assert.equal(basePath(), '/run/example/netns');
  setBasePath('/run/example/');
  assert.equal(basePath(), '/run/example/netns');
  assert.throws(() => setBasePath('relative/dir'), TypeError);
  assert.throws(() => setBasePath(''), TypeError);
  assert.equal(basePath(), '/run/example/netns', 'a refused path changes nothing');
});

void test('generateKey truncates ids to 12 characters and keeps shorter ids whole', () => {
  const base = baseWith();
  assert.equal(generateKey('0123456789abcdef0123'), `${base}/0123456789ab`);
  assert.equal(generateKey('0123456789ab'), `${base}/0123456789ab`);
  assert.equal(generateKey('abc'), `${base}/abc`);
  assert.equal(generateKey('default'), `${base}/default`);
  assert.equal(generateKey('ingress_sbox'), `${base}/ingress_sbox`);
});

void test('generateKey refuses ids that could leave the base path, and empty ids', () => {
  baseWith();
  for (const bad of ['', 'a/b', '/abs', '.', '..', '.hidden', '..x', 'a\0b']) {
    assert.throws(() => generateKey(bad), TypeError, JSON.stringify(bad));
  }
  assert.throws(() => generateKey(undefined as unknown as string), TypeError);
});

void test("overlay lookup: '-<netid>' picks the largest epoch, including epochs >= 10", () => {
  const base = baseWith('1-0123456789', '3-0123456789', '12-012345678', '0-0123456789', '99-999999999', 'unrelated');
  assert.equal(generateKey(OVERLAY_ID), `${base}/12-012345678`);
});

void test('overlay lookup: 3-digit epochs are found too', () => {
  const base = baseWith('9-0123456789', '12-012345678', '100-01234567');
  assert.equal(generateKey(OVERLAY_ID), `${base}/100-01234567`);
});

void test('overlay lookup: with epochs below 10 only, the largest one wins', () => {
  const base = baseWith('2-0123456789', '7-0123456789', '3-0123456789', '5-9999999999');
  assert.equal(generateKey(OVERLAY_ID), `${base}/7-0123456789`);
});

void test("overlay lookup returns '' on a non-numeric match", () => {
  baseWith('3-0123456789', 'x-0123456789');
  assert.equal(generateKey(OVERLAY_ID), '');
  baseWith('3-0123456789', '-0123456789'); // the suffix alone: an empty epoch is not a number
  assert.equal(generateKey(OVERLAY_ID), '');
});

void test("overlay lookup returns '' when nothing matches or only epoch 0 does", () => {
  baseWith('1-9999999999', 'abc');
  assert.equal(generateKey(OVERLAY_ID), '');
  baseWith('0-0123456789');
  assert.equal(generateKey(OVERLAY_ID), '');
  baseWith();
  assert.equal(generateKey(OVERLAY_ID), '');
});

void test("overlay lookup returns '' when the base directory is missing or unreadable", () => {
  setBasePath(join(root, 'does-not-exist'));
  assert.equal(generateKey(OVERLAY_ID), '');
  const base = baseWith('3-0123456789');
  if (process.getuid?.() !== 0) {
    chmodSync(base, 0o000);
    try {
      assert.equal(generateKey(OVERLAY_ID), '');
    } finally {
      chmodSync(base, 0o755);
    }
  }
  // root reads any directory; a path that is a file is unreadable as a directory for everyone
  const fileBase = join(root, `b${n++}`);
  mkdirSync(fileBase);
  writeFileSync(join(fileBase, 'netns'), '');
  setBasePath(fileBase);
  assert.equal(generateKey(OVERLAY_ID), '');
});

void test('overlay lookup with a too-short network id throws a clear TypeError (upstream panicked)', () => {
  baseWith('3-0123456789');
  assert.throws(() => generateKey('-012345678'), (err: unknown) => {
    assert.ok(err instanceof TypeError);
    assert.match(err.message, /overlay lookup id "-012345678" needs '-' and at least 10 characters/);
    return true;
  });
  assert.throws(() => generateKey('-'), TypeError);
});
