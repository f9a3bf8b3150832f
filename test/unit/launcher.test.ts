/**
 * Unit: the sh launcher (package.json "bin") answers --version without Node and with the
 * package's version, and hands every other command to the Node CLI unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root.js';

const root = packageRoot();
const launcher = join(root, 'bin/nsbox');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

test('package.json points its bin at the launcher', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.equal(pkg.bin.nsbox, 'bin/nsbox');
});

test('--version and -V print the package version, without starting Node', () => {
  for (const flag of ['--version', '-V']) {
    const res = spawnSync(launcher, [flag], { encoding: 'utf8', env: { ...process.env, PATH: '/usr/bin:/bin' } });
    assert.equal(res.status, 0);
    assert.equal(res.stdout, `${version}\n`);
  }
  const noNode = spawnSync(launcher, ['--version'], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
  assert.equal(noNode.stdout, `${version}\n`, 'answered by sh alone');
});

test('anything else runs the Node CLI with the arguments unchanged', () => {
  const res = spawnSync(launcher, ['version', '--json'], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.equal((JSON.parse(res.stdout) as { version: string }).version, version);
  const viaNode = spawnSync(launcher, ['--json', 'version'], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
  assert.notEqual(viaNode.status, 0, 'without node on PATH, only --version alone can answer');
});
