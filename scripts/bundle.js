#!/usr/bin/env node
/**
 * Bundle the library (dist/nsbox.mjs, the package entry), the CLI (dist/cli.mjs), the CNI
 * plugin (dist/cni.mjs) and the CNI conformance suite (dist/cni-conformance.mjs) into one ES module each, from tsc's output. Node 20's ESM loader spends most of a cold start
 * resolving and linking modules: the library is ~90 files, and loading them one by one costs
 * about 100 ms and 6 MiB more than one file. better-sqlite3 (native) stays external.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['better-sqlite3'],
  sourcemap: true,
  logLevel: 'warning',
};
// commander and yaml are CommonJS: a bundle with them gets a real require for their node: built-ins.
const realRequire = { js: "import { createRequire as __nsboxCreateRequire } from 'node:module'; const require = __nsboxCreateRequire(import.meta.url);" };
await Promise.all([
  build({ ...common, entryPoints: ['dist/src/index.js'], outfile: 'dist/nsbox.mjs', banner: realRequire }),
  build({ ...common, entryPoints: ['dist/src/cli/main.js'], outfile: 'dist/cli.mjs', banner: realRequire }),
  // Runtimes call VERSION before every command: this one loads neither the addon nor SQLite.
  build({ ...common, entryPoints: ['dist/src/cni/main.js'], outfile: 'dist/cni.mjs' }),
  // The conformance suite (docs/cni.md "Conformance"): a black-box client, nothing of nsbox but net/.
  build({ ...common, entryPoints: ['dist/src/cni-conformance/main.js'], outfile: 'dist/cni-conformance.mjs' }),
]);
