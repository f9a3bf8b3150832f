/**
 * Test helper for lab tests: a state root of a test's own (NsboxRoot, cli.ts) whose labs are
 * brought down (`nsbox lab down --all`) when the test ends, before the root's own teardown
 * removes what is left and checks the kernel. (In the other order, `rm --all` would give the
 * labs' link ends back to the host and forget the labs that own them.)
 */
import type { TestContext } from 'node:test';
import { NsboxRoot } from './cli.js';

export function labRootForTest(t: TestContext): NsboxRoot {
  const r = new NsboxRoot();
  t.after(async () => {
    await r.run('lab', 'down', '--all');
    await r.teardown();
  });
  return r;
}
