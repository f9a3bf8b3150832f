/**
 * Layer: leaf (any module may import).
 *
 * The package's root directory, found by walking up from the running file — the same answer
 * from dist/src/… (tests, library) and from the bundled CLI (dist/cli.cjs).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NsboxError } from './errors.js';

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new NsboxError(`nsbox: cannot find the package root (package.json next to binding.gyp) above ${fileURLToPath(import.meta.url)}`, 'NSBOX_ERR_INTERNAL');
    dir = up;
  }
}
