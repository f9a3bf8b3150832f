/**
 * Unit: the package's public entry resolves by its own name from inside the repository
 * (`import … from 'nsbox'`, Node's self-reference through package.json "exports") and carries
 * the public API named in the architecture contract.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

test("import … from 'nsbox' works from the repository and exposes the contract's names", async () => {
  const nsbox = await import('nsbox');
  for (const name of ['setBasePath', 'generateKey', 'Sandbox', 'SandboxType', 'gc', 'NeighborSearchError', 'Rtnl', 'Networks', 'createNetns', 'withNetns', 'NetlinkSocket', 'openNetlinkSocket', 'RTNETLINK']) {
    assert.ok(name in nsbox, `nsbox exports ${name}`);
  }
  assert.equal(typeof nsbox.Sandbox.create, 'function');
  assert.equal(typeof nsbox.Sandbox.fromExternal, 'function');
  assert.deepEqual({ ...nsbox.SandboxType }, { Ingress: 0, LoadBalancer: 1 });
});
