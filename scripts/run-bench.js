#!/usr/bin/env node
/**
 * Benchmark runner: `npm run bench [-- NAME [args…]]`. Runs dist/bench/NAME.bench.js
 * (default: ops) inside a throwaway host (scripts/throwaway-host.js: `unshare --mount --net
 * --propagation private`, fresh tmpfs on /run and /var/lib/nsbox, fresh sysfs on /sys), so no
 * benchmark touches the machine's real network. NSBOX_BENCH_NODE_ARGS adds Node options.
 * Benchmarks print figures; nothing asserts a time. NSBOX_AGENT is `running` unless set: an
 * agent only where a row starts one (or asks for one on demand).
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { privilegedReason, runInThrowawayHost } from './throwaway-host.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const [name = 'ops', ...rest] = process.argv.slice(2);
const file = join(root, 'dist/bench', `${name}.bench.js`);
if (!existsSync(file)) {
  const known = readdirSync(join(root, 'dist/bench')).filter((f) => f.endsWith('.bench.js')).map((f) => f.replace('.bench.js', ''));
  console.error(`run-bench: no benchmark ${JSON.stringify(name)}; known: ${known.join(', ')}`);
  process.exit(2);
}
const reason = privilegedReason();
if (reason !== null) {
  console.error(`run-bench: benchmarks create namespaces and links in a throwaway host, which ${reason}`);
  process.exit(1);
}
process.env.NSBOX_AGENT ??= 'running';
const nodeArgs = (process.env.NSBOX_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
process.exit(runInThrowawayHost(process.execPath, [...nodeArgs, file, ...rest]));
