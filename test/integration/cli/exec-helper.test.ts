/**
 * Integration (root, throwaway host): `nsbox exec` and `run` run the command as `ip netns exec`
 * does, through the nsbox-exec helper: in a mount namespace of its own with a sysfs of the
 * sandbox's namespace on /sys and each file of /etc/netns/NAME bound over /etc (a bind that
 * fails is reported and skipped); the host's /etc, /sys and mount table stay as they were; the
 * command keeps the pid nsbox supervises; a command that is missing or not executable ends
 * with 127 or 126 and one line on stderr. Checked against `ip netns exec`, /proc and the files.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ETC_NETNS_DIR, finished, firstLine, nsboxWith, rootForTest, type NsboxRoot } from '../../helpers/cli.js';
import { randomName } from '../../helpers/names.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';

/**
 * A sandbox, and a file of our own put next to nsbox's resolv.conf and hosts in its
 * /etc/netns/NAME (as a user adds one for ip netns exec); the directory, which rm then leaves
 * with our file, is removed when the test ends.
 */
async function sandboxWithEtcFile(t: TestContext, r: NsboxRoot, file: string, text: string): Promise<string> {
  const name = randomName();
  await r.json('create', name);
  const dir = join(ETC_NETNS_DIR, name);
  assert.deepEqual(readdirSync(dir).sort(), ['hosts', 'resolv.conf'], 'nsbox made the directory with its two files');
  writeFileSync(join(dir, file), text);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return name;
}

/** The host's /etc files, mount table and sysfs, to compare before and after. */
function hostView(): unknown {
  return {
    files: ['/etc/hosts', '/etc/resolv.conf'].map((f) => ({ f, ino: statSync(f).ino, mtime: statSync(f).mtimeMs, text: readFileSync(f, 'utf8') })),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').sort(),
    sysNet: execFileSync('ls', ['/sys/class/net'], { encoding: 'utf8' }),
  };
}

test('exec binds the files of /etc/netns/NAME over /etc and mounts the sandbox\'s sysfs, as ip netns exec does; the host stays as it was', async (t) => {
  const r = rootForTest(t);
  const missing = `nsbt-no-such-etc-file-${randomName('')}`;
  const name = await sandboxWithEtcFile(t, r, missing, 'x\n');
  const before = hostView();

  const res = await r.run('exec', name, '--', 'sh', '-c', 'cat /etc/hosts /etc/resolv.conf; ls /sys/class/net');
  assert.equal(res.code, 0, res.stderr);
  const dir = join(ETC_NETNS_DIR, name);
  assert.equal(res.stdout, `${readFileSync(join(dir, 'hosts'), 'utf8')}${readFileSync(join(dir, 'resolv.conf'), 'utf8')}lo\n`);
  assert.match(res.stdout, new RegExp(`^# nsbox: hosts of sandbox ${name},`), 'nsbox\'s own files');
  assert.equal(res.stderr, `nsbox: bind ${ETC_NETNS_DIR}/${name}/${missing} over /etc/${missing}: ENOENT: No such file or directory\n`,
    'a file with nothing to cover in /etc is reported and skipped');
  const viaIp = execFileSync('ip', ['netns', 'exec', name, 'sh', '-c', 'cat /etc/hosts /etc/resolv.conf; ls /sys/class/net'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  assert.equal(res.stdout, viaIp, 'what ip netns exec shows');

  const mounts = await r.run('exec', name, '--', 'sh', '-c', 'grep -E " /etc/(hosts|resolv.conf) | /sys " /proc/self/mountinfo | cut -d" " -f5,7 | sort -u');
  assert.deepEqual(mounts.stdout.trim().split('\n').map((l) => l.split(' ')[0]), ['/etc/hosts', '/etc/resolv.conf', '/sys'], 'the child has them mounted');
  assert.ok(mounts.stdout.trim().split('\n').every((l) => !l.includes('shared:')), 'none of its mounts is shared with the host (/ is rslave)');
  assert.deepEqual(hostView(), before, 'the host\'s /etc files, mount table and sysfs are untouched');
});

test('without /etc/netns/NAME (removed by hand) nothing is bound: the child sees the host\'s /etc, and its own /sys; exec does not make it again', async (t) => {
  const r = rootForTest(t);
  const name = randomName();
  await r.json('create', name);
  rmSync(join(ETC_NETNS_DIR, name), { recursive: true });
  const before = hostView();
  const res = await r.run('exec', name, '--', 'sh', '-c', 'cat /etc/hosts; ls /sys/class/net');
  assert.deepEqual([res.code, res.stderr], [0, '']);
  assert.equal(res.stdout, `${readFileSync('/etc/hosts', 'utf8')}lo\n`);
  assert.deepEqual(hostView(), before);
  assert.equal(existsSync(join(ETC_NETNS_DIR, name)), false);
});

test('exec: the command is nsbox\'s own process (nsbox execs the helper, the helper the command: same pid, inside the sandbox)', async (t) => {
  const r = rootForTest(t);
  const name = randomName();
  await r.json('create', name);
  const child = r.start(['exec', name, '--', 'sh', '-c', 'echo $$; exec sleep 30']);
  const done = finished(child);
  const pid = Number(await firstLine(child));
  assert.equal(readlinkSync(`/proc/${pid}/ns/net`), `net:[${statSync(join(r.netnsDir, name)).ino}]`, 'inside the sandbox');
  assert.notEqual(readlinkSync(`/proc/${pid}/ns/mnt`), readlinkSync('/proc/self/ns/mnt'), 'in a mount namespace of its own');
  assert.equal(pid, child.pid, 'the process nsbox was started as: no child, no helper process in between');
  child.kill('SIGTERM');
  assert.equal((await done).signal, 'SIGTERM');
});

test('exec: the command starts as from a plain exec though Node was there before it: stdin flows, stdio blocking, no signal ignored or blocked', async (t) => {
  const r = rootForTest(t);
  const name = randomName();
  await r.json('create', name);
  // The startup trace, printed as nsbox hands over, makes Node's process.stderr first (a pipe
  // here, which libuv sets non-blocking).
  const script = 'cat; for fd in 0 1 2; do grep ^flags /proc/self/fdinfo/$fd; done; grep -E "^Sig(Ign|Blk)" /proc/self/status';
  const res = await nsboxWith(r.root, { input: 'from stdin\n', env: { NSBOX_TRACE_STARTUP: '1' } }, 'exec', name, '--', 'sh', '-c', script);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /nsbox-trace .* total/);
  const [echoed, ...rest] = res.stdout.trim().split('\n');
  assert.equal(echoed, 'from stdin');
  const flags = rest.slice(0, 3).map((l) => Number.parseInt(l.split(/\s+/)[1]!, 8));
  assert.deepEqual(flags.map((f) => f & 0o4000), [0, 0, 0], `O_NONBLOCK on none of 0, 1, 2: ${rest.join(' ')}`);
  assert.deepEqual(rest.slice(3), ['SigBlk:\t0000000000000000', 'SigIgn:\t0000000000000000'], 'SIGPIPE and SIGXFSZ back to their defaults, nothing blocked');
});

test('a command that is missing ends with 127, one that is not executable with 126, for exec and run', async (t) => {
  const r = rootForTest(t);
  const name = randomName();
  await r.json('create', name);
  const net = networkName();
  await r.json('network', 'create', net, '--subnet', uniqueSubnet().cidr);
  const dir = mkdtempSync('/run/nsbt-exec-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const plain = join(dir, 'not-executable');
  writeFileSync(plain, '#!/bin/sh\necho hi\n');
  chmodSync(plain, 0o644);

  const missing = await r.run('exec', name, '--', 'nsbt-no-such-command');
  assert.deepEqual([missing.code, missing.stdout, missing.stderr], [127, '', 'nsbox: cannot run nsbt-no-such-command: command not found\n']);
  const notExec = await r.run('exec', name, '--', plain);
  assert.deepEqual([notExec.code, notExec.stdout, notExec.stderr], [126, '', `nsbox: cannot run ${plain}: EACCES: Permission denied\n`]);
  const directory = await r.run('exec', name, '--', dir);
  assert.deepEqual([directory.code, directory.stderr], [126, `nsbox: cannot run ${dir}: EACCES: Permission denied\n`]);
  const runMissing = await r.run('run', '--network', net, '--', 'nsbt-no-such-command');
  assert.deepEqual([runMissing.code, runMissing.stderr], [127, 'nsbox: cannot run nsbt-no-such-command: command not found\n']);
  const runNotExec = await r.run('run', '--network', net, '--', plain);
  assert.deepEqual([runNotExec.code, runNotExec.stderr], [126, `nsbox: cannot run ${plain}: EACCES: Permission denied\n`]);
  assert.deepEqual((await r.json<{ name: string }[]>('ls')).map((s) => s.name), [name], 'run removed its sandboxes');
});
