/**
 * Unit: the sh launcher (package.json "bin") answers --version without Node and with the
 * package's version, and hands every other command to the Node CLI unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

test('run and exec with no agent socket: the Node CLI is told no agent answered (NSBOX_HANDOFF_TRIED=noagent: it does not look again, and starts one on demand after the call); other commands are not', (t) => {
  if (!existsSync(join(root, 'build/Release/nsbox-handoff'))) return t.skip('the native client is not built');
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-launcher-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const report = join(dir, 'report');
  // A `node` that says what it was given.
  writeFileSync(join(dir, 'node'), `#!/bin/sh\nprintf '%s|%s' "\${NSBOX_HANDOFF_TRIED:-unset}" "$*" > ${report}\n`, { mode: 0o755 });
  const env = { PATH: `${dir}:/usr/bin:/bin`, NSBOX_ROOT: join(dir, 'root') };
  const seen = (args: string[], extra: NodeJS.ProcessEnv = {}): string => {
    const res = spawnSync(launcher, args, { encoding: 'utf8', env: { ...env, ...extra } });
    assert.equal(res.status, 0, res.stderr);
    return readFileSync(report, 'utf8');
  };
  assert.equal(seen(['exec', 'x', '--', 'true']), `noagent|${join(root, 'bin')}/nsbox.cjs exec x -- true`);
  assert.equal(seen(['--root', join(dir, 'other'), 'run', '--', 'true']).split('|')[0], 'noagent');
  assert.equal(seen(['version']).split('|')[0], 'unset');
  // NSBOX_AGENT=0: the launcher does not look, and the Node CLI does not either (it reads NSBOX_AGENT itself).
  assert.equal(seen(['exec', 'x', '--', 'true'], { NSBOX_AGENT: '0' }).split('|')[0], 'unset');
});
