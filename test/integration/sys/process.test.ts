/**
 * Integration (root, throwaway host): execReplace, the process replaced by another program
 * (`nsbox exec`). Each case runs in a Node child of its own, since a success ends it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SYS = fileURLToPath(new URL('../../../src/sys/index.js', import.meta.url));

/** Run `script` (an ES module importing sys as `sys`) in a Node child; stdout piped, stdin a given text. */
function inNode(script: string, input = '') {
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', `import * as sys from ${JSON.stringify(SYS)};\n${script}`], {
    encoding: 'utf8', input, env: { ...process.env, NSBOX_TEST_VAR: 'from the parent' },
  });
  return { code: res.status, signal: res.signal, stdout: res.stdout, stderr: res.stderr, pid: res.pid };
}

test('execReplace: the program takes over the process (its pid, argv, env, stdin and stdout), with the defaults Node had changed put back', () => {
  const res = inNode(`
    process.stdout.write('node ' + process.pid + '\\n'); // makes Node's stdout stream (a pipe: non-blocking)
    sys.execReplace('/bin/sh', ['sh', '-c', 'echo "sh $$ $1 $NSBOX_TEST_VAR"; cat; for fd in 0 1 2; do grep ^flags /proc/self/fdinfo/$fd; done; grep -E "^Sig(Ign|Blk)" /proc/self/status; exit 7', 'sh', 'an argument'],
      { ...process.env, NSBOX_TEST_VAR: 'as given' });
  `, 'from stdin\n');
  assert.equal(res.code, 7, res.stderr);
  const [node, sh, stdin, ...rest] = res.stdout.trim().split('\n');
  assert.equal(node, `node ${res.pid}`);
  assert.equal(sh, `sh ${res.pid} an argument as given`, 'the same pid; argv and env as passed');
  assert.equal(stdin, 'from stdin');
  const flags = rest.slice(0, 3).map((l) => Number.parseInt(l.split(/\s+/)[1]!, 8));
  assert.deepEqual(flags.map((f) => f & 0o4000), [0, 0, 0], `stdin, stdout and stderr open and blocking: ${rest.join(' ')}`);
  assert.deepEqual(rest.slice(3), ['SigBlk:\t0000000000000000', 'SigIgn:\t0000000000000000'], 'SIGPIPE and SIGXFSZ at their defaults, nothing blocked');
});

test('execReplace of a program that cannot be run throws SysError and leaves the process as it was', () => {
  const res = inNode(`
    process.stdout.write('before\\n');
    const { readFileSync } = await import('node:fs');
    const flags = (fd) => readFileSync('/proc/self/fdinfo/' + fd, 'utf8');
    let err;
    try {
      sys.execReplace('/nonexistent/nsbt-program', ['nsbt-program'], process.env);
    } catch (e) {
      err = e;
    }
    console.log(err?.name, err?.code, err?.syscall);
    console.log(/^flags:\\s+(\\d+)/m.exec(flags(1))[1]);
    process.stdout.write('still running\\n');
  `);
  assert.equal(res.code, 0, res.stderr);
  const [before, error, flags, after] = res.stdout.trim().split('\n');
  assert.equal(before, 'before');
  assert.equal(error, 'SysError ENOENT execve');
  assert.equal(Number.parseInt(flags!, 8) & 0o2000000, 0o2000000, 'stdout is close-on-exec again, as Node had it');
  assert.equal(after, 'still running');
});
