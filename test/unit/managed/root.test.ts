/**
 * Unit: where a StateRoot is. An empty NSBOX_ROOT is an unset one (podman passes variables on
 * without values; an empty root once made every CNI DEL fail with "run is not an absolute
 * path"), and a relative root is taken from the working directory. Nothing is opened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DEFAULT_ROOT } from '../../../src/managed/index.js';
import { StateRoot } from '../../../src/managed/root.js';

function rootWith(env: string | undefined, root?: string): string {
  const before = process.env.NSBOX_ROOT;
  if (env === undefined) delete process.env.NSBOX_ROOT;
  else process.env.NSBOX_ROOT = env;
  try {
    return new StateRoot(root === undefined ? {} : { root }).dir;
  } finally {
    if (before === undefined) delete process.env.NSBOX_ROOT;
    else process.env.NSBOX_ROOT = before;
  }
}

test('NSBOX_ROOT: unset and empty are the default root; set is that root; --root wins', () => {
  assert.equal(rootWith(undefined), DEFAULT_ROOT);
  assert.equal(rootWith(''), DEFAULT_ROOT);
  assert.equal(rootWith('/srv/nsbox'), '/srv/nsbox');
  assert.equal(rootWith('/srv/nsbox', '/tmp/other'), '/tmp/other');
});

test('a relative root is taken from the working directory', () => {
  assert.equal(rootWith('state'), join(process.cwd(), 'state'));
  assert.equal(rootWith(undefined, 'x/../y'), join(process.cwd(), 'y'));
});
