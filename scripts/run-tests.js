#!/usr/bin/env node
/**
 * Test runner: `node scripts/run-tests.js [--unit | --integration] [filter…]`.
 *
 * Unit tests run as they are. Integration tests need root; the runner re-executes itself
 * inside a throwaway host (`unshare --mount --net --propagation private`, a fresh tmpfs on
 * /run and a fresh sysfs on /sys), so no test can touch the machine's real network or
 * mount table, and whatever a crashed test leaves behind dies with that host.
 * Without privileges the integration suite is skipped with the reason, unless
 * NSBOX_REQUIRE_PRIVILEGED=1 (set by CI), which turns the skip into a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, statSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const suites = args.includes('--unit') ? ['unit'] : args.includes('--integration') ? ['integration'] : ['unit', 'integration'];
const filters = args.filter((a) => !a.startsWith('--'));
const inside = process.env.NSBOX_THROWAWAY_HOST === '1';

function findTests(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(findTests(path));
    // Only tests whose source still exists: tsc never deletes the output of a moved file.
    else if (name.endsWith('.test.js') && existsSync(join(root, relative(join(root, 'dist'), path)).replace(/\.js$/, '.ts'))) out.push(path);
  }
  return out.filter((f) => filters.length === 0 || filters.some((flt) => f.includes(flt)));
}

function runNodeTest(files) {
  if (files.length === 0) return 0;
  // One file at a time: each integration file checks for leaks in shared places (/run/netns).
  const res = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit', cwd: root });
  return res.status ?? 1;
}

function sh(cmd, cmdArgs) {
  const res = spawnSync(cmd, cmdArgs, { stdio: 'inherit' });
  if (res.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed (${res.status ?? res.signal})`);
}

function canRunPrivileged() {
  if (process.getuid?.() !== 0) return 'needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN): run `sudo npm test`';
  const probe = spawnSync('unshare', ['--mount', '--net', '--propagation', 'private', 'true']);
  if (probe.status !== 0) return 'unshare --mount --net failed here (no namespace support or no privileges)';
  return null;
}

function runIntegration() {
  const files = findTests(join(root, 'dist/test/integration'));
  if (files.length === 0) return 0;
  if (inside) {
    if (process.env.NSBOX_OUTER_NETNS === readlinkSync('/proc/self/ns/net')) {
      console.error('run-tests: still in the outer network namespace, refusing to run privileged tests');
      return 99;
    }
    sh('mount', ['-t', 'tmpfs', '-o', 'mode=755,size=256m', 'nsbox-test-run', '/run']);
    mkdirSync('/run/netns', { recursive: true });
    sh('mount', ['-t', 'sysfs', 'nsbox-test-sys', '/sys']);
    sh('ip', ['link', 'set', 'lo', 'up']);
    return runNodeTest(files);
  }
  const reason = canRunPrivileged();
  if (reason !== null) {
    if (process.env.NSBOX_REQUIRE_PRIVILEGED === '1') {
      console.error(`run-tests: integration tests cannot run: ${reason} (NSBOX_REQUIRE_PRIVILEGED=1 forbids skipping)`);
      return 1;
    }
    console.error(`run-tests: SKIP ${files.length} integration test files: ${reason}`);
    return 0;
  }
  console.log(`run-tests: integration tests in a throwaway host (${files.map((f) => relative(root, f)).length} files)`);
  const res = spawnSync('unshare', ['--mount', '--net', '--propagation', 'private', '--', process.execPath, fileURLToPath(import.meta.url), '--integration', ...filters], {
    stdio: 'inherit',
    env: { ...process.env, NSBOX_THROWAWAY_HOST: '1', NSBOX_OUTER_NETNS: readlinkSync('/proc/self/ns/net') },
  });
  return res.status ?? 1;
}

let status = 0;
if (suites.includes('unit') && !inside) status ||= runNodeTest(findTests(join(root, 'dist/test/unit')));
if (suites.includes('integration')) status ||= runIntegration();
process.exit(status);
