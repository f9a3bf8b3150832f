#!/usr/bin/env node
/**
 * Bundle the library (dist/nsbox.mjs, the package entry), the CLI (dist/cli.cjs), the CNI
 * plugin (dist/cni.mjs) and the CNI conformance suite (dist/cni-conformance.mjs) into one file each, from tsc's output. Node 20's ESM loader spends most of a cold start
 * resolving and linking modules: the library is ~90 files, and loading them one by one costs
 * about 100 ms and 6 MiB more than one file. better-sqlite3 (native) stays external in the
 * library; the CLI bundles hold its JavaScript (scripts/cli-sqlite-load.js).
 *
 * The CLI is one CommonJS script (docs/benchmarks.md, "Cold start"): cheaper to load than an
 * ES module, and compiled through bin/nsbox.cjs with a V8 code cache. Its command files are
 * imported lazily (src/cli/command-table.ts), which esbuild turns into init functions: a
 * command's code, and the libraries only it uses (zod, yaml for labs), is evaluated only when
 * that command runs. `import.meta.url` becomes the bundle's own file URL. BUNDLE_HASH in
 * dist/cli.hash.json (a digest of the bundle) names its code cache, so a rebuilt bundle never
 * meets an old cache. dist/cli-core.cjs is the same without the heavy commands (below).
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
/** The CLI as one CommonJS script (the loader, bin/nsbox.cjs, compiles it with a code cache). */
const cliBundle = {
  ...common,
  format: 'cjs',
  // Half the bytes to read and compile at every start; the source map keeps the names.
  minify: true,
  entryPoints: ['dist/src/cli/main.js'],
  define: { 'import.meta.url': '__nsboxBundleUrl' },
  // better-sqlite3's JavaScript is in the bundle (scripts/cli-sqlite-load.js), its addon loaded
  // by path; `bindings` (its own lookup, only where the addon is not at its usual place) is not.
  external: ['bindings'],
  banner: { js: "var __nsboxBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
};
/**
 * The command files left out of dist/cli-core.cjs, with what only they use (labs: zod, yaml;
 * the CNI plugin and agent; gc, which reaps labs' leftovers): the core bundle is less than half the full one's bytes, and every
 * other command runs from it. bin/nsbox.cjs picks the bundle by the command's name.
 */
const HEAVY_COMMANDS = ['lab', 'cni', 'agent', 'gc', 'network', 'overlay', 'doctor']; // gc reaps labs' leftovers (lab/); network and overlay talk to etcd (@grpc, zod); doctor checks the overlay's drift against etcd
/** Packages the core bundle must not hold: a command that needs them goes in HEAVY_COMMANDS. */
const NOT_IN_CORE = /node_modules\/(zod|yaml|@grpc)\//;
/** src/store/sqlite-load.js replaced by scripts/cli-sqlite-load.js in the CLI bundles. */
const bundledSqlite = {
  name: 'nsbox-bundled-sqlite',
  setup(b) {
    b.onResolve({ filter: /(^|\/)sqlite-load\.js$/ }, (args) => {
      if (!args.importer.endsWith('/store/db.js')) return undefined;
      return { path: `${root}scripts/cli-sqlite-load.js` };
    });
  },
};
/**
 * commander requires node:child_process at its load, for executable subcommands nsbox does not
 * have: with node:net and node:stream under it, several ms of every command that starts no
 * process (ls, inspect, create, rm). In the CLI bundles that require is made on first use.
 */
const COMMANDER_CHILD_PROCESS = "const childProcess = require('node:child_process');";
const lazyCommanderChildProcess = {
  name: 'nsbox-lazy-commander-child-process',
  setup(b) {
    b.onLoad({ filter: /node_modules\/commander\/lib\/command\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes(COMMANDER_CHILD_PROCESS)) throw new Error(`bundle: ${args.path} no longer has ${COMMANDER_CHILD_PROCESS} (scripts/bundle.js, lazyCommanderChildProcess)`);
      return {
        contents: text.replace(COMMANDER_CHILD_PROCESS, "let childProcessLoaded; const childProcess = { spawn: (...a) => (childProcessLoaded ??= require('node:child_process')).spawn(...a) };"),
        loader: 'js',
      };
    });
  },
};
const withoutCommands = (files) => ({
  name: 'nsbox-core',
  setup(b) {
    b.onResolve({ filter: new RegExp(`/commands/(${files.join('|')})\\.js$`) }, (args) => ({ path: args.path, namespace: 'nsbox-left-out' }));
    b.onLoad({ filter: /.*/, namespace: 'nsbox-left-out' }, () => ({
      contents: "export const register = () => { throw new Error('unreachable: this command is in dist/cli.cjs, not dist/cli-core.cjs'); };",
      loader: 'js',
    }));
  },
});
// yaml (labs) is CommonJS: the library's ESM bundle gets a real require for its node: built-ins.
const realRequire = { js: "import { createRequire as __nsboxCreateRequire } from 'node:module'; const require = __nsboxCreateRequire(import.meta.url);" };
await Promise.all([
  build({ ...common, entryPoints: ['dist/src/index.js'], outfile: 'dist/nsbox.mjs', banner: realRequire }),
  build({ ...cliBundle, outfile: 'dist/cli.cjs', plugins: [bundledSqlite, lazyCommanderChildProcess] }),
  build({ ...cliBundle, outfile: 'dist/cli-core.cjs', plugins: [bundledSqlite, lazyCommanderChildProcess, withoutCommands(HEAVY_COMMANDS)], metafile: true }).then((r) => {
    if (!Object.keys(r.metafile.inputs).some((f) => f.includes('better-sqlite3/lib/database.js'))) throw new Error('bundle: dist/cli-core.cjs does not hold better-sqlite3 (scripts/cli-sqlite-load.js not put in place of src/store/sqlite-load.js)');
    const heavy = Object.keys(r.metafile.inputs).filter((f) => NOT_IN_CORE.test(f));
    if (heavy.length > 0) throw new Error(`bundle: dist/cli-core.cjs holds ${heavy[0]} (and ${heavy.length - 1} more): a command file of the core imports it; put that command in HEAVY_COMMANDS (scripts/bundle.js) or import it lazily`);
  }),
  // `nsbox run` handed to the agent (src/cli/run-handoff.ts): protocol and socket path only, none of the library.
  build({ ...cliBundle, entryPoints: ['dist/src/cli/run-handoff.js'], outfile: 'dist/cli-run.cjs', metafile: true }).then((r) => {
    const extra = Object.keys(r.metafile.inputs).filter((f) => !/dist\/src\/(cli\/run-handoff|agent\/protocol|agent\/socket-path)\.js$/.test(f));
    if (extra.length > 0) throw new Error(`bundle: dist/cli-run.cjs holds ${extra.join(', ')}: run-handoff.ts must stay small (it is loaded for every \`nsbox run\`)`);
  }),
  // Runtimes call VERSION before every command: this one loads neither the addon nor SQLite.
  build({ ...common, entryPoints: ['dist/src/cni/main.js'], outfile: 'dist/cni.mjs' }),
  // The conformance suite (docs/cni.md "Conformance"): a black-box client, nothing of nsbox but net/.
  build({ ...common, entryPoints: ['dist/src/cni-conformance/main.js'], outfile: 'dist/cni-conformance.mjs' }),
]);

// The code caches of the CLI bundles are keyed by their digests (bin/nsbox.cjs); the old caches go.
const digest = (file) => createHash('sha256').update(readFileSync(`${root}/dist/${file}`)).digest('hex').slice(0, 16);
const { COMMAND_FILES } = await import(`${root}/dist/src/cli/command-table.js`);
const heavy = COMMAND_FILES.filter((f) => f.names.some((n) => HEAVY_COMMANDS.includes(n)));
if (heavy.length !== HEAVY_COMMANDS.length) throw new Error(`bundle: HEAVY_COMMANDS ${HEAVY_COMMANDS} not all in src/cli/command-table.ts`);
const bundles = {
  core: { file: 'cli-core.cjs', hash: digest('cli-core.cjs'), commands: COMMAND_FILES.filter((f) => !heavy.includes(f)).flatMap((f) => f.names) },
  full: { file: 'cli.cjs', hash: digest('cli.cjs'), commands: COMMAND_FILES.flatMap((f) => f.names) },
};
writeFileSync(`${root}/dist/cli.hash.json`, `${JSON.stringify(bundles)}\n`);
for (const f of readdirSync(`${root}/dist`)) if (/^cli-.*\.v8cache$/.test(f)) rmSync(`${root}/dist/${f}`, { force: true });
rmSync(`${root}/dist/cli.mjs`, { force: true });
rmSync(`${root}/dist/cli.mjs.map`, { force: true });
