#!/usr/bin/env node
/**
 * Test runner: `node scripts/run-tests.js [--unit | --integration] [filter…]`.
 *
 * Unit tests run as they are. Integration tests need root and run inside a throwaway host
 * (scripts/throwaway-host.js: `unshare --mount --net --propagation private`, fresh tmpfs on
 * /run and /var/lib/nsbox, fresh sysfs on /sys), so no test can touch the machine's real
 * network or mount table, and whatever a crashed test leaves behind dies with that host.
 * Without privileges the integration suite is skipped with the reason, unless
 * NSBOX_REQUIRE_PRIVILEGED=1 (set by CI), which turns the skip into a failure. NSBOX_AGENT is
 * `running` unless set: hand-offs to an agent a test started, no agent started on demand.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { privilegedReason, runInThrowawayHost } from './throwaway-host.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// The CLI starts an agent on demand after a call that found none (src/agent/on-demand.ts): in
// tests only where a test asks for it, so that no agent outlives the test that made its root.
process.env.NSBOX_AGENT ??= 'running';
const args = process.argv.slice(2);
const suites = args.includes('--unit') ? ['unit'] : args.includes('--integration') ? ['integration'] : ['unit', 'integration'];
const filters = args.filter((a) => !a.startsWith('--'));

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

const nodeTestArgs = (files) => ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files];

function runNodeTest(files) {
  if (files.length === 0) return 0;
  // One file at a time: each integration file checks for leaks in shared places (/run/netns).
  const res = spawnSync(process.execPath, nodeTestArgs(files), { stdio: 'inherit', cwd: root });
  return res.status ?? 1;
}

function runIntegration() {
  const files = findTests(join(root, 'dist/test/integration'));
  if (files.length === 0) return 0;
  const reason = privilegedReason();
  if (reason !== null) {
    const how = process.getuid?.() !== 0 ? ': run `sudo npm test`' : '';
    if (process.env.NSBOX_REQUIRE_PRIVILEGED === '1') {
      console.error(`run-tests: integration tests cannot run: ${reason}${how} (NSBOX_REQUIRE_PRIVILEGED=1 forbids skipping)`);
      return 1;
    }
    console.error(`run-tests: SKIP ${files.length} integration test files: ${reason}${how}`);
    return 0;
  }
  console.log(`run-tests: integration tests in a throwaway host (${files.length} files)`);
  return runInThrowawayHost(process.execPath, nodeTestArgs(files), { cwd: root });
}

let status = 0;
if (suites.includes('unit')) status ||= runNodeTest(findTests(join(root, 'dist/test/unit')));
if (suites.includes('integration')) status ||= runIntegration();
process.exit(status);
