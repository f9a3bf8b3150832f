#!/usr/bin/env node
/**
 * Bundle the CLI into one ES module (dist/cli.mjs), so `nsbox` loads one file instead of
 * ~60: Node 20's ESM loader spends most of a cold start resolving and linking modules.
 * better-sqlite3 (native) stays external. The library itself is not bundled.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: ['dist/src/cli/main.js'],
  outfile: 'dist/cli.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['better-sqlite3'],
  // commander is CommonJS: give the bundle a real require for its node: built-ins.
  banner: { js: "import { createRequire as __nsboxCreateRequire } from 'node:module'; const require = __nsboxCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
