/**
 * Unit (property): whatever a YAML file holds, the loader returns a lab or throws a
 * LabFileError whose every problem has a position inside the file; never anything else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { packageRoot } from '../../../src/package-root.js';
import { LabFileError } from '../../../src/errors.js';
import { labFromObject, parseLab } from '../../../src/lab/index.js';

const KEYS = ['lab', 'version', 'seed', 'networks', 'nodes', 'links', 'faults', 'schedule', 'lan', 'n1', 'r1', 'eth0', 'interfaces', 'network', 'address', 'routes', 'to', 'via',
  'subnet', 'gateway', 'impair', 'a->b', 'b->a', 'both', 'rate', 'loss', 'delay', 'jitter', 'partition', 'oneway', 'link-down', 'signal', 'processes', 'name', 'cmd', 'ready',
  'tcp', 'a', 'b', 'node', 'iface', 'at', 'apply', 'heal', 'sysctls', 'env', '__proto__', 'constructor', ''];
const leaf = fc.oneof(
  fc.constantFrom('demo', 'lan', 'n1', 'r1', 'eth0', '10.10.0.0/24', '10.10.0.11/24', '10.10.0.1', 'default', '5%', '10mbit', '20ms', 'fd00::1', 'STOP', 'always'),
  fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string()), tie('v'), { maxKeys: 5 })),
})).v;
const labish = fc.record({ lab: fc.oneof(fc.constant('demo'), leaf), networks: value, nodes: value, links: value, faults: value, schedule: value }, { requiredKeys: [] });

function onlyLabFileErrors(run: () => unknown, lines?: number): void {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof LabFileError, `${String(err)}\n${(err as Error).stack}`);
    assert.ok(err.problems.length > 0);
    if (lines !== undefined) for (const p of err.problems) assert.ok(p.line! >= 1 && p.line! <= lines + 1 && p.col! >= 1, JSON.stringify(p));
  }
}

test('arbitrary objects written as YAML: a lab or a LabFileError with positions in the file', () => {
  fc.assert(fc.property(fc.oneof(labish, value), (obj) => {
    const text = stringify(obj);
    onlyLabFileErrors(() => parseLab(text, 'x.yaml'), text.split('\n').length);
    onlyLabFileErrors(() => labFromObject(obj));
  }), { numRuns: 2000 });
});

test('arbitrary text: a lab or a LabFileError', () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => {
    onlyLabFileErrors(() => parseLab(text, 'x.yaml'), text.split('\n').length);
  }), { numRuns: 2000 });
});

/** Every path to a value in a parsed example, so one can be replaced. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (v !== null && typeof v === 'object') return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
  return [at];
}

test('a valid example with one value replaced by anything: a lab or a LabFileError (reaches the checks across values)', () => {
  for (const name of ['core', 'wan', 'raft']) {
    const base = parse(readFileSync(join(packageRoot(), `examples/labs/${name}.yaml`), 'utf8')) as Record<string, unknown>;
    const all = paths(base).filter((p) => p.length > 0);
    fc.assert(fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.oneof(leaf, value), (i, replacement) => {
      const copy = structuredClone(base);
      const path = all[i]!;
      let o = copy as Record<string | number, unknown>;
      for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
      o[path[path.length - 1]!] = replacement;
      const text = stringify(copy);
      onlyLabFileErrors(() => parseLab(text, 'x.yaml'), text.split('\n').length);
    }), { numRuns: 1000 });
  }
});
