/**
 * Test helper for in-process lab tests: a temporary state root that is brought back to empty
 * when the test ends (every lab down, then every sandbox and network removed, through the CLI
 * as a user would, and the directory deleted).
 */
import type { TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nsbox } from './cli.js';

export function tempRootForTest(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), 'nsbt-labapi-'));
  t.after(async () => {
    await nsbox(root, 'lab', 'down', '--all');
    await nsbox(root, 'rm', '--all');
    rmSync(root, { recursive: true, force: true });
  });
  return root;
}
