/**
 * Integration (root, throwaway host): the lock files in ROOT/locks (sandbox/file-lock.ts). A
 * holder deletes its file before letting go, so commands leave none behind (every `run` left
 * two before); a taker that locked a deleted file starts over, so two processes never hold one
 * lock; a file whose holder was SIGKILLed is deleted by the next taker or by `nsbox gc`, never
 * while someone holds it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  finished, netnsFiles, netnsMounts, netnsSymlinks, nsbox, nsboxJson, nsboxOk, registerCliLeakCheck, rootForFile, startNsbox, waitForStderr,
  type CliResult,
} from '../../helpers/cli.js';
import { randomName } from '../../helpers/names.js';

registerCliLeakCheck();

const FILE_LOCK_JS = fileURLToPath(new URL('../../../src/sandbox/file-lock.js', import.meta.url));

function lockFiles(root: string): string[] {
  const dir = join(root, 'locks');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

function assertOk(results: CliResult[], what: string): void {
  const failed = results.filter((r) => r.code !== 0).map((r) => `${r.code ?? r.signal}: ${r.stderr.trim()}`);
  assert.deepEqual(failed, [], what);
}

test('200 create+rm cycles and 10 runs leave no lock file', async () => {
  const root = rootForFile();
  for (let round = 0; round < 2; round++) {
    const names = Array.from({ length: 100 }, () => randomName());
    await nsboxOk(root, 'create', ...names);
    await nsboxOk(root, 'rm', ...names);
    assert.deepEqual(lockFiles(root), [], `after round ${round}`);
  }
  for (let batch = 0; batch < 2; batch++) {
    assertOk(await Promise.all(Array.from({ length: 5 }, () => nsbox(root, 'run', '--', 'true'))), 'run');
  }
  assert.deepEqual(lockFiles(root), []);
  assert.deepEqual(await nsboxJson(root, 'ls'), []);
});

test('a SIGKILLed holder leaves its file: gc keeps it while held, deletes it once free', async () => {
  const root = rootForFile();
  const name = randomName();
  const child = startNsbox(root, ['create', name], { env: { NSBOX_TEST_PAUSE: 'create:netns' } });
  const done = finished(child);
  await waitForStderr(child, 'nsbox: paused at create:netns\n');
  await nsboxJson(root, 'gc');
  assert.deepEqual(lockFiles(root), [`${name}.lock`], 'a held lock is never deleted');
  child.kill('SIGKILL');
  assert.equal((await done).signal, 'SIGKILL');
  assert.deepEqual(lockFiles(root), [`${name}.lock`], 'the killed holder could not delete it');
  await nsboxJson(root, 'gc');
  assert.deepEqual(lockFiles(root), []);
  assert.deepEqual(await nsboxJson(root, 'ls'), []);
});

test('24 concurrent creates and removes of one name: each ends cleanly, store and kernel agree, no lock file', async () => {
  const root = rootForFile();
  const name = randomName();
  const results = await Promise.all(Array.from({ length: 24 }, (_, i) => nsbox(root, '--json', i % 2 === 0 ? 'create' : 'rm', name)));
  for (const r of results) {
    if (r.code === 0) continue;
    // the only failures allowed: the name was taken, or already gone
    assert.match(r.stderr, /NSBOX_ERR_EXISTS|NSBOX_ERR_NOT_FOUND/, r.stderr);
  }
  const created = results.filter((r, i) => i % 2 === 0 && r.code === 0).length;
  assert.ok(created >= 1, 'some create succeeded');
  const listed = await nsboxJson<{ name: string; state: string }[]>(root, 'ls');
  const key = join(root, 'run', 'netns', name);
  if (listed.length === 1) {
    assert.deepEqual(listed.map((r) => [r.name, r.state]), [[name, 'ready']]);
    assert.deepEqual(netnsMounts(root), [key]);
    assert.deepEqual(netnsFiles(root), [name]);
    assert.deepEqual(netnsSymlinks(root), [name]);
    await nsboxOk(root, 'rm', name);
  } else {
    assert.deepEqual(listed, []);
  }
  assert.deepEqual(netnsMounts(root), []);
  assert.deepEqual(netnsFiles(root), []);
  assert.deepEqual(lockFiles(root), []);
});

/** A process taking `path`'s lock `rounds` times (sync and async forms), proving it alone holds it. */
function contender(path: string, marker: string, rounds: number): Promise<CliResult> {
  const code = `
    import { mkdirSync, rmdirSync } from 'node:fs';
    import { withFileLock, withFileLockSync } from ${JSON.stringify(FILE_LOCK_JS)};
    let overlaps = 0;
    const inside = () => {
      try { mkdirSync(${JSON.stringify(marker)}); } catch { overlaps++; return; }
      for (let i = 0; i < 2000; i++) Math.sqrt(i);
      rmdirSync(${JSON.stringify(marker)});
    };
    for (let i = 0; i < ${rounds}; i++) {
      if (i % 2 === 0) withFileLockSync(${JSON.stringify(path)}, inside);
      else await withFileLock(${JSON.stringify(path)}, async () => { inside(); });
    }
    console.log(overlaps);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code]);
  child.stdin.end();
  return finished(child);
}

test('6 processes taking one lock 300 times each, its file deleted at every release: never two holders, no file left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-lock-'));
  try {
    const path = join(dir, 'locks', 'x.lock');
    const results = await Promise.all(Array.from({ length: 6 }, () => contender(path, join(dir, 'held'), 300)));
    for (const r of results) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), '0', 'no overlap seen by this process');
    }
    assert.deepEqual(readdirSync(join(dir, 'locks')), []);
    assert.equal(existsSync(join(dir, 'held')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
