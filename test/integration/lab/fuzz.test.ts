/**
 * Integration (root, throwaway host), fuzzing lab files through the CLI and the library: the
 * examples (core, wan, raft) with one value replaced (wrong types, bad CIDRs, names of other
 * parts of the file — dangling references, a node routed via itself, a link from a node to
 * itself — garbage and huge strings), an unknown key added, or a node renamed everywhere but
 * once, written as YAML and given to `nsbox lab plan -f` and `nsbox lab up --dry-run -f`
 * (in-process, test/helpers/cli-harness.ts) and to `Lab.fromObject`. Always: a plan (exit 0),
 * or exit 2 with every problem as FILE:LINE:COL: path: message (the library: a LabFileError
 * whose problems have paths), never another error, never a stack trace, nothing changed (the
 * store, the root's files, the kernel). FUZZ_RUNS (default 60), FUZZ_SEED to replay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { packageRoot } from '../../../src/package-root.js';
import { LabFileError } from '../../../src/errors.js';
import { Lab } from '../../../src/lab/index.js';
import { rootForTest } from '../../helpers/cli.js';
import { CliHarness } from '../../helpers/cli-inprocess.js';
import { worldSnapshot } from '../../helpers/world-snapshot.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

/** Every path to a value in a parsed file. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (v !== null && typeof v === 'object') return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
  return [at];
}

/** Every string in a parsed file (names, addresses: replacing a value with one makes dangling and cyclic references). */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v !== null && typeof v === 'object') return [...Object.keys(v), ...Object.values(v).flatMap(strings)];
  return [];
}

const EXAMPLES = ['core', 'wan', 'raft'].map((name) => parse(readFileSync(join(packageRoot(), `examples/labs/${name}.yaml`), 'utf8')) as Record<string, unknown>);

const garbage = fc.oneof(
  fc.constantFrom('10.0.0.0/33', '10.0.0.1/24', '300.0.0.1/24', 'fd00::/129', '0.0.0.0/0', 'default', '-1', '1e999', '101%', '-5ms', '1tbit', 'a->b', 'x'.repeat(70), '../x', 'a/b', 'lo', 'eth0',
    'x'.repeat(100_000), '', null, true, 0, -1, 1e308, [], {}),
  fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

const mutatedFile = fc.integer({ min: 0, max: EXAMPLES.length - 1 }).chain((e) => {
  const base = EXAMPLES[e]!;
  const all = paths(base).filter((p) => p.length > 0);
  const words = [...new Set(strings(base))];
  return fc.tuple(fc.array(fc.tuple(fc.integer({ min: 0, max: all.length - 1 }), fc.oneof(garbage, fc.constantFrom(...words))), { minLength: 1, maxLength: 3 }),
    fc.option(fc.tuple(fc.integer({ min: 0, max: all.length - 1 }), fc.string({ maxLength: 12 }), garbage))).map(([changes, added]) => {
    const copy = structuredClone(base);
    for (const [i, replacement] of changes) {
      const path = all[i]!;
      let o = copy as Record<string | number, unknown>;
      for (const k of path.slice(0, -1)) {
        if (o === null || typeof o !== 'object') break;
        o = o[k] as Record<string | number, unknown>;
      }
      if (o !== null && typeof o === 'object') o[path[path.length - 1]!] = replacement;
    }
    if (added !== null) {
      const [i, key, value] = added;
      let o = copy as Record<string | number, unknown>;
      for (const k of all[i]!.slice(0, -1)) o = (o !== null && typeof o === 'object' ? o[k] : undefined) as Record<string | number, unknown>;
      if (o !== null && typeof o === 'object' && !Array.isArray(o)) o[`${key}_unknown`] = value;
    }
    return copy;
  });
});

const LOCATED = /^[^\n]+:\d+:\d+: \S[^\n]*$/;

test(`fuzzed lab files (${RUNS} runs) through lab plan, lab up --dry-run and Lab.fromObject: a plan or located problems, nothing changed`, async (t) => {
  const r = rootForTest(t);
  const dir = mkdtempSync(join(tmpdir(), 'nsbt-labfuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const harness = new CliHarness({ NSBOX_ROOT: r.root }, dir);
  t.after(() => harness.close());
  await harness.run(['ls']); // the root made before the snapshot
  const before = worldSnapshot(r.root);
  const file = join(dir, 'lab.yaml');
  const seen = { plans: 0, refused: 0 };
  await fc.assert(fc.asyncProperty(mutatedFile, async (obj) => {
    const text = stringify(obj);
    writeFileSync(file, text);
    for (const argv of [['lab', 'plan', '-f', file], ['lab', 'up', '--dry-run', '-f', file]]) {
      const res = await harness.run(argv);
      const what = `${argv.join(' ')} of\n${text.slice(0, 2000)}`;
      assert.equal(res.crash, undefined, `${what}: ${res.crash}`);
      if (res.code === 0) {
        seen.plans++;
        continue;
      }
      seen.refused++;
      assert.equal(res.code, 2, `${what}: exit ${res.code}: ${res.stderr}`);
      const lines = res.stderr.trimEnd().split('\n');
      for (const line of lines) assert.match(line, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: `), `${what}: ${res.stderr}`);
      for (const line of lines) assert.match(line, LOCATED, what);
      assert.doesNotMatch(res.stderr, /\n\s+at |TypeError|Cannot read propert|is not a function|\[object Object\]/, what);
    }
    try {
      Lab.fromObject(obj);
    } catch (err) {
      assert.ok(err instanceof LabFileError, `Lab.fromObject threw ${(err as Error).stack}`);
      assert.ok(err.problems.length > 0 && err.problems.every((p) => typeof p.path === 'string' && p.message.length > 0), JSON.stringify(err.problems));
    }
  }), { numRuns: RUNS, seed: SEED, endOnFailure: true });
  assert.deepEqual(worldSnapshot(r.root), before, 'nothing changed');
  t.diagnostic(`${JSON.stringify(seen)} (per command)`);
});
