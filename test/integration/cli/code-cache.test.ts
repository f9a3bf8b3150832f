/**
 * Integration: the CLI's V8 code cache (bin/nsbox.cjs) is never used when it should not be.
 * Its file name carries the bundle's digest (a rebuilt bundle never meets an old cache); a
 * cache whose payload is damaged (V8 checks only its header unless told to verify the
 * checksum: such a file crashed Node) is rejected and rewritten; a cache file that is a
 * symlink is not followed, one owned by another user is not read; each time the command's
 * output is the one it gives without a cache. Uses `nsbox version` (no root, no state).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, copyFileSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NSBOX_BIN } from '../../helpers/cli.js';

const DIST = fileURLToPath(new URL('../../../../dist', import.meta.url));

/** `nsbox version` with the loader's trace: its output and what it did with the cache. */
function version(): { status: number | null; signal: NodeJS.Signals | null; stdout: string; cache: string } {
  const r = spawnSync(process.execPath, [NSBOX_BIN, 'version'], { encoding: 'utf8', env: { ...process.env, NSBOX_TRACE_STARTUP: '1' } });
  const m = /bin: bundle compiled \(([^)]*)\)/.exec(r.stderr);
  return { status: r.status, signal: r.signal, stdout: r.stdout, cache: m?.[1] ?? `no trace: ${r.stderr}` };
}

function versionCache(): string {
  version();
  const found = readdirSync(DIST).filter((f) => /^cli-.*-version-.*\.v8cache$/.test(f));
  assert.equal(found.length, 1, found.join(' '));
  return join(DIST, found[0]!);
}

test('the cache is named by the bundle digest the build computed', () => {
  const bundles = JSON.parse(readFileSync(join(DIST, 'cli.hash.json'), 'utf8')) as Record<'core' | 'full', { file: string; hash: string }>;
  for (const b of Object.values(bundles)) {
    assert.equal(b.hash, createHash('sha256').update(readFileSync(join(DIST, b.file))).digest('hex').slice(0, 16), b.file);
  }
  assert.match(versionCache(), new RegExp(`cli-${bundles.core.hash}-version-`));
});

test('a damaged cache is rejected and rewritten, not run; then used', () => {
  const expected = spawnSync(process.execPath, [NSBOX_BIN, 'version'], { encoding: 'utf8', env: { ...process.env, NSBOX_CODE_CACHE: '0' } }).stdout;
  const file = versionCache();
  assert.equal(version().cache, 'code cache used');
  const good = readFileSync(file);
  for (const at of [0.1, 0.5, 0.9]) {
    const bad = Buffer.from(good);
    const off = Math.floor(bad.length * at);
    bad.fill(0xff, off, off + 8);
    writeFileSync(file, bad);
    const r = version();
    assert.deepEqual({ status: r.status, signal: r.signal, stdout: r.stdout, cache: r.cache }, { status: 0, signal: null, stdout: expected, cache: 'code cache rejected' }, `damaged at ${off}`);
    assert.equal(version().cache, 'code cache used', 'rewritten');
  }
});

test('a cache file that is a symlink is not followed, one of another user not read; both replaced', () => {
  const file = versionCache();
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-cache-'));
  try {
    const target = join(dir, 'target');
    copyFileSync(file, target);
    const before = readFileSync(target);
    unlinkSync(file);
    symlinkSync(target, file);
    assert.equal(version().cache, 'no code cache');
    assert.ok(lstatSync(file).isFile(), 'a cache file in place of the link');
    assert.deepEqual(readFileSync(target), before, 'the link target untouched');

    chownSync(file, 65534, 65534);
    assert.equal(version().cache, 'no code cache');
    assert.equal(lstatSync(file).uid, process.getuid!(), 'rewritten as ours');
    assert.equal(version().cache, 'code cache used');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
