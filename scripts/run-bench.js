#!/usr/bin/env node
/**
 * Benchmark runner: `npm run bench [-- NAME [args…]]`. Re-executes itself inside a
 * throwaway host (`unshare --mount --net --propagation private`, tmpfs on /run, sysfs on
 * /sys) so no benchmark touches the machine's real network, then runs dist/bench/NAME.js
 * (default: ops). Benchmarks print figures; nothing asserts a time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readlinkSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const [name = 'ops', ...rest] = process.argv.slice(2);
const file = join(root, 'dist/bench', `${name}.bench.js`);
if (!existsSync(file)) {
  const known = readdirSync(join(root, 'dist/bench')).filter((f) => f.endsWith('.bench.js')).map((f) => f.replace('.bench.js', ''));
  console.error(`run-bench: no benchmark ${JSON.stringify(name)}; known: ${known.join(', ')}`);
  process.exit(2);
}
if (process.env.NSBOX_THROWAWAY_HOST !== '1') {
  if (process.getuid?.() !== 0) {
    console.error('run-bench: benchmarks need root (they create namespaces and links in a throwaway host)');
    process.exit(1);
  }
  const res = spawnSync('unshare', ['--mount', '--net', '--propagation', 'private', '--', process.execPath, fileURLToPath(import.meta.url), name, ...rest], {
    stdio: 'inherit',
    env: { ...process.env, NSBOX_THROWAWAY_HOST: '1', NSBOX_OUTER_NETNS: readlinkSync('/proc/self/ns/net') },
  });
  process.exit(res.status ?? 1);
}
if (process.env.NSBOX_OUTER_NETNS === readlinkSync('/proc/self/ns/net')) {
  console.error('run-bench: still in the outer network namespace, refusing');
  process.exit(99);
}
const sh = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
};
sh('mount', ['-t', 'tmpfs', '-o', 'mode=755,size=256m', 'nsbox-bench-run', '/run']);
mkdirSync('/run/netns', { recursive: true });
sh('mount', ['-t', 'sysfs', 'nsbox-bench-sys', '/sys']);
sh('ip', ['link', 'set', 'lo', 'up']);
const res = spawnSync(process.execPath, [...(process.env.NSBOX_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), file, ...rest], { stdio: 'inherit' });
process.exit(res.status ?? 1);
