/**
 * Integration (root, throwaway host): security and no silent loss (docs/reliability.md).
 * Names can't escape their directories (CLI, in-process for NUL, and the library); a planted
 * symlink at /run/netns/NAME, at a lock file or at the database is never followed (a canary
 * outside stays as it was); state files 0600 and directories 0700; a user without root gets
 * one NSBOX_ERR_PERMISSION; nsbox in a slave mount namespace or on a read-only state root is
 * refused before anything is made, and on a private (non-shared) /run its sandbox outlives the
 * command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Manager } from '../../../src/managed/index.js';
import { NSBOX_BIN, jsonError, rootForTest } from '../../helpers/cli.js';
import { CliHarness } from '../../helpers/cli-inprocess.js';
import { randomName } from '../../helpers/names.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { worldSnapshot } from '../../helpers/world-snapshot.js';

/** A file outside every root, with its content and mode, to compare after. */
function canary(t: { after: (fn: () => void) => void }): { path: string; dir: string; unchanged: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-canary-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'canary');
  writeFileSync(path, 'canary\n', { mode: 0o644 });
  const before = { text: 'canary\n', mode: statSync(path).mode, mtime: statSync(path).mtimeMs, files: ['canary'] };
  return {
    path, dir,
    unchanged: () => {
      assert.deepEqual({ text: readFileSync(path, 'utf8'), mode: statSync(path).mode, mtime: statSync(path).mtimeMs, files: readdirSync(dir) }, before, 'the canary is untouched');
    },
  };
}

const ESCAPES = ['../../../tmp/nsbt-escape', 'a/b', '..', '.', '-x', 'x'.repeat(64), 'wéb', 'a b', ''];

/**
 * Entries of /tmp a name above could have made there ('../../../tmp/nsbt-escape' reaches /tmp
 * from ROOT/locks/…). Not a snapshot of all of /tmp: other processes on the machine write there
 * meanwhile (a fresh-clone run failed on a neighbour's files).
 */
function tmpTraces(): string[] {
  const made = (n: string): boolean => n.startsWith('nsbt-escape') || n.startsWith('x'.repeat(64)) || n.includes('wéb') || n.includes('a b') || n === 'b' || n === 'x';
  return readdirSync('/tmp').filter(made).sort();
}

test('names with .., /, NUL, a leading -, overlong or unicode are refused (exit 2) by every command and the library, and make nothing anywhere', async (t) => {
  const r = rootForTest(t);
  await r.json('ls');
  const cwd = mkdtempSync(join(tmpdir(), 'nsbt-sec-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const harness = new CliHarness({ NSBOX_ROOT: r.root }, cwd);
  t.after(() => harness.close());
  const before = { world: worldSnapshot(r.root, [cwd]), tmp: tmpTraces() };
  for (const bad of [...ESCAPES, 'a\0b', '../x\0']) {
    const commands = [
      ['create', bad], ['rm', bad], ['inspect', bad], ['exec', bad, '--', 'true'], ['run', '--name', bad, '--', 'true'],
      ['network', 'create', bad, '--subnet', uniqueSubnet().cidr], ['network', 'rm', bad], ['connect', 'nsbox0', bad], ['disconnect', 'nsbox0', bad],
      ['lab', 'down', bad], ['lab', 'status', bad], ['lab', 'supervise', bad], ['lab', 'fault', 'list', bad], ['lab', 'logs', bad, 'n1'],
      ['--host', bad, 'create', 'web'],
    ];
    for (const argv of commands) {
      const res = await harness.run(['--json', ...argv]);
      const what = JSON.stringify(argv);
      assert.equal(res.crash, undefined, what);
      // '-x' is an unknown option to commander; everything else the name check refuses
      assert.equal(res.code, 2, `${what}: ${res.stderr}${res.stdout}`);
      const err = JSON.parse(res.stderr.trim().split('\n').at(-1)!) as { code: string; error: string };
      assert.equal(err.code, 'NSBOX_ERR_USAGE', `${what}: ${res.stderr}`);
    }
  }
  assert.deepEqual({ world: worldSnapshot(r.root, [cwd]), tmp: tmpTraces() }, before, 'nothing made, in the root or outside it');

  // the library: the same names refused before any file is named
  const manager = Manager.open({ root: r.root });
  t.after(() => manager.close());
  for (const bad of [...ESCAPES, 'a\0b']) {
    await assert.rejects(manager.createSandbox(bad), TypeError, `createSandbox ${JSON.stringify(bad)}`);
    await assert.rejects(manager.createNetwork(bad, { subnets: [uniqueSubnet().cidr] }), TypeError, `createNetwork ${JSON.stringify(bad)}`);
    await assert.rejects(manager.labLocked(bad, async () => {}), TypeError, `labLocked ${JSON.stringify(bad)}`);
    assert.throws(() => manager.labDir(bad), TypeError, `labDir ${JSON.stringify(bad)}`);
  }
  assert.deepEqual({ world: worldSnapshot(r.root, [cwd]), tmp: tmpTraces() }, before, 'nothing made by the library either');

  // through the real bin too (no NUL: execve cannot pass one)
  const res = await r.run('--json', 'lab', 'down', '../../../tmp/nsbt-escape');
  assert.equal(jsonError(res).code, 'NSBOX_ERR_USAGE');
  assert.equal(existsSync('/tmp/nsbt-escape.lock'), false);
});

test('a planted symlink at /run/netns/NAME, at a lock file or at the database is never followed: the canary outside stays as it was', async (t) => {
  const r = rootForTest(t);
  await r.json('ls');
  const c = canary(t);

  const name = randomName();
  symlinkSync(c.path, `/run/netns/${name}`);
  t.after(() => rmSync(`/run/netns/${name}`, { force: true }));
  const err1 = await r.fails(4, 'create', name);
  assert.equal(err1.code, 'NSBOX_ERR_CONFLICT', err1.error);
  assert.match(err1.error, /not made by nsbox/);
  assert.equal(lstatSync(`/run/netns/${name}`).isSymbolicLink(), true, 'left as it was');
  c.unchanged();

  const locked = randomName();
  mkdirSync(join(r.root, 'locks'), { recursive: true, mode: 0o700 });
  symlinkSync(c.path, join(r.root, 'locks', `${locked}.lock`));
  const err2 = await r.fails(4, 'create', locked);
  assert.equal(err2.code, 'NSBOX_ERR_CONFLICT');
  assert.match(err2.error, /is a symbolic link.*remove it/);
  assert.deepEqual(await r.json('ls'), [], 'no sandbox made');
  assert.equal(existsSync(`/run/netns/${locked}`), false);
  c.unchanged();
  rmSync(join(r.root, 'locks', `${locked}.lock`));

  // a fresh root whose database is a symlink
  const root2 = `/run/${randomName('nsbt-sec-')}`;
  t.after(() => rmSync(root2, { recursive: true, force: true }));
  mkdirSync(root2, { mode: 0o700 });
  symlinkSync(c.path, join(root2, 'nsbox.db'));
  const res = spawnSync(process.execPath, [NSBOX_BIN, '--json', '--root', root2, 'ls'], { encoding: 'utf8' });
  assert.equal(res.status, 1, res.stderr);
  const err3 = jsonError({ code: res.status, signal: null, stdout: res.stdout, stderr: res.stderr });
  assert.equal(err3.code, 'NSBOX_ERR_STORE');
  assert.match(err3.error, /nsbox\.db is a symbolic link/);
  c.unchanged();
});

test('state files are 0600 and state directories 0700 (root, database, locks, markers)', async (t) => {
  const r = rootForTest(t);
  const net = networkName();
  await r.json('network', 'create', net, '--subnet', uniqueSubnet().cidr);
  const sbx = randomName();
  await r.json('create', sbx);
  await r.ok('connect', net, sbx);
  const modes: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = lstatSync(p);
      if (p.startsWith(join(r.root, 'run'))) continue; // namespace files: bind mounts, and their 0755 directory
      if (st.isDirectory()) {
        if ((st.mode & 0o777) !== 0o700) modes.push(`${p} dir ${(st.mode & 0o777).toString(8)}`);
        walk(p);
      } else if ((st.mode & 0o777) !== 0o600) modes.push(`${p} ${(st.mode & 0o777).toString(8)}`);
    }
  };
  assert.equal(statSync(r.root).mode & 0o777, 0o700, 'the root');
  walk(r.root);
  assert.deepEqual(modes, [], 'every file 0600, every directory 0700');
});

test('a user without root gets one NSBOX_ERR_PERMISSION (exit 2), no stack trace, from every changing command', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'nsbt-nobody-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  execFileSync('chown', ['65534:65534', root]);
  const asNobody = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const res = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, NSBOX_BIN, '--json', ...args], { encoding: 'utf8', env: { ...process.env, NSBOX_ROOT: '' } });
    return { status: res.status, stdout: res.stdout, stderr: res.stderr };
  };
  const before = readdirSync('/run/netns').sort();
  for (const args of [['ls'], ['create', 'web'], ['--root', root, 'create', 'web'], ['--root', root, 'run', '--', 'true'], ['--root', root, 'network', 'create', 'n1', '--subnet', '10.9.0.0/24']]) {
    const res = asNobody(...args);
    assert.equal(res.status, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.equal(res.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line: ${res.stderr}`);
    const err = JSON.parse(res.stderr) as { code: string; error: string };
    assert.equal(err.code, 'NSBOX_ERR_PERMISSION', `${args.join(' ')}: ${res.stderr}`);
    assert.match(err.error, /needs root/);
    assert.doesNotMatch(res.stderr, /\n\s+at /);
  }
  assert.deepEqual(readdirSync('/run/netns').sort(), before, 'nothing in /run/netns');
});

test('no silent loss: a slave mount namespace and a read-only state root are refused before anything is made; a private /run keeps the sandbox', async (t) => {
  const root = `/run/${randomName('nsbt-sec-')}`;
  t.after(() => {
    spawnSync(process.execPath, [NSBOX_BIN, '--root', root, 'rm', '--all']);
    spawnSync('umount', [root]);
    rmSync(root, { recursive: true, force: true });
  });
  const nsbox = (prefix: string[], ...args: string[]): { status: number | null; stderr: string; stdout: string } => {
    const argv = [...prefix, process.execPath, NSBOX_BIN, '--root', root, '--json', ...args];
    const res = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { ...process.env, NSBOX_ROOT: '' } });
    return { status: res.status, stderr: res.stderr, stdout: res.stdout };
  };
  const nothingMade = (name: string): void => {
    assert.equal(readdirSync('/run/netns').includes(name), false, `/run/netns/${name}`);
    assert.equal(existsSync(`/etc/netns/${name}`), false);
    assert.equal(existsSync(join(root, 'run', 'netns', name)), false);
    assert.equal(existsSync(join(root, 'locks', `${name}.lock`)), false);
  };
  // a slave mount namespace (`unshare -m --propagation slave`): its mounts never reach the parent's
  for (const args of [['create', 'lost'], ['run', '--name', 'lost', '--', 'true']]) {
    const res = nsbox(['unshare', '--mount', '--propagation', 'slave'], ...args);
    assert.equal(res.status, 2, res.stderr);
    assert.equal((JSON.parse(res.stderr) as { code: string }).code, 'NSBOX_ERR_MOUNT_NAMESPACE');
    nothingMade('lost');
    // not even the default network a run would use (a refused run once made nsbox0 first)
    assert.deepEqual(JSON.parse(nsbox([], 'network', 'ls').stdout), [], `${args[0]}: no network made`);
  }
  // a read-only state root
  mkdirSync(root, { recursive: true, mode: 0o700 });
  assert.equal(nsbox([], 'ls').status, 0);
  execFileSync('mount', ['--bind', root, root]);
  execFileSync('mount', ['-o', 'remount,bind,ro', root]);
  const ro = nsbox([], 'create', 'lost');
  assert.notEqual(ro.status, 0, ro.stderr);
  const roErr = JSON.parse(ro.stderr.trim().split('\n').at(-1)!) as { code: string; error: string };
  assert.match(roErr.error, /read-only|EROFS|cannot be used/i, ro.stderr);
  assert.ok(roErr.error.includes(root), `names the root: ${roErr.error}`);
  nothingMade('lost');
  execFileSync('umount', [root]);
  // this host's /run is private (no shared: peer group): in nsbox's own mount namespace the file outlives the command
  const run = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === '/run');
  assert.ok(run !== undefined && !run.includes('shared:'), `/run is not shared here: ${run}`);
  assert.equal(nsbox([], 'create', 'kept').status, 0);
  const exec = nsbox([], 'exec', 'kept', '--', 'ip', '-br', 'link', 'show', 'lo');
  assert.equal(exec.status, 0, exec.stderr);
  assert.match(exec.stdout, /^lo /);
  assert.equal(nsbox([], 'rm', 'kept').status, 0);
});
