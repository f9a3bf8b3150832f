/**
 * Unit: the lab file's JSON Schema and examples: docs/lab.schema.json is labJsonSchema()'s
 * output (regenerate it with the command in docs/labs.md), and every file in examples/labs/
 * parses, validates and compiles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/package-root.js';
import { Lab, labJsonSchema, labJsonSchemaText } from '../../../src/lab/index.js';

test('docs/lab.schema.json is the schema labJsonSchema() makes (never stale)', () => {
  assert.equal(readFileSync(join(packageRoot(), 'docs/lab.schema.json'), 'utf8'), labJsonSchemaText());
});

test('the JSON Schema is strict everywhere and carries the units\' patterns', () => {
  const schema = labJsonSchema();
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  const objects: Record<string, unknown>[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'object' && o.properties !== undefined) objects.push(o);
      Object.values(o).forEach(walk);
    }
  };
  walk(schema);
  assert.ok(objects.length >= 15, `${objects.length} objects`);
  for (const o of objects) assert.equal(o.additionalProperties, false, Object.keys(o.properties as object).join(','));
  const text = JSON.stringify(schema);
  for (const needle of ['mbit', 'ms|s|m|h', '%$', '"a->b"', '"b->a"', '"both"']) assert.ok(text.includes(needle), needle);
});

test('every example in examples/labs/ parses, validates and compiles', async () => {
  const dir = join(packageRoot(), 'examples/labs');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  assert.deepEqual(files, ['core.yaml', 'raft.yaml', 'star100.yaml', 'wan.yaml']);
  const nodes: Record<string, number> = {};
  for (const f of files) {
    const lab = await Lab.load(join(dir, f));
    assert.ok(lab.compile().resources.length > 0, f);
    nodes[f] = lab.spec.nodes.length;
  }
  assert.deepEqual(nodes, { 'core.yaml': 3, 'raft.yaml': 3, 'star100.yaml': 100, 'wan.yaml': 4 });
});
