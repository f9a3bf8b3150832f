/**
 * Unit: the package's public entry resolves by its own name from inside the repository
 * (`import … from 'nsbox'`, Node's self-reference through package.json "exports"), carries
 * the names of the architecture contract, and exports exactly what docs/api.md lists under
 * "Everything the package exports": values from the module itself, types from its
 * declarations (dist/src/index.d.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root.js';

/** The backticked names after `label:` in the exports section of docs/api.md. */
function documented(label: 'Values' | 'Types'): string[] {
  const doc = readFileSync(join(packageRoot(), 'docs/api.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Everything the package exports'));
  const para = new RegExp(`^${label}: ([\\s\\S]*?)\\.$`, 'm').exec(section);
  assert.ok(para, `docs/api.md lists the ${label.toLowerCase()}`);
  return [...para[1]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!).sort();
}

test("import … from 'nsbox' works from the repository and exposes the contract's names", async () => {
  const nsbox = await import('nsbox');
  for (const name of ['setBasePath', 'generateKey', 'Sandbox', 'SandboxType', 'gc', 'NeighborSearchError', 'Rtnl', 'Networks', 'Manager', 'createNetns', 'withNetns', 'NetlinkSocket', 'openNetlinkSocket', 'RTNETLINK']) {
    assert.ok(name in nsbox, `nsbox exports ${name}`);
  }
  assert.equal(typeof nsbox.Sandbox.create, 'function');
  assert.equal(typeof nsbox.Sandbox.fromExternal, 'function');
  assert.deepEqual({ ...nsbox.SandboxType }, { Ingress: 0, LoadBalancer: 1 });
});

test('the exported values are exactly the ones docs/api.md documents', async () => {
  const nsbox = await import('nsbox');
  assert.deepEqual(Object.keys(nsbox).sort(), documented('Values'));
});

test('the exported types are exactly the ones docs/api.md documents', () => {
  const dts = readFileSync(join(packageRoot(), 'dist/src/index.d.ts'), 'utf8');
  const types = new Set<string>();
  for (const block of dts.matchAll(/export (type )?\{([^}]*)\}/g)) {
    for (const item of block[2]!.split(',').map((x) => x.trim()).filter(Boolean)) {
      // `type X as Y` is exported as Y
      if (block[1] !== undefined || item.startsWith('type ')) types.add(item.replace(/^type /, '').replace(/^\w+ as /, ''));
    }
  }
  assert.deepEqual([...types].sort(), documented('Types'));
});
