/**
 * Integration: what the cold-start work (issue 17) changed in behaviour. `create` of several
 * names (checked first, then each all or nothing), the launcher moving NODE_EXTRA_CA_CERTS and
 * NODE_OPTIONS aside for nsbox's Node and back for the command `run`/`exec` start, the
 * NSBOX_TRACE_STARTUP phases, the code cache (a command gives the same output with it,
 * without it, and with a cache file that is not V8's), and output to a non-blocking stdout
 * whose reader waits arriving whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { netnsFiles, nsbox, nsboxJson, nsboxOk, nsboxWith, registerCliLeakCheck, rootForFile, rootForTest } from '../../helpers/cli.js';
import { randomName } from '../../helpers/names.js';

registerCliLeakCheck();

const LAUNCHER = fileURLToPath(new URL('../../../../bin/nsbox', import.meta.url));
const DIST = fileURLToPath(new URL('../../../../dist', import.meta.url));

function launch(root: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(LAUNCHER, args, { encoding: 'utf8', env: { ...process.env, ...env, NSBOX_ROOT: root } });
}

test('create takes several names; a bad or repeated one creates nothing; one that exists fails alone', async () => {
  const root = rootForFile();
  const [a, b, c, d] = [randomName(), randomName(), randomName(), randomName()];
  assert.equal(await nsboxOk(root, 'create', a, b), `${a}\n${b}\n`);

  const bad = await nsbox(root, 'create', c, 'no good', d);
  assert.equal(bad.code, 2, bad.stderr);
  const twice = await nsbox(root, 'create', c, c);
  assert.equal(twice.code, 2, twice.stderr);
  assert.match(twice.stderr, /named twice/);
  assert.deepEqual(netnsFiles(root).sort(), [a, b].sort(), 'nothing made by the refused calls');

  const partly = await nsbox(root, 'create', c, a, d);
  assert.equal(partly.code, 4, partly.stderr); // NSBOX_ERR_EXISTS: the first failure's status
  assert.equal(partly.stdout, `${c}\n${d}\n`);
  assert.match(partly.stderr, new RegExp(`1 of 3 sandboxes not created: a sandbox named ${a} already exists`));
  const list = await nsboxJson<{ name: string }[]>(root, 'ls');
  assert.deepEqual(list.map((s) => s.name).sort(), [a, b, c, d].sort());

  const [e, f] = [randomName(), randomName()];
  const many = await nsboxJson<{ name: string; labels: Record<string, string> }[]>(root, 'create', e, f, '--label', 'k=v');
  assert.deepEqual(many.map((s) => [s.name, s.labels.k]), [[e, 'v'], [f, 'v']]);
  await nsboxOk(root, 'rm', a, b, c, d, e, f);
});

// `run` makes the default network nsbox0: these tests use a root of their own (rootForTest), removed
// with its networks at the end, so no other test file's gc meets nsbox0's firewall elements.
test('the launcher moves NODE_EXTRA_CA_CERTS and NODE_OPTIONS aside for nsbox, and back for the command it runs', async (t) => {
  const { root } = rootForTest(t);
  const name = randomName();
  await nsboxOk(root, 'create', name);
  const env = { NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem', NODE_OPTIONS: '--no-deprecation' };
  const show = ['sh', '-c', 'echo "$NODE_EXTRA_CA_CERTS|$NODE_OPTIONS|${NSBOX_SAVED_NODE_EXTRA_CA_CERTS-unset}"'];
  const viaExec = launch(root, ['exec', name, '--', ...show], env);
  assert.equal(viaExec.status, 0, viaExec.stderr);
  assert.equal(viaExec.stdout, '/nonexistent/ca.pem|--no-deprecation|unset\n');
  // Node warns about a CA file it cannot read: nsbox's Node never saw it.
  assert.doesNotMatch(viaExec.stderr, /extra certs/i);
  const viaRun = launch(root, ['run', '--', ...show], env);
  assert.equal(viaRun.status, 0, viaRun.stderr);
  assert.equal(viaRun.stdout, '/nonexistent/ca.pem|--no-deprecation|unset\n');
  const kept = launch(root, ['exec', name, '--', ...show], { ...env, NSBOX_KEEP_NODE_ENV: '1' });
  assert.equal(kept.stdout, '/nonexistent/ca.pem|--no-deprecation|unset\n');
  assert.match(kept.stderr, /extra certs/i, 'kept: nsbox\'s own Node read the variable');
  await nsboxOk(root, 'rm', name);
});

test('NSBOX_TRACE_STARTUP=1 prints the phases of a run on stderr, in order, the command\'s output untouched', async (t) => {
  const { root } = rootForTest(t);
  const res = await nsboxWith(root, { env: { NSBOX_TRACE_STARTUP: '1' } }, 'run', '--', 'echo', 'hi');
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, 'hi\n');
  const phases = [...res.stderr.matchAll(/^nsbox-trace +[\d.]+ ms {2}(.*)$/gm)].map((m) => m[1]!);
  for (const p of ['store: better-sqlite3 loaded', 'run: run lock taken', 'run: connected (veth, address, routes)', 'run: command spawned', 'run: command exited',
    'remove: host veth ends deleted', 'run: sandbox removed', 'total (process start → exit)']) {
    assert.ok(phases.includes(p), `phase ${p} in ${phases.join(', ')}`);
  }
  assert.ok(phases.indexOf('run: command spawned') < phases.indexOf('run: command exited'));
  const quiet = await nsbox(root, 'ls');
  assert.doesNotMatch(quiet.stderr, /nsbox-trace/, 'off by default');
});

test('a non-blocking stdout whose reader waits gets all of the output (writeOut hands what meets EAGAIN to process.stdout, drained before the end)', async () => {
  const root = rootForFile();
  const name = randomName();
  // 100 KB of --json output: more than a pipe holds (64 KiB), so the write meets EAGAIN and the
  // rest is queued on process.stdout; a process ending with process.exit would lose it.
  await nsboxOk(root, 'create', name, '--label', `big=${'x'.repeat(100_000)}`);
  try {
    const whole = launch(root, ['ls', '--json']);
    assert.equal(whole.status, 0, whole.stderr);
    assert.ok(whole.stdout.length > 100_000);
    // python3 makes the pipe to the reader non-blocking (the open file, which nsbox inherits; a
    // spawn by Node would make it blocking again); the reader starts once nsbox had time to fill it.
    const inner = 'import os, subprocess, sys; os.set_blocking(1, False); sys.exit(subprocess.call([os.environ["LAUNCHER"], "ls", "--json"]))';
    const piped = spawnSync('sh', ['-c', 'python3 -c "$INNER" | { sleep 0.5; cat; }'], {
      encoding: 'utf8', maxBuffer: 1 << 22, env: { ...process.env, NSBOX_ROOT: root, INNER: inner, LAUNCHER },
    });
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal(piped.stdout.length, whole.stdout.length, 'nothing of the output lost');
    assert.equal(piped.stdout, whole.stdout);
  } finally {
    await nsboxOk(root, 'rm', name);
  }
});

test('the code cache: the same output with it, without it, and over a cache file that is not V8\'s', async () => {
  const root = rootForFile();
  const name = randomName();
  await nsboxOk(root, 'create', name);
  const expected = await nsboxOk(root, 'inspect', name);
  const off = await nsboxWith(root, { env: { NSBOX_CODE_CACHE: '0' } }, 'inspect', name);
  assert.equal(off.stdout, expected);
  const caches = readdirSync(DIST).filter((f) => /^cli-.*-inspect-.*\.v8cache$/.test(f));
  assert.equal(caches.length, 1, `one cache for inspect: ${caches.join(' ')}`);
  writeFileSync(join(DIST, caches[0]!), 'not a code cache');
  const over = await nsbox(root, 'inspect', name);
  assert.equal(over.code, 0, over.stderr);
  assert.equal(over.stdout, expected);
  assert.notEqual(readFileSync(join(DIST, caches[0]!), 'latin1'), 'not a code cache', 'the rejected cache was rewritten');
  assert.equal((await nsbox(root, 'inspect', name)).stdout, expected, 'and is used');
  await nsboxOk(root, 'rm', name);
});
