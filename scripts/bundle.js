#!/usr/bin/env node
/**
 * Bundle the library (dist/nsbox.mjs, the package entry), the CLI (dist/cli.cjs), the CNI
 * plugin (dist/cni.mjs) and the CNI conformance suite (dist/cni-conformance.mjs) into one file each, from tsc's output. Node 20's ESM loader spends most of a cold start
 * resolving and linking modules: the library is ~90 files, and loading them one by one costs
 * about 100 ms and 6 MiB more than one file. better-sqlite3 (native) stays external.
 *
 * The CLI is one CommonJS script (docs/benchmarks.md, "Cold start"): cheaper to load than an
 * ES module, and compiled through bin/nsbox.cjs with a V8 code cache. Its command files are
 * imported lazily (src/cli/command-table.ts), which esbuild turns into init functions: a
 * command's code, and the libraries only it uses (zod, yaml for labs), is evaluated only when
 * that command runs. `import.meta.url` becomes the bundle's own file URL. BUNDLE_HASH in
 * dist/cli.hash.cjs (a digest of the bundle) names its code cache, so a rebuilt bundle never
 * meets an old cache.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
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
await Promise.all([
  build({ ...common, entryPoints: ['dist/src/index.js'], outfile: 'dist/nsbox.mjs' }),
  build({
    ...common,
    format: 'cjs',
    // Half the bytes to read and compile at every start; the source map keeps the names.
    minify: true,
    entryPoints: ['dist/src/cli/main.js'],
    outfile: 'dist/cli.cjs',
    define: { 'import.meta.url': '__nsboxBundleUrl' },
    banner: { js: "var __nsboxBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  }),
  // Runtimes call VERSION before every command: this one loads neither the addon nor SQLite.
  build({ ...common, entryPoints: ['dist/src/cni/main.js'], outfile: 'dist/cni.mjs' }),
  // The conformance suite (docs/cni.md "Conformance"): a black-box client, nothing of nsbox but net/.
  build({ ...common, entryPoints: ['dist/src/cni-conformance/main.js'], outfile: 'dist/cni-conformance.mjs' }),
]);

// The code cache of the CLI bundle is keyed by its digest (bin/nsbox.cjs); the old caches go.
const cli = readFileSync(`${root}/dist/cli.cjs`);
const hash = createHash('sha256').update(cli).digest('hex').slice(0, 16);
const { COMMAND_FILES } = await import(`${root}/dist/src/cli/command-table.js`);
const commands = COMMAND_FILES.flatMap((f) => f.names);
writeFileSync(`${root}/dist/cli.hash.cjs`, `module.exports = ${JSON.stringify({ hash, commands })};\n`);
for (const f of readdirSync(`${root}/dist`)) if (/^cli-.*\.v8cache$/.test(f)) rmSync(`${root}/dist/${f}`, { force: true });
rmSync(`${root}/dist/cli.mjs`, { force: true });
rmSync(`${root}/dist/cli.mjs.map`, { force: true });
