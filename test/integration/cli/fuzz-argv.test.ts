/**
 * Integration (root, throwaway host), fuzzing: argv the CLI must refuse, generated with
 * fast-check from the real command table (test/helpers/fuzz-argv.ts: unknown options, missing
 * values, excess arguments, invalid names — '..', '/', NUL, unicode, overlong, leading '-' —
 * and garbage values), run against a state root holding a sandbox on a network. Every run:
 * exit 2 or 3, nothing on stdout, one message on stderr (the JSON error object with --json,
 * its code an NSBOX_ERR_* or errno name), no stack trace or JavaScript error text, and nothing
 * changed: the database's rows, the root's files, the working directory, `ip -j link/addr/
 * route`, `nft list ruleset`, /run/netns and /etc/netns (test/helpers/world-snapshot.ts).
 *
 * The runs are in-process (test/helpers/cli-harness.ts: main() of dist/cli.cjs, one Node for
 * all, which also lets argv hold a NUL), plus a sample through the real bin. FUZZ_RUNS=5000
 * for the long form (default 150), FUZZ_SEED to replay a failure fast-check reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootForTest, nsbox } from '../../helpers/cli.js';
import { CliHarness } from '../../helpers/cli-inprocess.js';
import { assertRefused, commandShapes, invalidArgv } from '../../helpers/fuzz-argv.js';
import { randomName } from '../../helpers/names.js';
import { networkName, uniqueSubnet } from '../../helpers/networks.js';
import { kernelSnapshot, settledKernelSnapshot, stateSnapshot, worldSnapshot } from '../../helpers/world-snapshot.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const KERNEL_EVERY = Number(process.env.FUZZ_KERNEL_EVERY ?? 50);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

test(`fuzzed argv (${RUNS} runs): always refused with exit 2 or 3 and a message, never a stack trace, never a change`, async (t) => {
  const r = rootForTest(t);
  const sbx = randomName();
  const net = networkName();
  await r.json('network', 'create', net, '--subnet', uniqueSubnet().cidr);
  await r.json('create', sbx);
  await r.ok('connect', net, sbx);
  const cwd = mkdtempSync(join(tmpdir(), 'nsbt-fuzz-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const harness = new CliHarness({ NSBOX_ROOT: r.root }, cwd);
  t.after(() => harness.close());

  const t0 = performance.now();
  const shapes = await commandShapes();
  assert.ok(shapes.length > 40, `the command table has ${shapes.length} commands`);
  await settledKernelSnapshot();
  const before = worldSnapshot(r.root, [cwd]);
  const stateBefore = stateSnapshot(r.root, [cwd]);
  const modes: Record<string, number> = {};
  let runs = 0;
  await fc.assert(fc.asyncProperty(invalidArgv(shapes), async ({ mode, argv }) => {
    modes[mode] = (modes[mode] ?? 0) + 1;
    assertRefused(argv, await harness.run(argv));
    // the store and the files after every run; the kernel (a few tools' runs) every KERNEL_EVERY runs and at the end
    assert.deepEqual(stateSnapshot(r.root, [cwd]), stateBefore, `${JSON.stringify(argv)} changed the store or a file`);
    if (++runs % KERNEL_EVERY === 0) assert.deepEqual(kernelSnapshot(), before.kernel, `the kernel changed by run ${runs} (last ${JSON.stringify(argv)}; FUZZ_KERNEL_EVERY=1 to find which)`);
  }), { numRuns: RUNS, seed: SEED, endOnFailure: true });
  const t1 = performance.now();
  t.diagnostic(`modes: ${JSON.stringify(modes)}; ${RUNS} runs in ${Math.round(t1 - t0)} ms`);

  // A sample through the real bin (bin/nsbox.js, its own process; argv without NUL, which execve cannot pass).
  const sample = fc.sample(invalidArgv(shapes).filter(({ argv }) => !argv.some((a) => a.includes('\0'))), { numRuns: 4, seed: SEED ?? 42 });
  for (const { argv } of sample) assertRefused(argv, await nsbox(r.root, ...argv));
  assert.deepEqual(worldSnapshot(r.root, [cwd]), before, 'the bin sample changed something');
  t.diagnostic(`the bin sample in ${Math.round(performance.now() - t1)} ms`);
});
